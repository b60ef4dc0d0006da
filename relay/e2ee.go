package relay

import (
	"errors"
	"fmt"
	"time"

	"mimichat/mls"
	"mimichat/proto"
	"mimichat/relay/store"
)

// The connection-side half of encrypted rooms: what a reader checks before
// a request reaches the writer (parsing and signature work that needs no
// room state, and store reads, which the writer's batch must never wait
// on), and the version 5 read requests.

// e2eeRequest is what the reader learned of an encrypted room's request.
type e2eeRequest struct {
	device string // the connection's device from its hello
	// bound: the relay binds tokens to devices (devicetokens.go), so an
	// external joiner must be the connection's own device
	bound   bool
	group   *group         // create_room: the new room's group
	epoch   uint64         // submit: the PrivateMessage's epoch
	welcome []store.Device // invite: the devices the Welcome is for
	// welcomeTree: the inviter speaks version 8, so its Welcome may leave
	// the ratchet tree out; the relay keeps its tree of the Welcome's epoch
	// beside it (welcome_list's ratchet_tree)
	welcomeTree bool
	// noDevices: an invite without a commit of a user who has no device
	// yet (policy only; their first device joins by external commit)
	noDevices bool
}

// needsE2EEVersion refuses a request touching an encrypted room from a
// connection that cannot read its events or write its messages.
func (c *conn) needE2EEVersion(room string) *refusal {
	if c.v >= e2eeVersion {
		return nil
	}
	if r := c.srv.hub.room(room); r != nil && r.encrypted {
		return &refusal{code: proto.CodeBadField, field: "room", reason: "room is end-to-end encrypted; needs protocol version 5"}
	}
	return nil
}

// hasMLSKeys reports the first version 5 key a room_op carries.
func hasMLSKeys(f *proto.RoomOp) string {
	switch {
	case len(f.MLS) > 0:
		return "mls"
	case len(f.Proposals) > 0:
		return "proposals"
	case len(f.Welcome) > 0:
		return "welcome"
	case len(f.GroupInfo) > 0:
		return "group_info"
	}
	return ""
}

// e2eeRequest checks a create_room's or room_op's version 5 keys against
// the room's kind, and resolves what needs the store.
func (c *conn) e2eeRequest(f proto.Frame) (*e2eeRequest, *refusal) {
	switch f := f.(type) {
	case *proto.CreateRoom:
		if len(f.GroupInfo) == 0 {
			return nil, nil
		}
		if c.v < e2eeVersion {
			return nil, &refusal{code: proto.CodeBadField, field: "group_info", reason: "encrypted rooms need protocol version 5"}
		}
		g, ref := newGroup(proto.RoomURI(c.srv.hub.domain, f.Room), c.user, f.Suite, f.GroupInfo)
		if ref != nil {
			return nil, ref
		}
		return &e2eeRequest{device: c.device, group: g}, nil
	case *proto.RoomOp:
		r := c.srv.hub.room(f.Room)
		if r == nil {
			return nil, nil // the writer refuses no_such_room
		}
		if !r.encrypted {
			if k := hasMLSKeys(f); k != "" {
				return nil, &refusal{code: proto.CodeBadField, field: k, reason: "the room is not end-to-end encrypted"}
			}
			if f.Op == proto.KindCommit {
				return nil, &refusal{code: proto.CodeBadField, field: "op", reason: "commit is for end-to-end encrypted rooms"}
			}
			return nil, nil
		}
		switch f.Op {
		case proto.KindInvite, proto.KindKick, proto.KindBan, proto.KindJoin, proto.KindLeave, proto.KindCommit:
			if c.v < e2eeVersion {
				return nil, &refusal{code: proto.CodeBadField, field: "room", reason: "room is end-to-end encrypted; needs protocol version 5"}
			}
		}
		e2 := &e2eeRequest{device: c.device, bound: deviceTokens(c.srv.db) != nil}
		if f.Op == proto.KindInvite && len(f.MLS) == 0 {
			ref := c.inviteWithoutDevices(f.Target)
			if ref != nil {
				return nil, ref
			}
			e2.noDevices = true
		}
		if f.Op == proto.KindInvite && len(f.Welcome) > 0 {
			devs, ref := c.welcomeDevices(f)
			if ref != nil {
				return nil, ref
			}
			e2.welcome = devs
			e2.welcomeTree = c.v >= proto.WelcomeTreeVersion
		}
		return e2, nil
	}
	return nil, nil
}

// welcomeDevices resolves the KeyPackageRefs a Welcome is encrypted to into
// the target's devices that uploaded those KeyPackages.
func (c *conn) welcomeDevices(f *proto.RoomOp) ([]store.Device, *refusal) {
	refs, err := mls.WelcomeRecipients(f.Welcome)
	if err != nil {
		return nil, badCommit("welcome", "not a Welcome: %v", err)
	}
	if len(refs) == 0 {
		return nil, badCommit("welcome", "the Welcome is for nobody")
	}
	ctx, cancel := storeCtx()
	defer cancel()
	out := make([]store.Device, 0, len(refs))
	for i, ref := range refs {
		d, err := c.srv.db.KeyPackageOwner(ctx, ref)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, badCommit("welcome", "recipient %d is a KeyPackage this relay did not hand out", i)
		case err != nil:
			c.log.Error("look up a Welcome recipient", "err", err)
			return nil, refuse(proto.CodeInternal, "storage failed; retry")
		case d.User != f.Target:
			return nil, badCommit("welcome", "recipient %d is device %s, not a device of %s", i, d.URI, f.Target)
		}
		out = append(out, d)
	}
	return out, nil
}

// submitE2EE checks an encrypted room's message: a PrivateMessage
// (application) of the room's group. Its epoch is checked by the writer,
// after dedupe, against the epoch then.
func (c *conn) submitE2EE(f *proto.Submit) (*e2eeRequest, *refusal) {
	r := c.srv.hub.room(f.Room)
	if r == nil || !r.encrypted {
		return nil, nil
	}
	// Membership first: a non-member learns nothing from the content rules
	// (not even that the room is encrypted), and gets the refusal a client
	// reports as permanent. The writer checks it again in order.
	r.mu.RLock()
	ref := r.canPost(c.user)
	r.mu.RUnlock()
	if ref != nil {
		return nil, ref
	}
	if c.v < e2eeVersion {
		return nil, &refusal{code: proto.CodeBadField, field: "room", reason: "room is end-to-end encrypted; needs protocol version 5"}
	}
	h, err := mls.PeekMessage(f.Content)
	bad := func(format string, args ...any) *refusal {
		return &refusal{code: proto.CodeBadField, field: "content", reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case err != nil:
		return nil, bad("not an MLS message: %v", err)
	case h.WireFormat != mls.WirePrivateMessage:
		return nil, bad("messages in an encrypted room are PrivateMessages (wire format %d)", h.WireFormat)
	case h.ContentType != mls.ContentApplication:
		return nil, bad("a submit carries an application message; handshakes go in room_op")
	case string(h.GroupID) != r.uri:
		return nil, bad("a message of another group")
	}
	return &e2eeRequest{device: c.device, epoch: h.Epoch}, nil
}

// getGroupInfo answers an encrypted room's latest GroupInfo and pending
// proposals, for an external join.
func (c *conn) getGroupInfo(f *proto.GetGroupInfo) *refusal {
	if c.v < e2eeVersion {
		return refuse(proto.CodeUnknownType, "get_group_info needs protocol version 5")
	}
	r, ref := c.srv.hub.roomForRead(f.Room)
	if ref != nil {
		return ref
	}
	if !r.encrypted {
		return &refusal{code: proto.CodeBadField, field: "room", reason: "the room is not end-to-end encrypted"}
	}
	r.mu.RLock()
	m := r.memberOf(c.user)
	switch {
	case m.state == proto.StateBanned:
		ref = refuse(proto.CodeBanned, "you are banned from this room")
	case !isMember(m.state) && r.join != proto.JoinOpen:
		ref = refuse(proto.CodeNotMember, "you are not a member of this room")
	}
	var out *proto.GroupInfo
	if ref == nil && !r.grp.giTree && c.v < proto.TreeApartVersion {
		ref = &refusal{code: proto.CodeBadField, field: "room",
			reason: "the room's GroupInfo comes without its ratchet tree; needs protocol version 7"}
	}
	if ref == nil {
		out = &proto.GroupInfo{RID: f.RID, Room: r.uri, Epoch: r.grp.hub.Epoch(), GroupInfo: r.grp.groupInfo,
			Proposals: r.grp.hub.PendingProposals()}
		if !r.grp.giTree {
			// The tree apart (version 7): the hub's, of the same epoch.
			out.RatchetTree = r.grp.ratchetTree()
		}
	}
	r.mu.RUnlock()
	if ref != nil {
		return ref
	}
	c.srv.limits.readCharge(c.user, c.send(out))
	return nil
}

// inviteWithoutDevices allows an invite without a commit only of a user who
// has no device yet: there is nothing to add to the group, and the user's
// first device joins by external commit once invited. A user with devices
// must be added by a commit, so the group and the policy agree.
func (c *conn) inviteWithoutDevices(target string) *refusal {
	ctx, cancel := storeCtx()
	defer cancel()
	ds, err := c.srv.db.Devices(ctx, target, time.Now())
	if err != nil {
		c.srv.metrics.storeErrors.Add(1)
		c.log.Error("list an invitee's devices", "err", err)
		return refuse(proto.CodeInternal, "storage failed; retry")
	}
	if len(ds) > 0 {
		return &refusal{code: proto.CodeBadField, field: "mls", reason: fmt.Sprintf(
			"required for invite in an end-to-end encrypted room: %s has %d device(s); claim their KeyPackages and commit the Adds", target, len(ds))}
	}
	return nil
}
