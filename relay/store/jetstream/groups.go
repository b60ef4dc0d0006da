package jetstream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"mimichat/relay/store"
)

// Encrypted rooms' storage (store.GroupDirectory): each room's group is
// m.grp.ROOM, written in the batch that changed it, and its ratchet tree's
// chunks m.gtc.ROOM.INDEX (only the changed ones; a load reads the
// width's chunks, so chunks left past a shrunk width are never read); each Welcome is
// m.wel.DEVICE.ROOM.SEQ; each uploaded KeyPackage's ref is m.kpref.HEX.
// The ratchet tree kept beside an invite's Welcomes (protocol version 8)
// is stored once per invite, not in each Welcome record: in chunks
// m.wtree.ROOM.SEQ.INDEX of at most welcomeTreeChunk bytes, which each
// Welcome record names (welcome_trees.go). Inline, a tree of about 3,800
// members (209 bytes a member, base64 in the JSON record) made a record
// over NATS's 1 MB max payload, so the invite's batch failed; and it was
// written once per invited device.

func subjGroup(room string) string { return "m.grp." + b64(room) }
func subjWelcome(device, room string, seq uint64) string {
	return "m.wel." + b64(device) + "." + b64(room) + "." + strconv.FormatUint(seq, 10)
}
func subjTreeChunk(room string, i uint32) string {
	return "m.gtc." + b64(room) + "." + strconv.FormatUint(uint64(i), 10)
}
func subjKPRef(ref []byte) string { return "m.kpref." + fmt.Sprintf("%x", ref) }

type groupJSON struct {
	Suite     uint16 `json:"suite"`
	Epoch     uint64 `json:"epoch"`
	State     []byte `json:"state"`
	GroupInfo []byte `json:"group_info"`
	TreeWidth uint32 `json:"tree_width,omitempty"`
}

type welcomeJSON struct {
	Device  string `json:"device"`
	User    string `json:"user"`
	Room    string `json:"room"`
	Seq     uint64 `json:"seq"`
	Data    []byte `json:"data"`
	Created int64  `json:"created"`        // ms
	Tree    []byte `json:"tree,omitempty"` // records written before the tree was stored apart
	// TreeLen and TreeChunks name the invite's tree in m.wtree.ROOM.SEQ.*
	// (TreeChunks chunks, TreeLen bytes in all); 0: no tree apart.
	TreeLen    int    `json:"tree_len,omitempty"`
	TreeChunks uint32 `json:"tree_chunks,omitempty"`
}

// welcome is w as a store.Welcome, its tree not read yet when stored apart.
func (w welcomeJSON) welcome() store.Welcome {
	return store.Welcome{Device: w.Device, User: w.User, Room: w.Room, Seq: w.Seq, Data: w.Data, Created: time.UnixMilli(w.Created), RatchetTree: w.Tree}
}

type kpRefJSON struct {
	Device string `json:"device"`
	User   string `json:"user"`
}

// prepareGroups adds b's groups, Welcomes and Welcome removals to a batch:
// groups of known rooms (the last of a room wins), Welcomes not stored yet
// (else ErrDuplicate), and removals of the stored Welcomes of ended
// memberships.
func (s *Store) prepareGroups(ctx context.Context, b store.Batch, known func(string) (head, error)) ([]*nats.Msg, error) {
	var msgs []*nats.Msg
	last := map[string]int{}
	for i, g := range b.Groups {
		last[g.Room] = i
	}
	// Each Group carries the chunks that changed since the one before it:
	// a room's chunks of the whole batch, the later winning.
	chunks := map[string]map[uint32][]byte{}
	for i, g := range b.Groups {
		if _, err := known(g.Room); err != nil {
			return nil, err
		}
		if g.TreeWidth != 0 {
			if chunks[g.Room] == nil {
				chunks[g.Room] = map[uint32][]byte{}
			}
			for _, c := range g.TreeChunks {
				if c.Index >= store.TreeChunkCount(g.TreeWidth) {
					return nil, fmt.Errorf("tree chunk %d of %s past width %d", c.Index, g.Room, g.TreeWidth)
				}
				chunks[g.Room][c.Index] = c.Data
			}
		}
		if last[g.Room] != i {
			continue
		}
		data, _ := json.Marshal(groupJSON{Suite: g.Suite, Epoch: g.Epoch, State: g.State, GroupInfo: g.GroupInfo, TreeWidth: g.TreeWidth})
		for _, idx := range slices.Sorted(maps.Keys(chunks[g.Room])) {
			if g.TreeWidth != 0 && idx < store.TreeChunkCount(g.TreeWidth) {
				msgs = append(msgs, msg(subjTreeChunk(g.Room, idx), chunks[g.Room][idx], nil))
			}
		}
		msgs = append(msgs, msg(subjGroup(g.Room), data, nil))
	}
	dropped := map[string]map[string]bool{} // room → users whose Welcomes go
	for _, d := range b.DropWelcomes {
		if dropped[d.Room] == nil {
			dropped[d.Room] = map[string]bool{}
		}
		dropped[d.Room][d.User] = true
	}
	seen := map[string]bool{}
	trees := map[inviteRef][]byte{} // the trees this batch writes, once per invite
	for _, w := range b.Welcomes {
		subj := subjWelcome(w.Device, w.Room, w.Seq)
		e, err := s.getLast(ctx, subj)
		if err != nil {
			return nil, err
		}
		if e.live() || seen[subj] {
			return nil, fmt.Errorf("welcome for %s in %s #%d: %w", w.Device, w.Room, w.Seq, store.ErrDuplicate)
		}
		seen[subj] = true
		if dropped[w.Room][w.User] {
			continue // stored, then dropped by the same batch
		}
		rec := welcomeJSON{Device: w.Device, User: w.User, Room: w.Room, Seq: w.Seq, Data: w.Data, Created: w.Created.UnixMilli()}
		if len(w.RatchetTree) > 0 {
			ref := inviteRef{w.Room, w.Seq}
			if t, ok := trees[ref]; ok && !bytes.Equal(t, w.RatchetTree) {
				return nil, fmt.Errorf("welcomes of %s #%d: two different ratchet trees for one invite", w.Room, w.Seq)
			}
			trees[ref] = w.RatchetTree
			rec.TreeLen, rec.TreeChunks = len(w.RatchetTree), welcomeTreeChunks(len(w.RatchetTree))
		}
		data, _ := json.Marshal(rec)
		msgs = append(msgs, msg(subj, data, seqp(e.seq)))
	}
	msgs = append(msgs, treeMsgs(trees)...)
	for _, room := range slices.Sorted(maps.Keys(dropped)) {
		more, err := s.dropWelcomes(ctx, room, dropped[room], trees)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, more...)
	}
	return msgs, nil
}

// dropWelcomes deletes the stored Welcomes of users in room, and the trees
// of the invites none of the room's other Welcomes (stored, or written by
// this batch: written) still name.
func (s *Store) dropWelcomes(ctx context.Context, room string, users map[string]bool, written map[inviteRef][]byte) ([]*nats.Msg, error) {
	subjs, err := s.subjects(ctx, "m.wel.*."+b64(room)+".*")
	if err != nil {
		return nil, err
	}
	es, err := s.getAll(ctx, subjs)
	if err != nil {
		return nil, err
	}
	var msgs []*nats.Msg
	kept := map[inviteRef]bool{}
	gone := map[inviteRef]uint32{} // tree chunks of the invites whose Welcomes go
	for _, e := range es {
		var w welcomeJSON
		if err := json.Unmarshal(e.data, &w); err != nil {
			return nil, err
		}
		ref := inviteRef{w.Room, w.Seq}
		if !users[w.User] {
			kept[ref] = true
			continue
		}
		msgs = append(msgs, msg(subjWelcome(w.Device, w.Room, w.Seq), nil, seqp(e.seq)))
		if w.TreeChunks > 0 {
			gone[ref] = w.TreeChunks
		}
	}
	for _, ref := range slices.SortedFunc(maps.Keys(gone), compareInvites) {
		if _, ok := written[ref]; ok || kept[ref] {
			continue
		}
		for i := range gone[ref] {
			msgs = append(msgs, msg(subjWelcomeTree(ref.room, ref.seq, i), nil, nil))
		}
	}
	return msgs, nil
}

// loadGroupTries bounds loadGroup's reads of a group that keeps changing
// while it is read.
const loadGroupTries = 10

// loadGroup reads room's group, nil for a plaintext room: a consistent
// snapshot although other nodes may commit meanwhile. A batch that changes
// a tree chunk also writes the group record, after its chunks, atomically;
// so a chunk stored after the group record read belongs to a later
// group, and the group is read again. Mixing two writes' chunks made the
// tree fail to decode ("tree_chunk: trailing bytes") and a node's whole
// reload with it.
func (s *Store) loadGroup(ctx context.Context, room string) (*store.Group, error) {
	for try := 1; ; try++ {
		g, torn, err := s.loadGroupOnce(ctx, room)
		if err != nil || !torn {
			return g, err
		}
		if try == loadGroupTries {
			return nil, fmt.Errorf("group of %s: changed during each of %d reads", room, try)
		}
	}
}

// loadGroupOnce reads room's group and its chunks; torn: a chunk is newer
// than the group record read.
func (s *Store) loadGroupOnce(ctx context.Context, room string) (*store.Group, bool, error) {
	e, err := s.getLast(ctx, subjGroup(room))
	if err != nil || !e.live() {
		return nil, false, err
	}
	var g groupJSON
	if err := json.Unmarshal(e.data, &g); err != nil {
		return nil, false, fmt.Errorf("group of %s: %w", room, err)
	}
	out := &store.Group{Room: room, Suite: g.Suite, Epoch: g.Epoch, State: g.State, GroupInfo: g.GroupInfo, TreeWidth: g.TreeWidth}
	for i := range store.TreeChunkCount(g.TreeWidth) {
		c, err := s.getLast(ctx, subjTreeChunk(room, i))
		if err != nil {
			return nil, false, err
		}
		if c.seq > e.seq {
			return nil, true, nil
		}
		if !c.live() {
			return nil, false, fmt.Errorf("group of %s: tree chunk %d of width %d missing", room, i, g.TreeWidth)
		}
		out.TreeChunks = append(out.TreeChunks, store.TreeChunk{Index: i, Data: c.data})
	}
	return out, false, nil
}

func (s *Store) welcomes(ctx context.Context, filter string) ([]welcomeJSON, []entry, error) {
	subjs, err := s.subjects(ctx, filter)
	if err != nil {
		return nil, nil, err
	}
	es, err := s.getAll(ctx, subjs)
	if err != nil {
		return nil, nil, err
	}
	out := make([]welcomeJSON, 0, len(es))
	for _, e := range es {
		var w welcomeJSON
		if err := json.Unmarshal(e.data, &w); err != nil {
			return nil, nil, err
		}
		out = append(out, w)
	}
	return out, es, nil
}

// Welcomes implements store.GroupDirectory.
func (s *Store) Welcomes(ctx context.Context, device string) ([]store.Welcome, error) {
	ws, _, err := s.welcomes(ctx, "m.wel."+b64(device)+".>")
	if err != nil {
		return nil, fmt.Errorf("jetstream store: welcomes of %s: %w", device, err)
	}
	out := make([]store.Welcome, 0, len(ws))
	read := map[inviteRef][]byte{}
	for _, w := range ws {
		sw := w.welcome()
		if w.TreeChunks > 0 {
			ref := inviteRef{w.Room, w.Seq}
			if read[ref] == nil {
				if read[ref], err = s.readWelcomeTree(ctx, ref, w.TreeChunks, w.TreeLen); err != nil {
					return nil, fmt.Errorf("jetstream store: welcomes of %s: %w", device, err)
				}
			}
			sw.RatchetTree = read[ref]
		}
		out = append(out, sw)
	}
	slices.SortFunc(out, func(a, b store.Welcome) int {
		if c := strings.Compare(a.Room, b.Room); c != 0 {
			return c
		}
		return int(a.Seq) - int(b.Seq)
	})
	return out, nil
}

// WelcomeEntries implements store.GroupDirectory: it reads the device's
// Welcome records (their bytes are in them) but none of their trees, which
// are apart and the bulk of an invite's bytes.
func (s *Store) WelcomeEntries(ctx context.Context, device string) ([]store.WelcomeEntry, error) {
	ws, _, err := s.welcomes(ctx, "m.wel."+b64(device)+".>")
	if err != nil {
		return nil, fmt.Errorf("jetstream store: welcome entries of %s: %w", device, err)
	}
	out := make([]store.WelcomeEntry, 0, len(ws))
	for _, w := range ws {
		e := store.WelcomeEntry{Room: w.Room, Seq: w.Seq, Size: len(w.Data), TreeSize: len(w.Tree)}
		if w.TreeChunks > 0 {
			e.TreeSize = w.TreeLen
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b store.WelcomeEntry) int {
		return compareInvites(inviteRef{a.Room, a.Seq}, inviteRef{b.Room, b.Seq})
	})
	return out, nil
}

// welcomeRecord reads the one Welcome record of device from room's invite
// seq (m.wel.DEVICE.ROOM.SEQ), or ErrNotFound.
func (s *Store) welcomeRecord(ctx context.Context, device, room string, seq uint64) (welcomeJSON, error) {
	e, err := s.getLast(ctx, subjWelcome(device, room, seq))
	if err != nil {
		return welcomeJSON{}, err
	}
	if !e.live() {
		return welcomeJSON{}, store.ErrNotFound
	}
	var w welcomeJSON
	if err := json.Unmarshal(e.data, &w); err != nil {
		return welcomeJSON{}, err
	}
	return w, nil
}

// WelcomeData implements store.GroupDirectory: one record, no tree.
func (s *Store) WelcomeData(ctx context.Context, device, room string, seq uint64) ([]byte, error) {
	w, err := s.welcomeRecord(ctx, device, room, seq)
	if err != nil {
		return nil, fmt.Errorf("jetstream store: welcome of %s #%d for %s: %w", room, seq, device, err)
	}
	return w.Data, nil
}

// WelcomeTree implements store.GroupDirectory: one record and its invite's
// tree chunks (or the tree inside an older record).
func (s *Store) WelcomeTree(ctx context.Context, device, room string, seq uint64) ([]byte, error) {
	fail := func(err error) ([]byte, error) {
		return nil, fmt.Errorf("jetstream store: ratchet tree of %s #%d for %s: %w", room, seq, device, err)
	}
	w, err := s.welcomeRecord(ctx, device, room, seq)
	if err != nil {
		return fail(err)
	}
	if w.TreeChunks == 0 {
		if len(w.Tree) == 0 {
			return nil, nil
		}
		return w.Tree, nil
	}
	tree, err := s.readWelcomeTree(ctx, inviteRef{w.Room, w.Seq}, w.TreeChunks, w.TreeLen)
	if err != nil {
		return fail(err)
	}
	return tree, nil
}

// DeleteWelcomesBefore implements store.GroupDirectory.
func (s *Store) DeleteWelcomesBefore(ctx context.Context, t time.Time) (int64, error) {
	fail := func(n int64, err error) (int64, error) {
		return n, fmt.Errorf("jetstream store: delete old welcomes: %w", err)
	}
	ws, _, err := s.welcomes(ctx, "m.wel.>")
	if err != nil {
		return fail(0, err)
	}
	st, err := s.js.Stream(ctx, s.stream)
	if err != nil {
		return fail(0, err)
	}
	var n int64
	kept, gone := map[inviteRef]bool{}, map[inviteRef]bool{}
	for _, w := range ws {
		ref := inviteRef{w.Room, w.Seq}
		if w.Created >= t.UnixMilli() {
			kept[ref] = true
			continue
		}
		if err := st.Purge(ctx, jetstream.WithPurgeSubject(subjWelcome(w.Device, w.Room, w.Seq))); err != nil {
			return fail(n, err)
		}
		n++
		if w.TreeChunks > 0 {
			gone[ref] = true
		}
	}
	for ref := range gone {
		if kept[ref] {
			continue
		}
		if err := st.Purge(ctx, jetstream.WithPurgeSubject(subjWelcomeTrees(ref.room, ref.seq))); err != nil {
			return fail(n, err)
		}
	}
	return n, nil
}

// KeyPackageOwner implements store.GroupDirectory.
func (s *Store) KeyPackageOwner(ctx context.Context, ref []byte) (store.Device, error) {
	fail := func(err error) (store.Device, error) {
		return store.Device{}, fmt.Errorf("jetstream store: key package ref %x: %w", ref, err)
	}
	e, err := s.getLast(ctx, subjKPRef(ref))
	if err != nil {
		return fail(err)
	}
	if !e.live() {
		return fail(store.ErrNotFound)
	}
	var r kpRefJSON
	if err := json.Unmarshal(e.data, &r); err != nil {
		return fail(err)
	}
	d := store.Device{URI: r.Device, User: r.User, Created: time.UnixMilli(0)}
	doc, _, err := s.loadKPDoc(ctx, r.User)
	if err != nil {
		return fail(err)
	}
	if dev := doc.device(r.Device); dev != nil {
		d.Created = time.UnixMilli(dev.Created)
	}
	return d, nil
}
