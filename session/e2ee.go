package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"mimichat/content"
	"mimichat/mls"
	"mimichat/proto"
)

// End-to-end encryption (protocol version 5, docs/e2ee.md). Each encrypted
// room is an MLS group whose ID is the room URI; this device's view of it
// is a roomGroup, saved in the cache in the same transaction as the entries
// whose processing changed it (flushLocked) or the outbox row whose
// encryption advanced it (sealForSubmit). An mls.Group is not safe for
// concurrent use: every use below holds Session.mu, which the processor
// also holds from the first frame of a batch until the batch is committed,
// so a group is never saved with effects of entries not yet stored.

// roomGroup is this device's MLS group of one room.
type roomGroup struct {
	g *mls.Group
	// rosters maps an epoch (the current one and the kept past ones) to its
	// leaves' device URIs: a message of a past epoch is checked against the
	// member who held its sender leaf then.
	rosters map[uint64]map[uint32]string
	// pastDiffs[e] is what rosters[e] changes of the current epoch's
	// roster, as saved (diffsAt is the epoch they were computed against).
	pastDiffs map[uint64]map[uint32]string
	diffsAt   uint64
	// broken says why the group no longer follows the room (a commit this
	// device could not process): it must rejoin by external commit.
	broken string
	// pendingAt is when an own commit was staged (zero: none); Encrypt
	// refuses while one is pending.
	pendingAt time.Time
	dirty     bool // changed since it was last saved
	// proposalsEpoch is 1 + the epoch in which others' proposals arrived
	// (0: none), so an automatic commit knows whether any are pending.
	proposalsEpoch uint64
}

// groupRecord is a roomGroup as the cache stores it. Both the tree and the
// current epoch's roster are as large as the group, so neither is in it:
// the tree is in mls_tree by chunks (Tree is its width; 0 in records from
// before, whose State holds the tree and Rosters every kept epoch's roster
// in full), and the current roster is read off the tree when loading.
type groupRecord struct {
	State   []byte                       `json:"state"`
	Tree    uint32                       `json:"tree,omitempty"`
	Rosters map[uint64]map[uint32]string `json:"rosters,omitempty"`
	// PastRosters are the kept past epochs' leaves whose device differs
	// from the current epoch's ("": no device at that leaf then).
	PastRosters map[uint64]map[uint32]string `json:"past_rosters,omitempty"`
	Broken      string                       `json:"broken,omitempty"`
}

func newRoomGroup(g *mls.Group) *roomGroup {
	g.PublicHandshake = true
	rg := &roomGroup{g: g, dirty: true}
	rg.noteRoster()
	return rg
}

// loadRoomGroup restores a group from its record and its tree's chunks
// (Store.LoadGroup); chunked says the tree came from chunks, whose
// versions the store must then be told.
func loadRoomGroup(b []byte, chunks [][]byte) (rg *roomGroup, chunked bool, err error) {
	var rec groupRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, false, fmt.Errorf("session: group state: %w", err)
	}
	var g *mls.Group
	if rec.Tree > 0 {
		g, err = mls.LoadGroupChunks(rec.State, rec.Tree, chunks)
	} else {
		g, err = mls.LoadGroup(rec.State)
	}
	if err != nil {
		return nil, false, fmt.Errorf("session: group state: %w", err)
	}
	g.PublicHandshake = true
	rg = &roomGroup{g: g, rosters: rec.Rosters, broken: rec.Broken}
	rg.noteRoster()
	cur := rg.rosters[g.Epoch()]
	for ep, diff := range rec.PastRosters {
		if ep >= g.Epoch() {
			continue
		}
		r := make(map[uint32]string, len(cur))
		for leaf, uri := range cur {
			r[leaf] = uri
		}
		for leaf, uri := range diff {
			if uri == "" {
				delete(r, leaf)
			} else {
				r[leaf] = uri
			}
		}
		rg.rosters[ep] = r
	}
	rg.noteRoster() // drops the epochs no longer kept
	return rg, rec.Tree > 0, nil
}

// save makes rg's state ready to store over a cache that holds the tree
// chunks of versions stored: the record, and the chunks that changed.
func (rg *roomGroup) save(stored []uint64) (*GroupSave, error) {
	st, err := rg.g.SaveWithoutTree()
	if err != nil {
		return nil, fmt.Errorf("session: save group state: %w", err)
	}
	width, vers := rg.g.TreeVersions()
	chunks := map[int][]byte{}
	for i, v := range vers {
		if i >= len(stored) || stored[i] != v {
			chunks[i] = rg.g.EncodeTreeChunk(i)
		}
	}
	rec, err := json.Marshal(groupRecord{State: st, Tree: width, PastRosters: rg.pastRosters(), Broken: rg.broken})
	if err != nil {
		return nil, fmt.Errorf("session: save group state: %w", err)
	}
	return &GroupSave{Record: rec, Width: width, Vers: vers, Chunks: chunks}, nil
}

// pastRosters is what each kept past epoch's roster changes of the
// current one's, computed once per epoch (a commit changes few leaves, so
// the saved diffs stay small however large the group).
func (rg *roomGroup) pastRosters() map[uint64]map[uint32]string {
	e := rg.g.Epoch()
	if rg.pastDiffs == nil || rg.diffsAt != e {
		rg.pastDiffs, rg.diffsAt = map[uint64]map[uint32]string{}, e
	}
	cur := rg.rosters[e]
	out := map[uint64]map[uint32]string{}
	for ep, r := range rg.rosters {
		if ep == e {
			continue
		}
		d, ok := rg.pastDiffs[ep]
		if !ok {
			d = map[uint32]string{}
			for leaf, uri := range r {
				if cur[leaf] != uri {
					d[leaf] = uri
				}
			}
			for leaf := range cur {
				if _, ok := r[leaf]; !ok {
					d[leaf] = ""
				}
			}
			rg.pastDiffs[ep] = d
		}
		out[ep] = d
	}
	return out
}

// saveGroupLocked is rg's state to store as room's group.
func (s *Session) saveGroup(room string, rg *roomGroup) (*GroupSave, error) {
	return rg.save(s.store.TreeVersions(room))
}

// noteRoster records the current epoch's leaves and forgets epochs whose
// secrets the group no longer keeps.
func (rg *roomGroup) noteRoster() {
	if rg.rosters == nil {
		rg.rosters = map[uint64]map[uint32]string{}
	}
	e := rg.g.Epoch()
	if _, ok := rg.rosters[e]; !ok {
		m := map[uint32]string{}
		for _, mem := range rg.g.Members() {
			if d, err := mem.Device(); err == nil {
				m[mem.Leaf] = d.DeviceURI()
			}
		}
		rg.rosters[e] = m
	}
	keep := uint64(max(rg.g.PastEpochs, mls.DefaultPastEpochs))
	for ep := range rg.rosters {
		if ep+keep < e || ep > e {
			delete(rg.rosters, ep)
		}
	}
}

// senderUser is the user of the device that held leaf in epoch.
func (rg *roomGroup) senderUser(epoch uint64, leaf uint32) (string, bool) {
	uri, ok := rg.rosters[epoch][leaf]
	if !ok {
		return "", false
	}
	d, err := mls.ParseDeviceURI(uri)
	if err != nil {
		return "", false
	}
	return d.UserURI(), true
}

// leavesOf lists the leaves of user's devices (all devices when user is "").
func (rg *roomGroup) leavesOf(user string) []uint32 {
	var out []uint32
	for _, m := range rg.g.Members() {
		d, err := m.Device()
		if err == nil && (user == "" || d.UserURI() == user) {
			out = append(out, m.Leaf)
		}
	}
	return out
}

// groupLocked returns room's group, loading it from the cache; nil when
// this device has none. s.mu is held.
func (s *Session) groupLocked(room string) (*roomGroup, error) {
	if rg, ok := s.groups[room]; ok {
		return rg, nil
	}
	b, chunks, ok, err := s.store.LoadGroup(room)
	if err != nil {
		return nil, err
	}
	if !ok {
		// Remembered as none: a plaintext room's every message and
		// submit asks, and must not cost a query each.
		if s.groups != nil {
			s.groups[room] = nil
		}
		return nil, nil
	}
	rg, chunked, err := loadRoomGroup(b, chunks)
	if err != nil {
		return nil, fmt.Errorf("session: %s: %w", room, err)
	}
	if chunked {
		_, vers := rg.g.TreeVersions()
		s.store.SetTreeVersions(room, vers)
	}
	s.groups[room] = rg
	return rg, nil
}

// isEncryptedLocked reports whether room is end-to-end encrypted, as the
// relay said or as this device's group state shows.
func (s *Session) isEncryptedLocked(room string) bool {
	if _, ok := s.encrypted[room]; ok {
		return true
	}
	rg, _ := s.groupLocked(room)
	return rg != nil
}

// markEncryptedLocked records that room is encrypted with suite.
func (s *Session) markEncryptedLocked(room string, suite uint16) {
	if old, ok := s.encrypted[room]; ok && old == suite {
		return
	}
	s.encrypted[room] = suite
	if err := s.store.SetEncrypted(room, suite); err != nil {
		s.q.push(ErrorEvent{err})
	}
}

// isCiphertext reports whether content is an MLS PrivateMessage of room's
// group. MIMI content is CBOR, which never starts with MLS's version 0x0001.
func isCiphertext(room string, b []byte) bool {
	h, err := mls.PeekMessage(b)
	return err == nil && h.WireFormat == mls.WirePrivateMessage && string(h.GroupID) == room
}

// openEntryLocked processes what an entry carries for end-to-end
// encryption, in log order: the handshakes of an operation, and the
// ciphertext of a message, which it replaces with the plaintext and its
// -08 message ID, or marks Undecryptable with the reason. s.mu is held.
func (s *Session) openEntryLocked(e *Entry) {
	defer func() { e.wire, e.claimedID, e.mls, e.proposals = nil, nil, nil, nil }()
	if len(e.mls) > 0 {
		s.processHandshakesLocked(e)
	}
	if !e.IsMessage() {
		return
	}
	if e.wire == nil {
		if s.isEncryptedLocked(e.Room) && len(e.Raw) > 0 {
			e.Raw, e.ID = nil, content.MessageID{}
			e.Undecryptable = "refused: sent unencrypted in an end-to-end encrypted room"
		}
		return
	}
	if e.Sender == s.opts.User && len(e.claimedID) == len(content.MessageID{}) {
		// Our own message: the outbox has its plaintext (this device
		// cannot decrypt what it encrypted).
		var id content.MessageID
		copy(id[:], e.claimedID)
		if it, err := s.store.OutboxItem(id); err == nil && bytes.Equal(it.Wire, e.wire) {
			e.Raw, e.ID = it.Raw, it.ID
			return
		}
	}
	rg, err := s.groupLocked(e.Room)
	if err != nil {
		s.q.push(ErrorEvent{err})
	}
	if rg == nil {
		e.Undecryptable = "this device holds no keys of the room for it"
		return
	}
	rcv, err := rg.g.Process(e.wire)
	rg.dirty = true
	if err != nil {
		e.Undecryptable = decryptReason(err)
		return
	}
	if rcv.ContentType != mls.ContentApplication {
		e.Undecryptable = "refused: a handshake message where a message was due"
		return
	}
	user, ok := rg.senderUser(rcv.Epoch, rcv.Sender.Index)
	switch {
	case !ok:
		e.Undecryptable = fmt.Sprintf("refused: sender leaf %d of epoch %d is unknown", rcv.Sender.Index, rcv.Epoch)
		return
	case user != e.Sender:
		e.Undecryptable = fmt.Sprintf("refused: encrypted by a device of %q but relayed as from %q", user, e.Sender)
		return
	}
	e.Raw = rcv.Data
	if id, err := content.ComputeID(e.Sender, e.Room, e.Raw); err == nil {
		e.ID = id
	}
}

// closeUnopened marks a scrollback entry from below the cached run: its
// epoch's keys are gone (forward secrecy), and its handshakes were applied
// long ago, so it is not processed.
func closeUnopened(e *Entry) {
	if e.wire != nil {
		e.Undecryptable = "sent before this device's keys of the room begin"
	}
	e.wire, e.claimedID, e.mls, e.proposals = nil, nil, nil, nil
}

// decryptReason says in fixed words why a message did not decrypt.
func decryptReason(err error) string {
	switch {
	case errors.Is(err, mls.ErrInactive):
		return "this device was removed from the room before it was sent"
	case errors.Is(err, mls.ErrEpochExpired):
		return "sent in an epoch whose keys this device does not have (before it joined, or too long ago)"
	case errors.Is(err, mls.ErrWrongEpoch):
		return "sent in an epoch this device has not reached"
	case errors.Is(err, mls.ErrGenerationReused):
		return "refused: a replay of a message already decrypted"
	case errors.Is(err, mls.ErrOwnMessage):
		return "sent by this device; its plaintext is no longer kept"
	case errors.Is(err, mls.ErrSignature), errors.Is(err, mls.ErrDecrypt), errors.Is(err, mls.ErrSenderData):
		return "refused: forged or damaged ciphertext"
	case errors.Is(err, mls.ErrWrongGroup):
		return "refused: encrypted for another room"
	}
	return "cannot decrypt: malformed ciphertext"
}

// processHandshakesLocked applies an operation's MLS messages (a commit,
// or a leaver's SelfRemove and Remove proposals) to the room's group.
func (s *Session) processHandshakesLocked(e *Entry) {
	rg, err := s.groupLocked(e.Room)
	if err != nil {
		s.q.push(ErrorEvent{err})
	}
	if rg == nil || rg.broken != "" || !rg.g.Active() {
		return
	}
	msgs := append([][]byte{e.mls}, e.proposals...)
	proposals := false
	devices := rg.deviceSets()
	for _, m := range msgs {
		if h, err := mls.PeekMessage(m); err == nil && h.Epoch < rg.g.Epoch() {
			continue // before this device's state begins (the commit that added it)
		}
		if rg.rosters[rg.g.Epoch()] == nil {
			rg.noteRoster()
		}
		rcv, err := rg.g.Process(m)
		rg.dirty = true
		switch {
		case errors.Is(err, mls.ErrOwnMessage) && !isCommit(m):
			continue // our own proposal, echoed
		case err != nil:
			rg.broken = fmt.Sprintf("seq %d (%s): %v", e.Seq, e.Kind, err)
			rg.pendingAt = time.Time{}
			s.q.push(ErrorEvent{fmt.Errorf("session: %s: the room's encryption state is out of step at %s; this device rejoins it", e.Room, rg.broken)})
			s.wakeRejoin()
			return
		}
		switch rcv.ContentType {
		case mls.ContentCommit:
			rg.pendingAt = time.Time{}
			rg.noteRoster()
			if note := s.deviceChangesLocked(e.Room, e.Seq, e.Sender, rg, devices); note != "" && e.Kind == proto.KindCommit {
				e.Value = note // shown as a security notice (Feed)
			}
			devices = rg.deviceSets()
		case mls.ContentProposal:
			proposals = true
			rg.proposalsEpoch = rg.g.Epoch() + 1
		}
	}
	if proposals && rg.g.Active() {
		s.scheduleCommitLocked(e.Room)
	}
}

// isCommit reports whether msg is a commit (by its cleartext header).
func isCommit(msg []byte) bool {
	h, err := mls.PeekMessage(msg)
	return err == nil && h.ContentType == mls.ContentCommit
}

// wakeRejoin asks the rejoin loop to look for rooms to rejoin.
func (s *Session) wakeRejoin() {
	select {
	case s.rejoinWake <- struct{}{}:
	default:
	}
}

// staleAfterLocked records that the relay refused id's ciphertext as stale:
// the pump re-encrypts the same content once the group reaches epoch.
func (s *Session) staleAfterLocked(id content.MessageID, epoch uint64) {
	s.staleNeed[id] = epoch
}

// pendingCommitTimeout is how long an own commit may stay staged without
// an answer before sends stop waiting for it.
const pendingCommitTimeout = 30 * time.Second

// sealForSubmit makes sure an outbox item of an encrypted room has a
// current ciphertext before it is submitted: the first time, or after
// stale_epoch, it encrypts Raw and stores the ciphertext and the advanced
// group state in one transaction. wait is true when it must wait (no group
// state yet, an own commit in flight, the group behind the relay's epoch);
// fail names why it can never be sent.
func (s *Session) sealForSubmit(it *OutboxItem) (wait bool, fail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	need, stale := s.staleNeed[it.ID]
	if it.Wire != nil && !stale {
		return false, ""
	}
	if it.Wire == nil && !s.isEncryptedLocked(it.Room) {
		return false, "" // a plaintext room
	}
	rg, err := s.groupLocked(it.Room)
	if err != nil {
		s.q.push(ErrorEvent{err})
		return true, ""
	}
	switch {
	case rg == nil || rg.broken != "":
		return true, "" // until this device joins or rejoins the group
	case !rg.g.Active():
		return false, "this device is no longer a member of the room's group"
	case stale && rg.g.Epoch() < need:
		return true, ""
	case !rg.pendingAt.IsZero():
		if time.Since(rg.pendingAt) < pendingCommitTimeout {
			return true, ""
		}
		rg.g.ClearPendingCommit()
		rg.pendingAt = time.Time{}
	}
	wire, err := rg.g.Encrypt(it.Raw, nil)
	if err != nil {
		return false, "cannot encrypt: " + err.Error()
	}
	state, err := s.saveGroup(it.Room, rg)
	if err == nil {
		err = s.store.SetWire(*it, wire, it.Room, state)
	}
	if err != nil {
		delete(s.groups, it.Room) // reload the stored truth
		s.q.push(ErrorEvent{err})
		return true, ""
	}
	rg.dirty = false
	delete(s.staleNeed, it.ID)
	it.Wire = wire
	return false, ""
}

// saveDirtyGroupLocked returns room's group state to save with a batch of
// its entries (nil when unchanged).
func (s *Session) dirtyGroupLocked(room string) *GroupSave {
	rg := s.groups[room]
	if rg == nil || !rg.dirty {
		return nil
	}
	b, err := s.saveGroup(room, rg)
	if err != nil {
		s.q.push(ErrorEvent{err})
		return nil
	}
	return b
}

// RoomCrypto describes a room's end-to-end encryption as this device sees it.
type RoomCrypto struct {
	Encrypted bool
	Suite     uint16 // the MLS cipher suite
	Epoch     uint64 // this device's epoch of the group (0 without state)
	HasState  bool   // this device holds the group's keys
	Broken    string // why the state is out of step (it rejoins), "" when fine
	Members   int    // leaves (devices) in the group
	Removed   bool   // this device was removed from the group
}

// Crypto reports whether room is end-to-end encrypted, its suite and this
// device's epoch. Memory and the local cache only.
func (s *Session) Crypto(room string) RoomCrypto {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rc RoomCrypto
	suite, ok := s.encrypted[room]
	rc.Encrypted, rc.Suite = ok, suite
	if rg, _ := s.groupLocked(room); rg != nil {
		rc.Encrypted, rc.HasState = true, true
		rc.Suite, rc.Epoch, rc.Broken = uint16(rg.g.CipherSuite()), rg.g.Epoch(), rg.broken
		rc.Members, rc.Removed = len(rg.g.Members()), !rg.g.Active()
	}
	return rc
}

// EpochAuthenticator is this device's epoch authenticator of room's group
// (RFC 9420 §8.7): every member of an epoch has the same one.
func (s *Session) EpochAuthenticator(room string) ([]byte, uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rg, _ := s.groupLocked(room)
	if rg == nil {
		return nil, 0, false
	}
	return rg.g.EpochAuthenticator(), rg.g.Epoch(), true
}

// roomURI is the URI the relay gives a room with local name slug.
func roomURI(domain, slug string) string { return "mimi://" + domain + "/r/" + slug }

// suiteOf is the suite a room summary states, or this device's.
func (s *Session) suiteOf(sum proto.RoomSummary) uint16 {
	if sum.Suite != 0 {
		return sum.Suite
	}
	return uint16(s.device.id.CipherSuite)
}

// SeedGroup stores g as this device's group of room and marks room
// encrypted, for a cache built without a relay (benchmarks of an encrypted
// room's cache); a session opened on the store loads it as any group state.
// The session must not be running.
func (s *Store) SeedGroup(room string, g *mls.Group) error {
	if string(g.GroupID()) != room {
		return fmt.Errorf("session: seed group: group %q is not room %s", g.GroupID(), room)
	}
	b, err := newRoomGroup(g).save(s.TreeVersions(room))
	if err != nil {
		return err
	}
	if err := s.SaveGroup(room, b); err != nil {
		return err
	}
	return s.SetEncrypted(room, uint16(g.CipherSuite()))
}
