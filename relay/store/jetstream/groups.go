package jetstream

import (
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
	Created int64  `json:"created"` // ms
	Tree    []byte `json:"tree,omitempty"`
}

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
	type roomUser struct{ room, user string }
	dropped := map[roomUser]bool{}
	for _, d := range b.DropWelcomes {
		dropped[roomUser{d.Room, d.User}] = true
	}
	seen := map[string]bool{}
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
		if dropped[roomUser{w.Room, w.User}] {
			continue // stored, then dropped by the same batch
		}
		data, _ := json.Marshal(welcomeJSON{Device: w.Device, User: w.User, Room: w.Room, Seq: w.Seq, Data: w.Data, Created: w.Created.UnixMilli(), Tree: w.RatchetTree})
		msgs = append(msgs, msg(subj, data, seqp(e.seq)))
	}
	for ru := range dropped {
		subjs, err := s.subjects(ctx, "m.wel.*."+b64(ru.room)+".*")
		if err != nil {
			return nil, err
		}
		es, err := s.getAll(ctx, subjs)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			var w welcomeJSON
			if err := json.Unmarshal(e.data, &w); err != nil {
				return nil, err
			}
			if w.User == ru.user {
				msgs = append(msgs, msg(subjWelcome(w.Device, w.Room, w.Seq), nil, seqp(e.seq)))
			}
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
	for _, w := range ws {
		out = append(out, w.welcome())
	}
	slices.SortFunc(out, func(a, b store.Welcome) int {
		if c := strings.Compare(a.Room, b.Room); c != 0 {
			return c
		}
		return int(a.Seq) - int(b.Seq)
	})
	return out, nil
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
	for _, w := range ws {
		if w.Created >= t.UnixMilli() {
			continue
		}
		if err := st.Purge(ctx, jetstream.WithPurgeSubject(subjWelcome(w.Device, w.Room, w.Seq))); err != nil {
			return fail(n, err)
		}
		n++
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
