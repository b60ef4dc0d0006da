package jetstream

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"mimichat/relay/store"
)

// Event message headers (the payload is the frame).
const (
	hdrEventSeq = "Mimi-Seq"
	hdrEventTS  = "Mimi-Ts"
	hdrEventKey = "Mimi-Key"  // hex
	hdrEventEnd = "Mimi-Ends" // base64url
)

// head is a room's last stamp and the stream sequence of the m.head
// message that recorded it (the expected-last-sequence of the next write).
type head struct {
	store.Stamp
	at uint64
}

type stampJSON struct {
	Seq uint64 `json:"s"`
	TS  int64  `json:"t"`
}

type roomJSON struct {
	URI        string `json:"uri"`
	Name       string `json:"name,omitempty"`
	Topic      string `json:"topic,omitempty"`
	Avatar     string `json:"avatar,omitempty"`
	History    string `json:"history,omitempty"`
	JoinPolicy string `json:"join,omitempty"`
	Receipts   string `json:"receipts,omitempty"`
	Expiry     uint32 `json:"expiry,omitempty"`
}

type memberJSON struct {
	Room    string `json:"room"`
	User    string `json:"user"`
	Role    string `json:"role,omitempty"`
	State   string `json:"state,omitempty"`
	JoinSeq uint64 `json:"join,omitempty"`
}

// readHead reads room's head from the leader: whether the room exists, and
// its last stamp.
func (s *Store) readHead(ctx context.Context, room string) (head, bool, error) {
	e, err := s.getLast(ctx, subjHead(room))
	if err != nil {
		return head{}, false, err
	}
	if e.seq == 0 {
		return head{}, false, nil
	}
	var st stampJSON
	if err := json.Unmarshal(e.data, &st); err != nil {
		return head{}, false, fmt.Errorf("head of %s: %w", room, err)
	}
	return head{Stamp: store.Stamp{Seq: st.Seq, TS: st.TS}, at: e.seq}, true, nil
}

// LoadRooms implements store.Store. Every read goes to the stream's leader,
// one subject at a time, while other nodes may be writing: so each room's
// head is read before its members and group, and a room's Last is never
// ahead of the state loaded with it (the state may be newer than Last,
// never older). A node that compared a newer head from the log with a
// Last read after the members took an invitee's membership for applied
// when it was not (docs/cluster.md).
func (s *Store) LoadRooms(ctx context.Context) ([]store.RoomState, error) {
	fail := func(err error) ([]store.RoomState, error) {
		return nil, fmt.Errorf("jetstream store: load rooms: %w", err)
	}
	subjs, err := s.subjects(ctx, "m.room.*")
	if err != nil {
		return fail(err)
	}
	rooms, err := s.getAll(ctx, subjs)
	if err != nil {
		return fail(err)
	}
	out := make([]store.RoomState, 0, len(rooms))
	at := map[string]int{}
	for _, e := range rooms {
		var r roomJSON
		if err := json.Unmarshal(e.data, &r); err != nil {
			return fail(err)
		}
		at[r.URI] = len(out)
		out = append(out, store.RoomState{Room: store.Room{URI: r.URI, Name: r.Name, Topic: r.Topic, Avatar: r.Avatar,
			History: r.History, JoinPolicy: r.JoinPolicy, Receipts: r.Receipts, Expiry: r.Expiry}})
	}
	for i := range out {
		h, _, err := s.readHead(ctx, out[i].URI)
		if err != nil {
			return fail(err)
		}
		out[i].Last = h.Stamp
	}
	if subjs, err = s.subjects(ctx, "m.mem.>"); err != nil {
		return fail(err)
	}
	members, err := s.getAll(ctx, subjs)
	if err != nil {
		return fail(err)
	}
	for _, e := range members {
		var m memberJSON
		if err := json.Unmarshal(e.data, &m); err != nil {
			return fail(err)
		}
		if i, ok := at[m.Room]; ok {
			out[i].Members = append(out[i].Members, store.Member{Room: m.Room, User: m.User, Role: m.Role, State: m.State, JoinSeq: m.JoinSeq})
		}
	}
	for i := range out {
		if out[i].Group, err = s.loadGroup(ctx, out[i].URI); err != nil {
			return fail(err)
		}
		slices.SortFunc(out[i].Members, func(a, b store.Member) int { return strings.Compare(a.User, b.User) })
	}
	slices.SortFunc(out, func(a, b store.RoomState) int { return strings.Compare(a.URI, b.URI) })
	return out, nil
}

// getAll reads the newest message of each subject, a few at a time, and
// returns the live ones in subjs' order.
func (s *Store) getAll(ctx context.Context, subjs []string) ([]entry, error) {
	got, err := s.getEach(ctx, subjs)
	if err != nil {
		return nil, err
	}
	out := got[:0]
	for _, e := range got {
		if e.live() {
			out = append(out, e)
		}
	}
	return out, nil
}

// getEach reads the newest message of each subject, a few at a time: one
// entry per subject, in subjs' order, live or not.
func (s *Store) getEach(ctx context.Context, subjs []string) ([]entry, error) {
	got := make([]entry, len(subjs))
	errs := make([]error, len(subjs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxDirectFanout)
	for i, subj := range subjs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			got[i], errs[i] = s.getLast(ctx, subj)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return got, nil
}

// AppendBatch implements store.Store: one atomic batch of rooms, members,
// events with their keys, and each touched room's new head, the head
// guarded by its expected last sequence (one writer per room).
func (s *Store) AppendBatch(ctx context.Context, b store.Batch) error {
	if len(b.Rooms) == 0 && len(b.Members) == 0 && len(b.Events) == 0 && len(b.Groups) == 0 && len(b.Welcomes) == 0 && len(b.DropWelcomes) == 0 {
		return nil
	}
	msgs, before, after, order, err := s.prepare(ctx, b)
	if err != nil {
		return fmt.Errorf("jetstream store: append: %w", err)
	}
	ack, err := s.publish(ctx, msgs)
	if err == nil {
		// The heads are the batch's last messages, stored contiguously.
		s.mu.Lock()
		for i, room := range order {
			h := after[room]
			h.at = ack.Seq - uint64(len(order)-1-i)
			s.heads[room] = h
		}
		s.mu.Unlock()
		return nil
	}
	if err := s.diagnose(ctx, b, before, after, err); err != nil {
		return fmt.Errorf("jetstream store: append: %w", err)
	}
	return nil // stored: only the answer was lost
}

// prepare checks b against the rooms' heads and builds its messages. before
// holds the heads it expects, after the heads b leaves (without their
// stream sequences, known only once stored).
func (s *Store) prepare(ctx context.Context, b store.Batch) (msgs []*nats.Msg, before, after map[string]head, order []string, err error) {
	before = map[string]head{}
	exists := map[string]bool{}
	cached := map[string]bool{} // heads taken from the cache, not read
	known := func(room string) (head, error) {
		if h, ok := before[room]; ok {
			return h, nil
		}
		s.mu.Lock()
		h, ok := s.heads[room]
		s.mu.Unlock()
		cached[room] = ok
		if !ok {
			var found bool
			var err error
			if h, found, err = s.readHead(ctx, room); err != nil {
				return h, err
			}
			if !found && !exists[room] {
				return h, fmt.Errorf("room %s: %w", room, store.ErrNotFound)
			}
		}
		before[room] = h
		return h, nil
	}
	// Later upserts of one room or member win: send only the last.
	lastRoom := map[string]int{}
	for i, r := range b.Rooms {
		lastRoom[r.URI] = i
	}
	for i, r := range b.Rooms {
		if lastRoom[r.URI] != i {
			continue
		}
		exists[r.URI] = true
		data, _ := json.Marshal(roomJSON{URI: r.URI, Name: r.Name, Topic: r.Topic, Avatar: r.Avatar, History: r.History, JoinPolicy: r.JoinPolicy, Receipts: r.Receipts, Expiry: r.Expiry})
		msgs = append(msgs, msg(subjRoom(r.URI), data, nil))
	}
	type mk struct{ room, user string }
	lastMember := map[mk]int{}
	for i, m := range b.Members {
		lastMember[mk{m.Room, m.User}] = i
	}
	for i, m := range b.Members {
		if _, err := known(m.Room); err != nil {
			return nil, nil, nil, nil, err
		}
		if lastMember[mk{m.Room, m.User}] != i {
			continue
		}
		data, _ := json.Marshal(memberJSON{Room: m.Room, User: m.User, Role: m.Role, State: m.State, JoinSeq: m.JoinSeq})
		msgs = append(msgs, msg(subjMember(m.Room, m.User), data, nil))
	}
	after = map[string]head{}
	keys := map[string]bool{}
	for _, e := range b.Events {
		h, ok := after[e.Room]
		if !ok {
			var err error
			if h, err = known(e.Room); err != nil {
				return nil, nil, nil, nil, err
			}
			order = append(order, e.Room)
		}
		if !ok && cached[e.Room] && (e.Seq != h.Seq+1 || e.TS < h.TS) {
			// Another node may have appended since this store last wrote
			// the room (the relay caught up with it): read the head again.
			fresh, found, err := s.readHead(ctx, e.Room)
			if err != nil {
				return nil, nil, nil, nil, err
			}
			if found {
				h, before[e.Room], cached[e.Room] = fresh, fresh, false
			}
		}
		switch {
		case e.Seq != h.Seq+1:
			return nil, nil, nil, nil, fmt.Errorf("event %s #%d: %w: the room's last seq is %d", e.Room, e.Seq, store.ErrConflict, h.Seq)
		case e.TS < h.TS:
			return nil, nil, nil, nil, fmt.Errorf("event %s #%d: %w: ts %d is before the room's last ts %d", e.Room, e.Seq, store.ErrConflict, e.TS, h.TS)
		}
		m := msg(subjEvent(e.Room, e.Seq), bytes.Clone(e.Frame), nil)
		m.Header.Set(hdrMsgID, b64(e.Room)+":"+strconv.FormatUint(e.Seq, 10))
		m.Header.Set(hdrEventSeq, strconv.FormatUint(e.Seq, 10))
		m.Header.Set(hdrEventTS, strconv.FormatInt(e.TS, 10))
		if e.Ends != "" {
			m.Header.Set(hdrEventEnd, b64(e.Ends))
		}
		msgs = append(msgs, m)
		if e.Key != nil {
			ks := subjKey(e.Room, e.Key)
			if keys[ks] {
				return nil, nil, nil, nil, fmt.Errorf("event %s #%d: %w", e.Room, e.Seq, store.ErrDuplicate)
			}
			keys[ks] = true
			m.Header.Set(hdrEventKey, hex.EncodeToString(e.Key))
			data, _ := json.Marshal(stampJSON{e.Seq, e.TS})
			msgs = append(msgs, msg(ks, data, seqp(0)))
		}
		after[e.Room] = head{Stamp: store.Stamp{Seq: e.Seq, TS: e.TS}}
	}
	// A new room gets its head (zero) so that it is listed as existing.
	for uri := range exists {
		if _, ok := after[uri]; !ok {
			if _, err := known(uri); err != nil {
				return nil, nil, nil, nil, err
			}
			if before[uri].at == 0 {
				after[uri] = head{}
				order = append(order, uri)
			}
		}
	}
	gmsgs, err := s.prepareGroups(ctx, b, known)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	msgs = append(msgs, gmsgs...)
	for _, room := range order {
		h := after[room]
		data, _ := json.Marshal(stampJSON{h.Seq, h.TS})
		msgs = append(msgs, msg(subjHead(room), data, seqp(before[room].at)))
	}
	return msgs, before, after, order, nil
}

// diagnose turns a failed batch into the store's error: another writer
// moved a room's head (ErrConflict), a submission key is stored
// (ErrDuplicate), or the batch was in fact stored and only its answer
// lost (nil).
func (s *Store) diagnose(ctx context.Context, b store.Batch, before, after map[string]head, cause error) error {
	s.mu.Lock()
	for room := range before {
		delete(s.heads, room)
	}
	s.mu.Unlock()
	moved := false
	for room, want := range before {
		h, _, err := s.readHead(ctx, room)
		if err != nil {
			return errors.Join(cause, err)
		}
		if h.at != want.at {
			if a, ok := after[room]; ok && h.Stamp == a.Stamp && s.storedEvent(ctx, b, room, a.Seq) {
				continue // ours: stored, its answer lost
			}
			moved = true
		}
	}
	if moved {
		return fmt.Errorf("%w: another writer appended to the room (%v)", store.ErrConflict, cause)
	}
	if isAPI(cause, codeDuplicateConflict) {
		// Another node's batch holding the same event (room:seq) is being
		// stored right now: it is the other writer of the room.
		return fmt.Errorf("%w: another writer is appending to the room (%v)", store.ErrConflict, cause)
	}
	if !isAPI(cause) {
		stored := len(after) > 0
		for room, a := range after {
			h, _, err := s.readHead(ctx, room)
			if err != nil || h.Stamp != a.Stamp || h.at == before[room].at {
				stored = false
			}
		}
		if stored {
			return nil
		}
		return cause
	}
	for _, w := range b.Welcomes {
		e, err := s.getLast(ctx, subjWelcome(w.Device, w.Room, w.Seq))
		if err != nil {
			return errors.Join(cause, err)
		}
		if e.live() {
			return fmt.Errorf("welcome for %s in %s #%d: %w", w.Device, w.Room, w.Seq, store.ErrDuplicate)
		}
	}
	for _, e := range b.Events {
		if e.Key == nil {
			continue
		}
		k, err := s.getLast(ctx, subjKey(e.Room, e.Key))
		if err != nil {
			return errors.Join(cause, err)
		}
		if k.seq != 0 {
			return fmt.Errorf("event %s #%d: %w", e.Room, e.Seq, store.ErrDuplicate)
		}
	}
	return cause
}

// storedEvent reports whether room's event seq in the store is the one in b.
func (s *Store) storedEvent(ctx context.Context, b store.Batch, room string, seq uint64) bool {
	e, err := s.getLast(ctx, subjEvent(room, seq))
	if err != nil || e.seq == 0 {
		return false
	}
	for _, ev := range b.Events {
		if ev.Room == room && ev.Seq == seq {
			return bytes.Equal(ev.Frame, e.data)
		}
	}
	return false
}

// Submitted implements store.Store. Keys are looked up a chunk at a time
// with one direct read of the room's head and the keys' subjects (any
// replica answers): when that replica's head of the room is at least the
// head this store last wrote or read, it holds every key stored up to
// that head (a key is stored in the batch that moves the head), and a key
// it lacks was not stored by then. A key stored after it belongs to
// another writer's batch, which fails this store's next append as a
// conflict anyway. A replica behind that head, or a room whose head this
// store does not know yet, is asked through the leader, a key at a time.
func (s *Store) Submitted(ctx context.Context, room string, keys [][]byte) ([]store.Stamp, error) {
	out := make([]store.Stamp, len(keys))
	fail := func(err error) ([]store.Stamp, error) {
		return nil, fmt.Errorf("jetstream store: look up submissions in %s: %w", room, err)
	}
	s.mu.Lock()
	h, cached := s.heads[room]
	s.mu.Unlock()
	var slow []int // keys to ask the leader for
	hs := subjHead(room)
	for lo := 0; lo < len(keys); lo += maxMultiLast - 1 {
		chunk := keys[lo:min(lo+maxMultiLast-1, len(keys))]
		if !cached {
			for i := range chunk {
				slow = append(slow, lo+i)
			}
			continue
		}
		subjs := make([]string, 0, len(chunk)+1)
		subjs = append(subjs, hs)
		for _, k := range chunk {
			subjs = append(subjs, subjKey(room, k))
		}
		found, err := s.directLastOf(ctx, subjs)
		if err != nil {
			return fail(err)
		}
		current := found[hs].seq >= h.at
		for i, subj := range subjs[1:] {
			e, ok := found[subj]
			switch {
			case ok && e.seq != 0:
				var st stampJSON
				if err := json.Unmarshal(e.data, &st); err != nil {
					return fail(err)
				}
				out[lo+i] = store.Stamp{Seq: st.Seq, TS: st.TS}
			case !current:
				slow = append(slow, lo+i)
			}
		}
	}
	errs := make([]error, len(slow))
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxDirectFanout)
	for j, i := range slow {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			e, err := s.getLast(ctx, subjKey(room, keys[i]))
			if err != nil || e.seq == 0 {
				errs[j] = err
				return
			}
			var st stampJSON
			if errs[j] = json.Unmarshal(e.data, &st); errs[j] == nil {
				out[i] = store.Stamp{Seq: st.Seq, TS: st.TS}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fail(err)
	}
	return out, nil
}

// HeadOf reads room's last stamp from the stream's leader, and whether the
// room exists (a relay node checks that its view is not behind the other
// nodes' writes before it answers a client).
func (s *Store) HeadOf(ctx context.Context, room string) (store.Stamp, bool, error) {
	h, found, err := s.readHead(ctx, room)
	if err != nil {
		return store.Stamp{}, false, fmt.Errorf("jetstream store: %w", err)
	}
	return h.Stamp, found, nil
}

// Head implements store.Store.
func (s *Store) Head(ctx context.Context, room string) (store.Stamp, error) {
	h, _, err := s.readHead(ctx, room)
	if err != nil {
		return store.Stamp{}, fmt.Errorf("jetstream store: %w", err)
	}
	return h.Stamp, nil
}

// readEvents reads up to limit of room's events lo..hi (those that
// retention kept), in ascending order.
func (s *Store) readEvents(ctx context.Context, room string, lo, hi uint64, limit int) ([]store.Event, error) {
	if hi < lo || limit <= 0 {
		return nil, nil
	}
	first, err := s.getLast(ctx, subjEvent(room, lo))
	if err != nil {
		return nil, err
	}
	start := first.seq
	if start == 0 {
		start = 1 // lo was deleted by retention: start at the room's first kept event
	}
	filter := "m.ev." + b64(room) + ".*"
	var out []store.Event
	for {
		want := min(limit-len(out), 1000)
		if want <= 0 {
			return out, nil
		}
		got, err := s.directRange(ctx, filter, start, want)
		if err != nil {
			return nil, err
		}
		if len(got) == 0 {
			return s.readFromLeader(ctx, room, out, lo, hi, limit)
		}
		for _, e := range got {
			ev, err := decodeEvent(room, e)
			if err != nil {
				return nil, err
			}
			if ev.Seq > hi {
				return out, nil
			}
			if ev.Seq >= lo {
				out = append(out, ev)
			}
			start = e.seq + 1
		}
	}
}

// readFromLeader completes out up to hi (or limit) from the stream leader,
// one event at a time: direct gets are served by any replica, and one that
// lags ends its answer before a head the leader already reported.
func (s *Store) readFromLeader(ctx context.Context, room string, out []store.Event, lo, hi uint64, limit int) ([]store.Event, error) {
	next := lo
	if len(out) > 0 {
		next = out[len(out)-1].Seq + 1
	}
	for ; next <= hi && len(out) < limit; next++ {
		e, err := s.getLast(ctx, subjEvent(room, next))
		if err != nil {
			return nil, err
		}
		if e.seq == 0 {
			break
		}
		ev, err := decodeEvent(room, e)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

func decodeEvent(room string, e entry) (store.Event, error) {
	ev := store.Event{Room: room, Frame: e.data}
	var err error
	if ev.Seq, err = strconv.ParseUint(e.hdr.Get(hdrEventSeq), 10, 64); err != nil {
		return ev, fmt.Errorf("event of %s at %d: bad seq header", room, e.seq)
	}
	if ev.TS, err = strconv.ParseInt(e.hdr.Get(hdrEventTS), 10, 64); err != nil {
		return ev, fmt.Errorf("event of %s at %d: bad ts header", room, e.seq)
	}
	if k := e.hdr.Get(hdrEventKey); k != "" {
		if ev.Key, err = hex.DecodeString(k); err != nil {
			return ev, fmt.Errorf("event of %s at %d: bad key header", room, e.seq)
		}
	}
	if end := e.hdr.Get(hdrEventEnd); end != "" {
		if ev.Ends, err = unb64(end); err != nil {
			return ev, fmt.Errorf("event of %s at %d: bad ends header", room, e.seq)
		}
	}
	return ev, nil
}

// EventsAfter implements store.Store.
func (s *Store) EventsAfter(ctx context.Context, room string, after uint64, limit int) ([]store.Event, error) {
	h, _, err := s.readHead(ctx, room)
	if err != nil {
		return nil, fmt.Errorf("jetstream store: read events of %s: %w", room, err)
	}
	if h.Seq <= after || limit <= 0 {
		return nil, nil
	}
	evs, err := s.readEvents(ctx, room, after+1, h.Seq, limit)
	if err != nil {
		return nil, fmt.Errorf("jetstream store: read events of %s: %w", room, err)
	}
	return evs, nil
}

// EventsBefore implements store.Store.
func (s *Store) EventsBefore(ctx context.Context, room string, from, before uint64, limit int) ([]store.Event, bool, error) {
	h, _, err := s.readHead(ctx, room)
	if err != nil {
		return nil, false, fmt.Errorf("jetstream store: read history of %s: %w", room, err)
	}
	if before == 0 || limit <= 0 {
		return nil, false, nil
	}
	hi := min(h.Seq, before-1)
	from = max(from, 1)
	if hi < from {
		return nil, false, nil
	}
	lo := from
	if hi-from+1 > uint64(limit) {
		lo = hi - uint64(limit) + 1
	}
	evs, err := s.readEvents(ctx, room, lo, hi, int(hi-lo+1))
	if err != nil {
		return nil, false, fmt.Errorf("jetstream store: read history of %s: %w", room, err)
	}
	more := false
	if lo > from {
		// Retention deletes a prefix: an older event in range exists iff lo-1 does.
		e, err := s.getLast(ctx, subjEvent(room, lo-1))
		if err != nil {
			return nil, false, fmt.Errorf("jetstream store: read history of %s: %w", room, err)
		}
		more = e.seq != 0
	}
	return evs, more, nil
}

// DeleteEventsBefore implements store.Store: per room, the prefix of events
// older than ts except the last is purged, with their submission keys.
func (s *Store) DeleteEventsBefore(ctx context.Context, ts int64) (int64, error) {
	fail := func(n int64, err error) (int64, error) {
		return n, fmt.Errorf("jetstream store: delete events before %d: %w", ts, err)
	}
	subjs, err := s.subjects(ctx, "m.head.*")
	if err != nil {
		return fail(0, err)
	}
	st, err := s.js.Stream(ctx, s.stream)
	if err != nil {
		return fail(0, err)
	}
	var total int64
	for _, subj := range subjs {
		room, err := unb64(strings.TrimPrefix(subj, "m.head."))
		if err != nil {
			return fail(total, err)
		}
		h, _, err := s.readHead(ctx, room)
		if err != nil {
			return fail(total, err)
		}
		filter := "m.ev." + b64(room) + ".*"
		var n int64
		var keep uint64 // stream sequence of the first kept event
		for start := uint64(1); keep == 0; {
			got, err := s.directRange(ctx, filter, start, 1000)
			if err != nil {
				return fail(total, err)
			}
			if len(got) == 0 {
				break
			}
			for _, e := range got {
				ev, err := decodeEvent(room, e)
				if err != nil {
					return fail(total, err)
				}
				if ev.TS >= ts || ev.Seq >= h.Seq {
					keep = e.seq
					break
				}
				n++
				start = e.seq + 1
			}
		}
		if n == 0 || keep == 0 {
			continue
		}
		for _, f := range []string{filter, "m.key." + b64(room) + ".*"} {
			if err := st.Purge(ctx, jetstream.WithPurgeSubject(f), jetstream.WithPurgeSequence(keep)); err != nil {
				return fail(total, err)
			}
		}
		total += n
	}
	return total, nil
}

// ExpireRoomEvents implements store.EventExpirer (a room's message expiry):
// room's events older than ts go, its last one included, with their
// submission keys. The room's head is its own subject and stays, so the
// log continues after it.
func (s *Store) ExpireRoomEvents(ctx context.Context, room string, ts int64) (int64, error) {
	fail := func(n int64, err error) (int64, error) {
		return n, fmt.Errorf("jetstream store: expire events of %s before %d: %w", room, ts, err)
	}
	filter := "m.ev." + b64(room) + ".*"
	var n int64
	var keep uint64 // stream sequence of the first kept event; 0: none kept
	for start := uint64(1); keep == 0; {
		got, err := s.directRange(ctx, filter, start, 1000)
		if err != nil {
			return fail(0, err)
		}
		if len(got) == 0 {
			break
		}
		for _, e := range got {
			ev, err := decodeEvent(room, e)
			if err != nil {
				return fail(0, err)
			}
			if ev.TS >= ts { // ts never decreases along a room's seqs
				keep = e.seq
				break
			}
			n++
			start = e.seq + 1
		}
	}
	if n == 0 {
		return 0, nil
	}
	var st jetstream.Stream
	err := s.retry(ctx, func(ctx context.Context) error {
		var err error
		st, err = s.js.Stream(ctx, s.stream)
		return err
	})
	if err != nil {
		return fail(0, err)
	}
	for _, f := range []string{filter, "m.key." + b64(room) + ".*"} {
		opts := []jetstream.StreamPurgeOpt{jetstream.WithPurgeSubject(f)}
		if keep != 0 {
			opts = append(opts, jetstream.WithPurgeSequence(keep))
		}
		if err := st.Purge(ctx, opts...); err != nil {
			return fail(0, err)
		}
	}
	return n, nil
}
