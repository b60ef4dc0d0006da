package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"mimichat/mls"
	"mimichat/proto"
)

// Membership of end-to-end encrypted rooms as MLS operations (protocol
// version 5): each room_op carries its commit (or a leaver's proposals),
// the relay verifies it against its view of the group and orders it in the
// room's log, and every member processes it there (openEntryLocked). A
// commit refused stale_epoch is dropped; the session catches up and makes
// it again.

// e2eeVersion is the first protocol version with encrypted rooms.
const e2eeVersion = 5

// encryptNewRooms makes CreateRoom's rooms end-to-end encrypted on a
// version 5 relay. Off until the relay serves encrypted rooms (it refuses
// create_room's group_info until then; /work/E2EE.md).
const encryptNewRooms = true

// commitAttempts bounds the retries of a commit refused stale_epoch.
const commitAttempts = 8

// randomSlug is a room's local name when the user gave none: an encrypted
// room's group ID is its URI, so the client names it before the relay does.
func randomSlug() string {
	var b [9]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// createEncrypted creates an end-to-end encrypted room: a one-member group
// whose ID is the room URI, saved before the relay hears of it.
func (s *Session) createEncrypted(ctx context.Context, c *conn, o CreateRoomOptions) (OpResult, error) {
	if o.Slug == "" {
		o.Slug = randomSlug()
	}
	uri := roomURI(c.welcome.Domain, o.Slug)
	g, err := mls.NewGroup(s.device.id, []byte(uri), nil)
	if err != nil {
		return OpResult{}, fmt.Errorf("session: create room: %w", err)
	}
	rg := newRoomGroup(g)
	gi, err := g.GroupInfo(true)
	if err != nil {
		return OpResult{}, fmt.Errorf("session: create room: %w", err)
	}
	suite := uint16(g.CipherSuite())
	rid := s.rid()
	f, err := c.request(ctx, rid, &proto.CreateRoom{RID: rid, Room: o.Slug, Name: o.Name, Topic: o.Topic, History: o.History,
		Join: o.Join, Suite: suite, GroupInfo: gi})
	if err != nil {
		return OpResult{}, fmt.Errorf("session: create room: %w", err)
	}
	ok, isOK := f.(*proto.OK)
	if !isOK || ok.Room == "" {
		return OpResult{}, fmt.Errorf("session: create room: unexpected answer %s", f.FrameType())
	}
	if ok.Room != uri {
		return OpResult{}, fmt.Errorf("session: create room: the relay named it %s, the group is %s", ok.Room, uri)
	}
	state, err := s.saveGroup(uri, rg)
	if err != nil {
		return OpResult{}, err
	}
	s.mu.Lock()
	err = s.store.SaveGroup(uri, state)
	if err == nil {
		rg.dirty = false
		s.groups[uri] = rg
		s.markEncryptedLocked(uri, suite)
	}
	s.mu.Unlock()
	if err != nil {
		return OpResult{}, err
	}
	if err := s.subscribe(ctx, c, ok.Room); err != nil {
		return OpResult{}, fmt.Errorf("session: subscribe new room %s: %w", ok.Room, err)
	}
	return OpResult{Room: ok.Room, Seq: ok.Seq, Time: msTime(ok.TS)}, nil
}

// encryptedGroup returns room's group when room is encrypted (nil, nil for
// a plaintext room), or an error when this device has no usable state.
func (s *Session) encryptedGroup(room string) (*roomGroup, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.isEncryptedLocked(room) {
		return nil, nil
	}
	rg, err := s.groupLocked(room)
	switch {
	case err != nil:
		return nil, err
	case rg == nil:
		return nil, fmt.Errorf("session: %s: this device holds no keys of the room", room)
	case rg.broken != "":
		return nil, fmt.Errorf("session: %s: this device's state of the room is out of step (%s); it rejoins", room, rg.broken)
	case !rg.g.Active():
		return nil, fmt.Errorf("session: %s: this device is no longer in the room's group", room)
	}
	return rg, nil
}

// commitOp makes a commit with make (under s.mu), sends it in op and, on
// stale_epoch, drops it, waits for the group to catch up and makes it
// again. make returns ok false when there is nothing to commit.
func (s *Session) commitOp(ctx context.Context, room string, op proto.RoomOp,
	make func(rg *roomGroup) (opts mls.CommitOptions, ok bool, err error)) (OpResult, error) {
	for attempt := 0; ; attempt++ {
		rg, err := s.encryptedGroup(room)
		if err != nil {
			return OpResult{}, err
		}
		apart, welcomeApart := s.treeApart(), s.welcomeTreeApart()
		s.mu.Lock()
		opts, do, err := make(rg)
		var res *mls.CommitResult
		if err == nil && do {
			opts.GroupInfoWithoutTree = apart
			opts.WelcomeTreeApart = welcomeApart
			res, err = rg.g.Commit(opts)
			if err == nil {
				rg.pendingAt = time.Now()
			}
		}
		s.mu.Unlock()
		if err != nil {
			return OpResult{}, fmt.Errorf("session: %s %s: %w", op.Op, room, err)
		}
		next := op
		if do {
			next.MLS, next.Welcome, next.GroupInfo = res.Commit, res.Welcome, res.GroupInfo
		}
		out, err := s.roomOp(ctx, next)
		if err == nil && do {
			s.mergeAccepted(room, rg)
		}
		if err == nil || !do {
			return out, err
		}
		var re *RelayError
		offline := !errors.As(err, &re)
		if !offline {
			s.mu.Lock()
			rg.g.ClearPendingCommit()
			rg.pendingAt = time.Time{}
			s.mu.Unlock()
		}
		if offline || re.Code != proto.CodeStaleEpoch || attempt+1 >= commitAttempts {
			return out, err
		}
		if err := s.waitEpoch(ctx, room, re.Epoch); err != nil {
			return out, fmt.Errorf("session: %s %s: catching up to epoch %d: %w", op.Op, room, re.Epoch, err)
		}
	}
}

// mergeAccepted applies an own commit the relay accepted, unless its echo
// in the log already did, and saves the group: a process that ends right
// after the answer (a headless command) must not lose it, or its next run
// would find its own commit in the log with no way to process it.
func (s *Session) mergeAccepted(room string, rg *roomGroup) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[room] != rg || rg.pendingAt.IsZero() {
		return
	}
	if err := rg.g.MergePendingCommit(); err != nil {
		return // the echo merged it already
	}
	rg.pendingAt = time.Time{}
	rg.noteRoster()
	b, err := s.saveGroup(room, rg)
	if err == nil {
		err = s.store.SaveGroup(room, b)
	}
	if err != nil {
		delete(s.groups, room)
		s.q.push(ErrorEvent{err})
		return
	}
	rg.dirty = false
}

// waitEpoch waits until room's group has reached epoch.
func (s *Session) waitEpoch(ctx context.Context, room string, epoch uint64) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		s.mu.Lock()
		rg, _ := s.groupLocked(room)
		var at uint64
		var broken string
		if rg != nil {
			at, broken = rg.g.Epoch(), rg.broken
		}
		s.mu.Unlock()
		switch {
		case rg == nil:
			return fmt.Errorf("no group state")
		case broken != "":
			return fmt.Errorf("out of step: %s", broken)
		case at >= epoch:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// inviteEncrypted claims a KeyPackage of each of user's devices, commits
// their Adds and sends the invite with the commit, its Welcome and the new
// GroupInfo. The claimed KeyPackages serve every retry.
func (s *Session) inviteEncrypted(ctx context.Context, room, user string) (OpResult, error) {
	km, err := s.ClaimKeyPackages(ctx, user)
	if err != nil {
		return OpResult{}, err
	}
	if len(km.Devices) == 0 {
		// The user has no device yet: an invitation without a commit
		// (their first device joins by external commit). The relay
		// decides whether it takes one (/work/E2EE.md, Changes).
		return s.roomOp(ctx, proto.RoomOp{Room: room, Op: proto.KindInvite, Target: user})
	}
	var kps [][]byte
	for _, d := range km.Devices {
		if len(d.KeyPackage) > 0 {
			kps = append(kps, d.KeyPackage)
		}
	}
	if len(kps) == 0 {
		return OpResult{}, fmt.Errorf("session: invite %s to %s: no KeyPackage of theirs to add (%s)", user, room, km.Status)
	}
	return s.commitOp(ctx, room, proto.RoomOp{Room: room, Op: proto.KindInvite, Target: user},
		func(rg *roomGroup) (mls.CommitOptions, bool, error) {
			return mls.CommitOptions{Add: kps}, true, nil
		})
}

// removeEncrypted kicks or bans user with a commit removing all of their
// leaves (none: the op alone).
func (s *Session) removeEncrypted(ctx context.Context, op proto.RoomOp) (OpResult, error) {
	return s.commitOp(ctx, op.Room, op, func(rg *roomGroup) (mls.CommitOptions, bool, error) {
		leaves := rg.leavesOf(op.Target)
		return mls.CommitOptions{Remove: leaves}, len(leaves) > 0, nil
	})
}

// leaveEncrypted leaves with this device's SelfRemove and Remove proposals
// of the user's other devices; the next committer commits them. This
// device then forgets the group.
func (s *Session) leaveEncrypted(ctx context.Context, room string) (OpResult, error) {
	s.mu.Lock()
	rg, _ := s.groupLocked(room)
	s.mu.Unlock()
	if c, err := s.live(); err == nil && rg == nil {
		// Declining an invitation: this device is already in the group
		// (the invite added it); join it from the Welcome to propose its
		// own removal.
		if _, err := s.joinFromWelcomes(ctx, c, room); err != nil {
			s.q.push(ErrorEvent{err})
		}
	}
	rejoined := false
	for attempt := 0; ; attempt++ {
		// An external join in flight (the rejoin loop) installs its
		// group before the relay accepts it: wait for its answer.
		s.waitRejoin()
		rg, err := s.encryptedGroup(room)
		if err != nil && !rejoined && s.encryptedRoom(room) {
			// This device lost its state (or step) of a room it is in:
			// its leaf stays in the group and the relay wants it
			// proposed away. Rejoin by external commit (removing the
			// old leaf) and leave from the new state.
			rejoined = true
			if c, lerr := s.live(); lerr == nil && s.userHasLeaves(ctx, c, room) {
				if _, jerr := s.joinExternal(ctx, c, room, proto.KindCommit); jerr != nil {
					return OpResult{}, fmt.Errorf("session: leave %s: rejoining to leave: %w", room, jerr)
				}
				attempt--
				continue
			}
		}
		if err != nil {
			// No usable group and none to be had (no leaf of this
			// user, or offline): the op alone.
			return s.roomOp(ctx, proto.RoomOp{Room: room, Op: proto.KindLeave})
		}
		s.mu.Lock()
		self, err := rg.g.ProposeSelfRemove()
		var removes [][]byte
		for _, leaf := range rg.leavesOf(s.opts.User) {
			if err != nil || leaf == rg.g.LeafIndex() {
				continue
			}
			var p []byte
			if p, err = rg.g.ProposeRemove(leaf); err == nil {
				removes = append(removes, p)
			}
		}
		s.mu.Unlock()
		if err != nil {
			return OpResult{}, fmt.Errorf("session: leave %s: %w", room, err)
		}
		out, err := s.roomOp(ctx, proto.RoomOp{Room: room, Op: proto.KindLeave, MLS: self, Proposals: removes})
		var re *RelayError
		if err != nil && errors.As(err, &re) && re.Code == proto.CodeStaleEpoch && attempt+1 < commitAttempts {
			if err := s.waitEpoch(ctx, room, re.Epoch); err != nil {
				return out, fmt.Errorf("session: leave %s: %w", room, err)
			}
			continue
		}
		if err == nil {
			s.forgetGroup(room)
		}
		return out, err
	}
}

// forgetGroup drops room's group state (this device left).
func (s *Session) forgetGroup(room string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.groups, room)
	if err := s.store.DeleteGroup(room); err != nil {
		s.q.push(ErrorEvent{err})
	}
}

// joinEncrypted accepts an invitation by the Welcome stored for this device
// (then the join op carries no commit), or joins by external commit from
// the room's GroupInfo (an open room, or no Welcome). The room's cache
// restarts at the point the group state begins.
func (s *Session) joinEncrypted(ctx context.Context, c *conn, room string) (OpResult, error) {
	s.mu.Lock()
	rg, _ := s.groupLocked(room)
	s.mu.Unlock()
	if rg == nil && !s.encryptedRoom(room) {
		// The invitation may be newer than the room list: ask.
		if list, err := s.listRooms(ctx, c); err == nil {
			s.applyRoomList(list)
		}
	}
	if rg == nil && !s.encryptedRoom(room) {
		// Not invited (an open room): the relay has a GroupInfo for it
		// only if it is encrypted.
		if info, err := s.fetchGroupInfo(ctx, c, room); err == nil {
			if m, err := mls.ParseMessage(info.GroupInfo); err == nil && m.GroupInfo != nil {
				s.mu.Lock()
				s.markEncryptedLocked(room, uint16(m.GroupInfo.GroupContext.CipherSuite))
				s.mu.Unlock()
			}
		}
	}
	if (rg == nil || rg.broken != "" || !rg.g.Active()) && s.encryptedRoom(room) {
		joined, err := s.joinFromWelcomes(ctx, c, room)
		if err != nil {
			return OpResult{}, err
		}
		if !joined {
			return s.joinExternal(ctx, c, room, proto.KindJoin)
		}
	}
	res, err := s.roomOp(ctx, proto.RoomOp{Room: room, Op: proto.KindJoin})
	if rg != nil && notInGroup(err) {
		// The relay has this device out of the group: a commit that
		// removed it (a kick or ban) is past what this session has
		// processed, so its group state is stale. Join as a removed
		// device does; the removal, when it arrives, is of an earlier
		// epoch and skipped.
		joined, werr := s.joinFromWelcomes(ctx, c, room)
		if werr != nil {
			return OpResult{}, werr
		}
		if !joined {
			return s.joinExternal(ctx, c, room, proto.KindJoin)
		}
		res, err = s.roomOp(ctx, proto.RoomOp{Room: room, Op: proto.KindJoin})
	}
	if err != nil {
		return res, err
	}
	return res, s.subscribe(ctx, c, room)
}

// notInGroup reports whether err is the relay's refusal of a join without
// MLS by a device that is not in the room's group (relay/groups.go).
func notInGroup(err error) bool {
	var re *RelayError
	return errors.As(err, &re) && re.Code == proto.CodeBadField && re.Field == "mls"
}

// joinFromWelcomes fetches the Welcomes stored for this device and joins
// the groups it can (room's, and any other room it was invited to); joined
// reports whether room's group now exists.
func (s *Session) joinFromWelcomes(ctx context.Context, c *conn, room string) (joined bool, err error) {
	ws, err := s.roomWelcomes(ctx, c, room)
	if err != nil {
		return false, err
	}
	var treeErr error
	for _, w := range ws {
		if err := s.acceptWelcome(w.Room, w.Seq, w.Welcome, w.RatchetTree); err != nil {
			if errors.Is(err, ErrWelcomeTree) {
				treeErr = err
			}
			s.q.push(ErrorEvent{err})
			continue
		}
		joined = true
	}
	if !joined && treeErr != nil {
		// The relay handed out a tree the Welcome does not name: no
		// join, and no quiet fallback through the same relay.
		return false, treeErr
	}
	return joined, nil
}

// acceptWelcome joins room's group from a Welcome sent for this device,
// made by the invite at seq: the cached run of the room restarts after seq
// (the group's state begins there). The KeyPackage it used is deleted
// unless it is the last-resort one.
func (s *Session) acceptWelcome(room string, seq uint64, welcome, tree []byte) error {
	refs, err := mls.WelcomeRecipients(welcome)
	if err != nil {
		return fmt.Errorf("session: welcome to %s: %w", room, err)
	}
	for _, ref := range refs {
		kpb, ok := s.KeyPackageBundle(ref)
		if !ok {
			continue
		}
		// The tree the relay kept beside the Welcome (protocol 8) is
		// used only when the Welcome leaves it out, and is checked
		// against the tree hash inside the Welcome.
		g, err := mls.JoinFromWelcome(welcome, kpb, mls.JoinOptions{RatchetTree: tree})
		if errors.Is(err, mls.ErrInvalidTree) && tree != nil {
			return fmt.Errorf("session: welcome to %s: %w: %w", room, ErrWelcomeTree, err)
		}
		if err != nil {
			return fmt.Errorf("session: welcome to %s: %w", room, err)
		}
		if string(g.GroupID()) != room {
			return fmt.Errorf("session: welcome to %s is for group %q", room, g.GroupID())
		}
		// The room's log is read as for any join: the entries before
		// the invite apply (operations) or show as not decryptable
		// (messages of epochs before this device was added).
		_ = seq
		if err := s.installGroup(room, newRoomGroup(g), nil); err != nil {
			return err
		}
		return s.keys.used(ref)
	}
	return fmt.Errorf("session: welcome to %s names none of this device's KeyPackages", room)
}

// installGroup makes rg room's group. With after set, rg's state follows
// the log after that seq: the room's cached run restarts there (the room is
// not subscribed yet). Without, the room's log goes on where it is: the
// entries before rg's epoch are skipped by epoch (handshakes) or cannot be
// decrypted (messages), which is true of them.
func (s *Session) installGroup(room string, rg *roomGroup, after *uint64) error {
	state, err := s.saveGroup(room, rg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, _ := s.roomLocked(room, proto.StateInvited)
	if after != nil && r.Cursor != *after && !r.subscribed {
		seq := *after
		r.Cursor, r.Low = seq, seq+1
		r.Head = max(r.Head, seq)
		r.held = nil
		if err := s.store.SaveRoom(r.Room); err != nil {
			return err
		}
	}
	if err := s.store.SaveGroup(room, state); err != nil {
		return err
	}
	rg.dirty = false
	s.groups[room] = rg
	s.markEncryptedLocked(room, uint16(rg.g.CipherSuite()))
	return nil
}

// joinExternal joins room's group by external commit from the relay's
// GroupInfo, committing the relay's pending SelfRemoves, and sends it with
// op (join for a new member of an open room, commit for a device of a user
// already in the room). A device with a stale state rejoins the same way.
func (s *Session) joinExternal(ctx context.Context, c *conn, room string, op proto.Kind) (OpResult, error) {
	// One external join at a time: the rejoin loop and a leave may both
	// want one for the same room, and the second must see the first's
	// group instead of replacing it.
	s.rejoinMu.Lock()
	defer s.rejoinMu.Unlock()
	if op == proto.KindCommit {
		if _, err := s.encryptedGroup(room); err == nil {
			return OpResult{}, nil // rejoined meanwhile
		}
	}
	for attempt := 0; ; attempt++ {
		info, err := s.fetchGroupInfo(ctx, c, room)
		if err != nil {
			return OpResult{}, err
		}
		var selfRemoves [][]byte
		for _, p := range info.Proposals {
			if isSelfRemove(p) {
				selfRemoves = append(selfRemoves, p)
			}
		}
		// The tree is in the GroupInfo, or (version 7) beside it.
		opts := mls.ExternalJoinOptions{SelfRemoves: selfRemoves, RatchetTree: info.RatchetTree}
		if leaf, ok := s.ownLeafIn(info); ok {
			// Resync (RFC 9420 §12.4.3.2): this device's old leaf goes in
			// the same commit, whether or not its state survived (a
			// second leaf with the same key is refused).
			opts.RemoveLeaf = &leaf
		}
		g, commit, err := mls.JoinExternal(info.GroupInfo, s.device.id, opts)
		if err != nil && opts.RemoveLeaf != nil {
			opts.RemoveLeaf = nil
			g, commit, err = mls.JoinExternal(info.GroupInfo, s.device.id, opts)
		}
		if err != nil {
			return OpResult{}, fmt.Errorf("session: external join of %s: %w", room, err)
		}
		gi, err := g.GroupInfo(c.welcome.V < proto.TreeApartVersion)
		if err != nil {
			return OpResult{}, err
		}
		// Installed before the commit is sent: the entries after it are
		// in the new epoch, and the processor may be at them before the
		// answer (our own commit, of the epoch before, is skipped).
		s.mu.Lock()
		previous := s.groups[room]
		s.mu.Unlock()
		if err := s.installGroup(room, newRoomGroup(g), nil); err != nil {
			return OpResult{}, err
		}
		res, err := s.roomOp(ctx, proto.RoomOp{Room: room, Op: op, MLS: commit, GroupInfo: gi})
		if err != nil {
			s.restoreGroup(room, previous)
		}
		var re *RelayError
		if err != nil && errors.As(err, &re) && re.Code == proto.CodeStaleEpoch && attempt+1 < commitAttempts {
			continue
		}
		if err != nil {
			return res, err
		}
		if op == proto.KindJoin {
			// A new member reads the log as any joiner does: the earlier
			// operations apply, the earlier messages show as not
			// decryptable, its own commit (of the epoch before) is skipped.
			return res, s.subscribe(ctx, c, room)
		}
		return res, nil
	}
}

// waitRejoin returns once no external join of this device is in flight.
func (s *Session) waitRejoin() {
	s.rejoinMu.Lock()
	defer s.rejoinMu.Unlock()
}

// userHasLeaves reports whether the relay's GroupInfo of room names a
// device of this user (then a leave must carry a SelfRemove).
func (s *Session) userHasLeaves(ctx context.Context, c *conn, room string) bool {
	info, err := s.fetchGroupInfo(ctx, c, room)
	if err != nil {
		return false
	}
	h, err := mls.NewHubGroup(info.GroupInfo, info.RatchetTree)
	if err != nil {
		return false
	}
	for _, m := range h.Members() {
		if d, err := m.Device(); err == nil && d.UserURI() == s.opts.User {
			return true
		}
	}
	return false
}

// ownLeafIn finds this device's leaf in the tree of the relay's GroupInfo.
func (s *Session) ownLeafIn(info *proto.GroupInfo) (uint32, bool) {
	h, err := mls.NewHubGroup(info.GroupInfo, info.RatchetTree)
	if err != nil {
		return 0, false
	}
	for _, m := range h.Members() {
		if d, err := m.Device(); err == nil && d.DeviceURI() == s.device.uri {
			return m.Leaf, true
		}
	}
	return 0, false
}

// treeApart reports whether this device's commits leave the ratchet tree
// out of their GroupInfo: the relay speaks protocol version 7, so it serves
// the tree to joiners itself, and each commit's GroupInfo stays O(1) in the
// group's size instead of carrying every member.
func (s *Session) treeApart() bool {
	c, err := s.live()
	return err == nil && c.welcome.V >= proto.TreeApartVersion
}

// welcomeTreeApart reports whether this device's invites may leave the
// ratchet tree out of their Welcome: the relay speaks protocol version 8,
// so it keeps its tree of the Welcome's epoch beside the Welcome for the
// joiner. mls leaves it out only for joiners whose KeyPackage lists
// mls.ExtensionWelcomeTreeApart; others (ts-mls, older clients) get it.
func (s *Session) welcomeTreeApart() bool {
	c, err := s.live()
	return err == nil && c.welcome.V >= proto.WelcomeTreeVersion
}

// ErrWelcomeTree means the ratchet tree the relay kept beside a Welcome is
// not the tree the Welcome's GroupContext names (its tree hash): the relay
// substituted or damaged it, and the device does not join from it.
var ErrWelcomeTree = errors.New("the relay's ratchet tree does not match the Welcome's tree hash")

// fetchGroupInfo asks the relay for room's latest GroupInfo and pending
// proposals.
func (s *Session) fetchGroupInfo(ctx context.Context, c *conn, room string) (*proto.GroupInfo, error) {
	rid := s.rid()
	f, err := c.request(ctx, rid, &proto.GetGroupInfo{RID: rid, Room: room})
	if err != nil {
		return nil, fmt.Errorf("session: group info of %s: %w", room, err)
	}
	info, ok := f.(*proto.GroupInfo)
	if !ok {
		return nil, fmt.Errorf("session: group info of %s: unexpected answer %s", room, f.FrameType())
	}
	return info, nil
}

// restoreGroup puts back the group room had before a refused external
// join (nil: none).
func (s *Session) restoreGroup(room string, previous *roomGroup) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if previous == nil {
		delete(s.groups, room)
		if err := s.store.DeleteGroup(room); err != nil {
			s.q.push(ErrorEvent{err})
		}
		return
	}
	s.groups[room] = previous
	if b, err := s.saveGroup(room, previous); err == nil {
		err = s.store.SaveGroup(room, b)
		if err != nil {
			s.q.push(ErrorEvent{err})
		}
	}
}

// isSelfRemove reports whether msg is a SelfRemove proposal.
func isSelfRemove(msg []byte) bool {
	m, err := mls.ParseMessage(msg)
	if err != nil || m.Public == nil {
		return false
	}
	c := &m.Public.Content
	return c.ContentType == mls.ContentProposal && c.Proposal != nil && c.Proposal.Type == mls.ProposalSelfRemove
}

// scheduleCommitLocked commits the group's pending proposals (a leaver's
// SelfRemove and Removes) after a short random delay, unless another
// member's commit gets there first (then ours is refused stale_epoch, or
// finds nothing left to commit).
func (s *Session) scheduleCommitLocked(room string) {
	if s.commitAt[room] {
		return
	}
	s.commitAt[room] = true
	delay := 50*time.Millisecond + mrand.N(400*time.Millisecond)
	time.AfterFunc(delay, func() {
		s.mu.Lock()
		delete(s.commitAt, room)
		s.mu.Unlock()
		if s.ctx.Err() != nil {
			return
		}
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		defer cancel()
		if err := s.commitPending(ctx, room); err != nil && !errors.Is(err, ErrOffline) {
			var re *RelayError
			if errors.As(err, &re) && re.Code == proto.CodeStaleEpoch {
				return // another member committed first
			}
			s.q.push(ErrorEvent{fmt.Errorf("session: commit pending proposals of %s: %w", room, err)})
		}
	})
}

// commitPending sends one commit of the pending proposals (if any are
// still pending) as a commit op.
func (s *Session) commitPending(ctx context.Context, room string) error {
	rg, err := s.encryptedGroup(room)
	if err != nil {
		return nil // nothing this device can commit
	}
	apart := s.treeApart()
	s.mu.Lock()
	if rg.proposalsEpoch != rg.g.Epoch()+1 {
		s.mu.Unlock()
		return nil
	}
	res, err := rg.g.Commit(mls.CommitOptions{GroupInfoWithoutTree: apart})
	if err == nil {
		rg.pendingAt = time.Now()
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	_, err = s.roomOp(ctx, proto.RoomOp{Room: room, Op: proto.KindCommit, MLS: res.Commit, GroupInfo: res.GroupInfo})
	if err == nil {
		s.mergeAccepted(room, rg)
	}
	var re *RelayError
	if err != nil && errors.As(err, &re) {
		s.mu.Lock()
		rg.g.ClearPendingCommit()
		rg.pendingAt = time.Time{}
		s.mu.Unlock()
	}
	return err
}

// rejoinLoop rejoins, by external commit, the joined encrypted rooms whose
// group this device lacks or lost step with, while c lives.
func (s *Session) rejoinLoop(c *conn) {
	if c.welcome.V < e2eeVersion {
		return
	}
	for {
		s.mu.Lock()
		var rooms []string
		for id, r := range s.rooms {
			if r.State != proto.StateJoined {
				continue
			}
			if _, enc := s.encrypted[id]; !enc {
				continue
			}
			rg, _ := s.groupLocked(id)
			if rg == nil || rg.broken != "" {
				rooms = append(rooms, id)
			}
		}
		s.mu.Unlock()
		for _, room := range rooms {
			ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
			_, err := s.joinExternal(ctx, c, room, proto.KindCommit)
			cancel()
			if err != nil && c.cause() == nil {
				s.q.push(ErrorEvent{fmt.Errorf("session: rejoin %s by external commit: %w", room, err)})
			}
		}
		select {
		case <-c.done:
			return
		case <-s.rejoinWake:
		}
	}
}
