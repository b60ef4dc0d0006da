package relay

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"mimichat/mls"
	"mimichat/proto"
	"mimichat/relay/store"
)

// End-to-end encrypted rooms (protocol version 5). The relay is each
// encrypted room's MLS hub: it follows the group's public state
// (mls.HubGroup) from the handshakes in the room log, verifies every
// handshake before it enters the log, refuses handshakes of any epoch but
// the current one (so concurrent commits never fork the group), and keeps
// the group in step with the room's policy, which stays the authority:
// after every accepted commit each leaf belongs to an invited or joined user.

// e2eeVersion is the first protocol version with encrypted rooms.
const e2eeVersion = 5

// group is an encrypted room's MLS group as the relay follows it. Guarded
// by its room's mu; only the writer changes it.
type group struct {
	hub       *mls.HubGroup
	suite     uint16
	groupInfo []byte // latest GroupInfo, with or without the ratchet tree (version 7)
	giTree    bool   // groupInfo carries the ratchet tree
	// saved is hub.SaveWithoutTree() of the current state: what the store
	// holds beside the tree's chunks. The tree is stored in 64-node chunks,
	// and each record writes only those whose version differs from
	// storedVers (the versions the store holds, or nil after loading an
	// older row: then every chunk is written once).
	saved      []byte
	storedVers []uint64
	// rs is the roster (roster.go), advanced by each commit; unchecked and
	// checkedAll say which users' leaves the next commit's leaf invariant
	// check must look at.
	rs         *roster
	unchecked  map[string]bool
	checkedAll bool
	// tree caches the encoded ratchet tree of treeEpoch for get_group_info
	// (readers hold the room's read lock only, so treeMu serialises them).
	treeMu    sync.Mutex
	tree      []byte
	treeEpoch uint64
}

// record is what the store keeps of the group: the state, the GroupInfo and
// the tree chunks changed since the last record (O(log n) per commit). A
// failed batch makes the relay reload from the store, which resets
// storedVers to what the store holds.
func (g *group) record(room string) store.Group {
	width, vers := g.hub.TreeVersions()
	sg := store.Group{Room: room, Suite: g.suite, Epoch: g.hub.Epoch(), State: g.saved, GroupInfo: g.groupInfo, TreeWidth: width}
	for i, v := range vers {
		if i >= len(g.storedVers) || g.storedVers[i] != v {
			sg.TreeChunks = append(sg.TreeChunks, store.TreeChunk{Index: uint32(i), Data: g.hub.EncodeTreeChunk(i)})
		}
	}
	g.storedVers = vers
	return sg
}

// loadGroup restores a stored group: from its tree chunks, or from an older
// row whose tree is in the GroupInfo (or the state).
func loadGroup(sg *store.Group) (*group, error) {
	var hub *mls.HubGroup
	var err error
	var vers []uint64
	if sg.TreeWidth != 0 {
		chunks := make([][]byte, len(sg.TreeChunks))
		for i, c := range sg.TreeChunks {
			chunks[i] = c.Data
		}
		if hub, err = mls.LoadHubGroupChunks(sg.State, sg.TreeWidth, chunks); err == nil {
			_, vers = hub.TreeVersions()
		}
	} else {
		hub, err = mls.LoadHubGroupBeside(sg.State, sg.GroupInfo)
	}
	if err != nil {
		return nil, fmt.Errorf("relay: group of %s: %w", sg.Room, err)
	}
	g := &group{hub: hub, suite: sg.Suite, storedVers: vers}
	if err := g.save(sg.GroupInfo); err != nil {
		return nil, fmt.Errorf("relay: group of %s: %w", sg.Room, err)
	}
	return g, nil
}

// save snapshots the hub after a change, with groupInfo, the GroupInfo of
// its epoch (checked against the hub), which the store keeps with it.
func (g *group) save(groupInfo []byte) error {
	b, err := g.hub.SaveWithoutTree()
	if err != nil {
		return fmt.Errorf("save hub state: %w", err)
	}
	hasTree, err := mls.GroupInfoHasTree(groupInfo)
	if err != nil {
		return fmt.Errorf("stored GroupInfo: %w", err)
	}
	g.saved, g.groupInfo, g.giTree = b, groupInfo, hasTree
	return nil
}

// ratchetTree is the encoded tree of the current epoch, for a joiner whose
// GroupInfo leaves it out: O(n) once per epoch, not per commit. Called with
// the room's lock held (read or write).
func (g *group) ratchetTree() []byte {
	g.treeMu.Lock()
	defer g.treeMu.Unlock()
	if g.tree == nil || g.treeEpoch != g.hub.Epoch() {
		g.tree, g.treeEpoch = g.hub.RatchetTree(), g.hub.Epoch()
	}
	return g.tree
}

// leaf is one member leaf of the group, with the device its credential names.
type leaf struct {
	index  uint32
	user   string
	device string
}

func leafOf(m mls.Member) (leaf, error) {
	d, err := mls.ParseDeviceCredential(m.Credential)
	if err != nil {
		return leaf{}, fmt.Errorf("leaf %d: %w", m.Leaf, err)
	}
	return leaf{index: m.Leaf, user: d.UserURI(), device: d.DeviceURI()}, nil
}

// leafOrBlank is m's leaf. A leaf whose credential is not a device
// credential cannot have entered through this relay; it is listed with an
// empty user, which no policy state admits.
func leafOrBlank(m mls.Member) leaf {
	l, err := leafOf(m)
	if err != nil {
		l = leaf{index: m.Leaf}
	}
	return l
}

// badCommit is a bad_commit refusal naming the key at fault.
func badCommit(field, format string, args ...any) *refusal {
	return &refusal{code: proto.CodeBadCommit, field: field, reason: fmt.Sprintf(format, args...)}
}

// staleEpoch refuses a handshake of another epoch than the group's.
func staleEpoch(field string, got, cur uint64) *refusal {
	return &refusal{code: proto.CodeStaleEpoch, field: field, epoch: cur,
		reason: fmt.Sprintf("message for epoch %d; the room is at epoch %d: process the log and retry", got, cur)}
}

// header checks the cleartext header of a handshake message: a
// PublicMessage of the room's group, of content type ct, for the current
// epoch.
func (g *group) header(room, field string, msg []byte, ct uint8) (*mls.MessageHeader, *refusal) {
	h, err := mls.PeekMessage(msg)
	if err != nil {
		return nil, badCommit(field, "not an MLS group message: %v", err)
	}
	switch {
	case h.WireFormat != mls.WirePublicMessage:
		return nil, badCommit(field, "handshakes must be PublicMessages (wire format %d)", h.WireFormat)
	case string(h.GroupID) != room:
		return nil, badCommit(field, "message of another group")
	case h.ContentType != ct:
		want := "a commit"
		if ct == mls.ContentProposal {
			want = "a proposal"
		}
		return nil, badCommit(field, "must be %s (content type %d)", want, h.ContentType)
	case h.Epoch != g.hub.Epoch():
		return nil, staleEpoch(field, h.Epoch, g.hub.Epoch())
	}
	return h, nil
}

// verify runs hub.Verify, turning its errors into refusals.
func (g *group) verify(field string, msg []byte) (*mls.HubMessage, *refusal) {
	hm, err := g.hub.Verify(msg)
	switch {
	case errors.Is(err, mls.ErrWrongEpoch):
		return nil, &refusal{code: proto.CodeStaleEpoch, field: field, epoch: g.hub.Epoch(), reason: err.Error()}
	case err != nil:
		return nil, badCommit(field, "%v", err)
	}
	return hm, nil
}

// opCommit is what applyOp needs to check a room operation's handshake.
type opCommit struct {
	op      *proto.RoomOp
	actor   string
	device  string // the connection's device from its hello, or ""
	bound   bool   // tokens are bound to devices: an external joiner must be device
	ch      change // the operation's own state change
	welcome []store.Device
	// noDevices: an invite of a user with no device, allowed without a
	// commit (checked against the device directory before the writer)
	noDevices bool
}

// stateAfter is user's membership state once the operation is applied.
func (r *room) stateAfter(oc *opCommit, user string) proto.State {
	if oc.ch.user != "" && user == oc.ch.user {
		return oc.ch.state
	}
	return r.memberOf(user).state
}

func isMember(s proto.State) bool { return s == proto.StateInvited || s == proto.StateJoined }

// checkOpMLS applies the handshake of a room operation in an encrypted room
// to the room's group, or refuses it leaving the group as it was. The
// caller has authorized the operation by policy. Called by the writer with
// r.mu held. changed reports whether the group changed (and must be stored).
func (r *room) checkOpMLS(oc *opCommit) (changed bool, ref *refusal, err error) {
	g, f := r.grp, oc.op
	rs := g.roster()
	need := false
	switch f.Op {
	case proto.KindInvite:
		need = !oc.noDevices
	case proto.KindCommit:
		need = true
	case proto.KindKick, proto.KindBan:
		need = len(rs.byUser[f.Target]) > 0
		if !need && len(f.MLS) > 0 {
			return false, &refusal{code: proto.CodeBadField, field: "mls", reason: fmt.Sprintf("%s has no device in the group: nothing to remove", f.Target)}, nil
		}
	case proto.KindLeave:
		need = len(rs.byUser[oc.actor]) > 0
		if !need && len(f.MLS) > 0 {
			return false, &refusal{code: proto.CodeBadField, field: "mls", reason: "you have no device in the group: nothing to propose"}, nil
		}
	case proto.KindJoin:
		if len(f.MLS) == 0 {
			mine := rs.of(oc.actor)
			in := len(mine) > 0
			if oc.device != "" {
				in = slices.ContainsFunc(mine, func(l leaf) bool { return l.device == oc.device })
			}
			if !in {
				return false, &refusal{code: proto.CodeBadField, field: "mls",
					reason: "your device is not in the room's group: join with an external commit (get_group_info)"}, nil
			}
			return false, nil, nil
		}
	default:
		return false, nil, nil // metadata: proto refused any MLS key already
	}
	if len(f.MLS) == 0 {
		if need {
			return false, &refusal{code: proto.CodeBadField, field: "mls", reason: fmt.Sprintf("required for %s in an end-to-end encrypted room", f.Op)}, nil
		}
		return false, nil, nil
	}
	if f.Op == proto.KindLeave {
		return r.checkLeave(oc, rs)
	}
	return r.checkCommit(oc, rs)
}

// checkCommit verifies and applies a commit (every op but leave).
func (r *room) checkCommit(oc *opCommit, rs *roster) (bool, *refusal, error) {
	g, f := r.grp, oc.op
	if f.Op == proto.KindInvite && len(f.Welcome) == 0 {
		return false, &refusal{code: proto.CodeBadField, field: "welcome", reason: "required with an invite's commit"}, nil
	}
	if _, ref := g.header(r.uri, "mls", f.MLS, mls.ContentCommit); ref != nil {
		return false, ref, nil
	}
	hm, ref := g.verify("mls", f.MLS)
	if ref != nil {
		return false, ref, nil
	}
	hc := hm.Commit
	if hm.FromLeaf == nil {
		return false, badCommit("mls", "commit from no member leaf"), nil
	}
	committer, err := leafOf(*hm.FromLeaf)
	if err != nil {
		return false, badCommit("mls", "committer: %v", err), nil
	}
	if committer.user != oc.actor {
		return false, badCommit("mls", "the committer's leaf is a device of %s, not yours", committer.user), nil
	}
	if hc.External {
		switch {
		case f.Op != proto.KindJoin && f.Op != proto.KindCommit:
			return false, badCommit("mls", "an external commit is a join or a commit, not %s", f.Op), nil
		case oc.bound && oc.device == "":
			// Per-device tokens: a device joins on a connection of its
			// own, so a removed device never can (it cannot connect).
			return false, badCommit("mls", "an external commit needs a connection of the joining device (hello.device)"), nil
		case oc.device != "" && committer.device != oc.device:
			return false, badCommit("mls", "the external joiner is device %s, not this connection's %s", committer.device, oc.device), nil
		case !isMember(r.stateAfter(oc, oc.actor)):
			return false, badCommit("mls", "%s is not invited to or joined in this room", oc.actor), nil
		}
	} else if f.Op == proto.KindJoin {
		return false, badCommit("mls", "a join's commit is an external commit by the joining device"), nil
	}
	if len(hc.OmittedSelfRemoves) > 0 {
		return false, badCommit("mls", "the commit omits the SelfRemove of leaf %d the relay holds: commit it", hc.OmittedSelfRemoves[0]), nil
	}
	// Adds: only an invite adds, and only the target's devices; the
	// Welcome goes to exactly the devices added.
	var added []string
	for _, m := range hc.Joined {
		l, err := leafOf(m)
		if err != nil {
			return false, badCommit("mls", "added %v", err), nil
		}
		if hc.External && m.Leaf == committer.index {
			continue
		}
		if f.Op != proto.KindInvite {
			return false, badCommit("mls", "only an invite adds devices; this %s adds %s", f.Op, l.device), nil
		}
		if l.user != f.Target {
			return false, badCommit("mls", "the invite of %s adds device %s of %s", f.Target, l.device, l.user), nil
		}
		added = append(added, l.device)
	}
	if f.Op == proto.KindInvite {
		if len(added) == 0 {
			return false, badCommit("mls", "the invite's commit adds no device of %s", f.Target), nil
		}
		var routed []string
		for _, d := range oc.welcome {
			routed = append(routed, d.URI)
		}
		slices.Sort(added)
		slices.Sort(routed)
		if !slices.Equal(slices.Compact(added), slices.Compact(routed)) {
			return false, badCommit("welcome", "the Welcome is for devices %v; the commit adds %v", routed, added), nil
		}
	}
	// Removes: a device of the committer's own user, a device of a user
	// who is (after the op) no member, or a SelfRemove of the leaf itself.
	removed := map[uint32]bool{}
	for _, m := range hc.Removed {
		removed[m.Leaf] = true
		if slices.Contains(hc.SelfRemoved, m.Leaf) {
			continue
		}
		l, err := leafOf(m)
		if err != nil {
			continue // not a device credential: anyone may remove it
		}
		if l.user != oc.actor && isMember(r.stateAfter(oc, l.user)) {
			return false, badCommit("mls", "the commit removes device %s of %s, who is still %s", l.device, l.user, r.stateAfter(oc, l.user)), nil
		}
	}
	// The leaf invariant: every remaining leaf is an invited or joined
	// user's (checked for the users whose membership changed since it last
	// held: strayLeaf). An external joiner cannot remove others' leaves
	// (only its own old one), so it is held only to what it adds.
	if !hc.External {
		l, found := r.strayLeaf(oc, rs, removed)
		r.crossCheck(oc, rs, removed, l, found)
		if found {
			who := l.user
			if who == "" {
				who = "no user (not a device credential)"
			}
			return false, badCommit("mls", "the commit leaves leaf %d of %s, who is %s: remove it", l.index, who, r.stateAfter(oc, l.user)), nil
		}
	}
	// The GroupInfo, with or without the tree, against the epoch the commit
	// leads to, before anything changes: signature and GroupContext (tree
	// hash, transcript hash), O(log n) without the tree.
	if err := g.hub.CheckGroupInfoAfter(hm, f.GroupInfo); err != nil {
		return false, badCommit("group_info", "not the new epoch's GroupInfo: %v", err), nil
	}
	if err := g.hub.Apply(hm); err != nil {
		return false, nil, fmt.Errorf("apply a verified commit: %w", err)
	}
	if err := g.save(f.GroupInfo); err != nil {
		return false, nil, err
	}
	if !hc.External {
		// Every leaf kept is a member's (as the operation leaves the
		// policy): nothing left to check but what changes from here.
		clear(g.unchecked)
		g.checkedAll = true
	}
	g.advanceRoster(hc)
	return true, nil, nil
}

// checkLeave verifies a leave's SelfRemove and Remove proposals and holds
// them as the epoch's pending proposals; the next commit must carry them.
func (r *room) checkLeave(oc *opCommit, rs *roster) (bool, *refusal, error) {
	g, f := r.grp, oc.op
	if _, ref := g.header(r.uri, "mls", f.MLS, mls.ContentProposal); ref != nil {
		return false, ref, nil
	}
	self, ref := g.verify("mls", f.MLS)
	if ref != nil {
		return false, ref, nil
	}
	if self.Proposal == nil || self.Proposal.Type != mls.ProposalSelfRemove || self.FromLeaf == nil {
		return false, badCommit("mls", "a leave's mls is the leaving device's SelfRemove proposal"), nil
	}
	leaver, err := leafOf(*self.FromLeaf)
	if err != nil || leaver.user != oc.actor {
		return false, badCommit("mls", "the SelfRemove is not from a device of yours"), nil
	}
	covered := map[uint32]bool{leaver.index: true}
	msgs := []*mls.HubMessage{self}
	for i, p := range f.Proposals {
		if _, ref := g.header(r.uri, "proposals", p, mls.ContentProposal); ref != nil {
			ref.reason = fmt.Sprintf("proposal %d: %s", i, ref.reason)
			return false, ref, nil
		}
		hm, ref := g.verify("proposals", p)
		if ref != nil {
			ref.reason = fmt.Sprintf("proposal %d: %s", i, ref.reason)
			return false, ref, nil
		}
		if hm.Proposal == nil || hm.Proposal.Type != mls.ProposalRemove || hm.FromLeaf == nil || hm.FromLeaf.Leaf != leaver.index {
			return false, badCommit("proposals", "proposal %d is not a Remove by the leaving device", i), nil
		}
		if l, ok := rs.at(hm.Proposal.Removed); !ok || l.user != oc.actor {
			return false, badCommit("proposals", "proposal %d removes leaf %d, which is not a device of yours", i, hm.Proposal.Removed), nil
		}
		covered[hm.Proposal.Removed] = true
		msgs = append(msgs, hm)
	}
	for _, l := range rs.of(oc.actor) {
		if !covered[l.index] {
			return false, badCommit("proposals", "no Remove proposal for your device %s (leaf %d)", l.device, l.index), nil
		}
	}
	before := g.hub.Clone()
	for _, hm := range msgs {
		if err := g.hub.Apply(hm); err != nil {
			g.hub = before
			return false, nil, fmt.Errorf("hold a verified proposal: %w", err)
		}
	}
	if err := g.save(g.groupInfo); err != nil {
		return false, nil, err
	}
	return true, nil, nil
}

// newGroup checks a create_room's GroupInfo: the creator's one-member group
// at epoch 0 whose group ID is the room URI.
func newGroup(room, creator string, suite uint16, groupInfo []byte) (*group, *refusal) {
	bad := func(format string, args ...any) *refusal {
		return &refusal{code: proto.CodeBadField, field: "group_info", reason: fmt.Sprintf(format, args...)}
	}
	hub, err := mls.NewHubGroup(groupInfo, nil)
	if err != nil {
		return nil, bad("not a GroupInfo with its ratchet tree: %v", err)
	}
	switch {
	case string(hub.GroupID()) != room:
		return nil, bad("the group ID must be the room URI %s", room)
	case hub.Epoch() != 0:
		return nil, bad("a new room's group is at epoch 0, not %d", hub.Epoch())
	case uint16(hub.CipherSuite()) != suite:
		return nil, &refusal{code: proto.CodeBadField, field: "suite", reason: fmt.Sprintf("suite %d, but the GroupInfo's is %d", suite, hub.CipherSuite())}
	}
	ms := hub.Members()
	if len(ms) != 1 {
		return nil, bad("a new room's group has exactly one leaf, the creator's; it has %d", len(ms))
	}
	l, err := leafOf(ms[0])
	if err != nil {
		return nil, bad("%v", err)
	}
	if l.user != creator {
		return nil, bad("the leaf is a device of %s, not of the creator", l.user)
	}
	g := &group{hub: hub, suite: suite}
	if err := g.save(groupInfo); err != nil {
		return nil, bad("%v", err)
	}
	return g, nil
}
