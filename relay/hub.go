package relay

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
)

// hub owns the rooms: the registry, the writer's input and output, and the
// dispatcher that acks and fans out committed events in commit order.
type hub struct {
	cfg     *Config
	db      store.Store
	domain  string
	log     *slog.Logger
	metrics *metrics
	tails   *tailCache // bounds all rooms' tails together

	mu    sync.RWMutex
	rooms map[string]*room

	users userConns // live connections by user, for notices

	in  chan *request  // to the writer
	out chan []outcome // writer to dispatcher, one batch at a time
	// dispatching counts the batches sent on out the dispatcher has not
	// finished; only the writer adds to it.
	dispatching atomic.Int64
	pending     pending                     // the writer's batch, reused
	run         []committed                 // dispatch's run of one room's events, reused
	rec         commitRec                   // the writer's current commit, for trace
	trace       atomic.Pointer[commitTrace] // set by benchmarks: every commit's moments
	cl          *clusterLink                // the other nodes of a cluster; nil alone
}

func (h *hub) room(uri string) *room {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.rooms[uri]
}

func (h *hub) addRoom(r *room) {
	h.mu.Lock()
	h.rooms[r.uri] = r
	h.mu.Unlock()
}

// loadRooms reads every room's state from the store.
func loadRooms(ctx context.Context, db store.Store) (map[string]*room, error) {
	states, err := db.LoadRooms(ctx)
	if err != nil {
		return nil, fmt.Errorf("relay: load rooms: %w", err)
	}
	rooms, bad := roomsOf(states)
	for _, err := range bad {
		return nil, err
	}
	return rooms, nil
}

// roomsOf builds the rooms of states, and the error of each room whose
// group could not be restored (left out of rooms).
func roomsOf(states []store.RoomState) (map[string]*room, map[string]error) {
	rooms := make(map[string]*room, len(states))
	var bad map[string]error
	for _, st := range states {
		r := newRoom(st.URI)
		r.name, r.topic, r.avatar, r.history, r.join, r.receipt = st.Name, st.Topic, st.Avatar, st.History, st.JoinPolicy, st.Receipts
		r.expiry = st.Expiry
		r.head, r.lastTS = st.Last.Seq, st.Last.TS
		r.stateSeq = r.head // the state is at least as new as Last (store.RoomState)
		for _, m := range st.Members {
			r.members[m.User] = &member{role: proto.Role(m.Role), state: proto.State(m.State), joinSeq: m.JoinSeq}
		}
		if st.Group != nil {
			var err error
			if r.grp, err = loadGroup(st.Group); err != nil {
				if bad == nil {
					bad = map[string]error{}
				}
				bad[st.URI] = err
				continue
			}
			r.encrypted = true
		}
		rooms[st.URI] = r
	}
	return rooms, bad
}

// reload replaces the in-memory state with the store's, keeping each
// surviving room's subscribers. Called by the writer after a failed commit
// and by a cluster node catching up. A room whose group fails to load
// keeps its state (and its stateSeq, so a request about it catches up
// again) instead of failing every room's reload.
func (h *hub) reload() error {
	states, err := h.db.LoadRooms(context.Background())
	if err != nil {
		return fmt.Errorf("relay: load rooms: %w", err)
	}
	fresh, bad := roomsOf(states)
	for uri, err := range bad {
		h.log.Error("reload room", "room", uri, "err", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for uri, old := range h.rooms {
		if bad[uri] != nil {
			fresh[uri] = old
			continue
		}
		nr, ok := fresh[uri]
		if !ok {
			delete(h.rooms, uri)
			continue
		}
		old.mu.Lock()
		old.name, old.topic, old.avatar, old.history, old.join, old.receipt = nr.name, nr.topic, nr.avatar, nr.history, nr.join, nr.receipt
		old.head, old.lastTS, old.members, old.grp = nr.head, nr.lastTS, nr.members, nr.grp
		old.stateSeq, old.expiry = nr.stateSeq, nr.expiry
		old.mu.Unlock()
		fresh[uri] = old
	}
	h.rooms = fresh
	return nil
}

// runDispatcher answers each request of a committed batch and fans its
// events out, in commit order, so every subscriber sees each room's events
// in seq order. The writer dispatches a small batch itself when nothing is
// queued here (see dispatchInline).
func (h *hub) runDispatcher(done chan<- struct{}) {
	defer close(done)
	for batch := range h.out {
		h.dispatch(batch)
		h.dispatching.Add(-1)
	}
}

// dispatch answers each request of a committed batch and fans its events
// out. Batches are dispatched one at a time, in commit order: by the
// dispatcher, or by the writer when the dispatcher has none left.
//
// A batch without notices is answered first, then each run of events of
// one room is fanned out subscriber by subscriber (fanoutRun), so a
// subscriber's events of the batch are queued together and its writer
// sends them in one write: after a slow fsync the batch that waited is
// several events, and this keeps the catch-up to one write and one read
// per subscriber instead of one per event (issue 18). Each answer still
// precedes its own event on every connection, and each room's events keep
// their order.
func (h *hub) dispatch(batch []outcome) {
	took := time.Now()
	if hasNotices(batch) {
		for _, o := range batch {
			h.answer(o)
			for _, ev := range o.events {
				h.fanoutRun([]committed{ev})
			}
			for _, n := range o.notices {
				h.users.deliver(n)
			}
		}
	} else {
		for _, o := range batch {
			h.answer(o)
		}
		run := h.run[:0]
		for _, o := range batch {
			for _, ev := range o.events {
				if len(run) > 0 && run[0].r != ev.r {
					h.fanoutRun(run)
					run = run[:0]
				}
				run = append(run, ev)
			}
		}
		if len(run) > 0 {
			h.fanoutRun(run)
		}
		clear(run) // drop the frames for the collector
		h.run = run[:0]
	}
	if t := h.trace.Load(); t != nil {
		t.dispatch(took, time.Now())
	}
}

// answer queues o's reply to its requester; the request's in-flight slot
// is freed when the reply is written (conn.answerRequest).
func (h *hub) answer(o outcome) {
	if o.c != nil {
		o.c.answerRequest(o.reply)
	}
}

func hasNotices(batch []outcome) bool {
	for _, o := range batch {
		if len(o.notices) > 0 {
			return true
		}
	}
	return false
}

// inlineFanout bounds the deliveries of a batch the writer dispatches
// itself: about 0.5 µs of the writer's time each before its next commit.
const inlineFanout = 256

// dispatchInline reports whether the writer should dispatch batch itself
// rather than hand it to the dispatcher: when the dispatcher has finished
// every batch before it (so commit order holds) and the batch's replies
// and deliveries are few. Handing over costs the dispatcher's wake-up,
// which waits until the writer, already busy with the next commit, blocks
// in its fsync (issue 18: 0.13-0.16 ms at p50 of a paced message, more in
// the tail); a big batch still goes to the dispatcher, so its fan-out runs
// beside the next commit.
func (h *hub) dispatchInline(batch []outcome) bool {
	if h.dispatching.Load() != 0 || len(batch) > inlineFanout {
		return false
	}
	n := len(batch)
	for _, o := range batch {
		for _, ev := range o.events {
			ev.r.mu.RLock()
			n += len(ev.r.subs)
			ev.r.mu.RUnlock()
			if n > inlineFanout {
				return false
			}
		}
		if len(o.notices) > 0 {
			return false // each is a lookup of the user's connections
		}
	}
	return true
}

// fanoutRun queues evs, consecutive events of one room, for every
// subscriber of the room: the stored frame itself, which each writer
// frames with no allocation (conn.writeShared). A subscriber
// whose membership an event ends gets that event, then loses its
// subscription and none of the run's later events.
func (h *hub) fanoutRun(evs []committed) {
	r := evs[0].r
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range evs {
		r.tail.add(h.tails, store.Event{Room: r.uri, Seq: ev.seq, Ends: ev.ends, Frame: ev.frame})
	}
	if len(r.subs) == 0 {
		return
	}
	for c := range r.subs {
		for _, ev := range evs {
			c.enqueue(outItem{kind: itemEvent, room: r.uri, seq: ev.seq, data: ev.frame})
			if ev.ends != "" && c.user == ev.ends {
				delete(r.subs, c)
				c.enqueue(outItem{kind: itemUnsub, room: r.uri})
				break
			}
		}
	}
}

// subscribe registers c for room events after since and queues the replay
// marker in the same critical section as registration, so every event is
// either replayed from the database or queued live after the marker.
func (h *hub) subscribe(c *conn, f *proto.Subscribe) *refusal {
	r := h.roomFresh(f.Room)
	if r == nil {
		return refuse(proto.CodeNoSuchRoom, "no room %s", f.Room)
	}
	if h.cl != nil {
		h.cl.follow(r.uri)
		r.mu.RLock()
		behind := f.Since > r.head
		r.mu.RUnlock()
		if behind { // the client comes from a node that saw more
			h.cl.catchUp(r.uri)
		}
		h.awaitCursor(r, f.Since) // cluster.go
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	first, ref := r.readAccess(c.user)
	if ref != nil {
		return ref
	}
	if ref := h.cursorBehindState(r, f.Since); ref != nil {
		return ref
	}
	if f.Since > r.head {
		// A cursor from the future (a relay whose data was reset): events
		// would silently be skipped until the log caught up.
		return &refusal{code: proto.CodeBadField, reason: fmt.Sprintf("since %d is beyond the room's last seq %d", f.Since, r.head), field: "since"}
	}
	r.subs[c] = struct{}{}
	c.track(r)
	answer, err := proto.Encode(&proto.Subscribed{RID: f.RID, Room: r.uri, LastSeq: r.head, FirstSeq: first})
	if err != nil {
		return refuse(proto.CodeInternal, "encode subscribed: %v", err)
	}
	from := f.Since
	if first > 0 && from < first-1 {
		from = first - 1
	}
	// Both under the caller's replay token: room of their own in the queue.
	c.enqueue(outItem{kind: itemFrame, data: answer, reserved: true})
	c.enqueue(outItem{kind: itemReplay, room: r.uri, seq: from, reserved: true})
	return nil
}

// unsubscribe removes c from room uri (if subscribed).
func (h *hub) unsubscribe(c *conn, uri string) {
	r := h.room(uri)
	if r == nil {
		return
	}
	r.mu.Lock()
	delete(r.subs, c)
	r.mu.Unlock()
	c.enqueue(outItem{kind: itemUnsub, room: uri})
}

// dropConn removes c from every room it subscribed to.
func (h *hub) dropConn(c *conn, rooms []*room) {
	for _, r := range rooms {
		r.mu.Lock()
		delete(r.subs, c)
		r.mu.Unlock()
	}
}

// signal fans an ephemeral signal out to the room's subscribers other than
// the sender's own connections. Nothing is stored.
func (h *hub) signal(c *conn, f *proto.Signal) *refusal {
	r := h.room(f.Room)
	if r == nil {
		return refuse(proto.CodeNoSuchRoom, "no room %s", f.Room)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if ref := r.canPost(c.user); ref != nil {
		return ref
	}
	out := &proto.Signal{Room: r.uri, Kind: f.Kind, Value: f.Value, From: c.user}
	frame, err := proto.Encode(out)
	if err != nil {
		return refuse(proto.CodeInternal, "encode signal: %v", err)
	}
	for s := range r.subs {
		if s.user == c.user {
			continue
		}
		s.enqueue(outItem{kind: itemSignal, room: r.uri, data: frame})
	}
	return nil
}
