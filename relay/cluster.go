package relay

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"mimichat/proto"
	"mimichat/relay/store"
	"mimichat/relay/store/jetstream"
)

// ClusterConfig makes the relay one node of a cluster on NATS JetStream
// (docs/cluster.md): its store is relay/store/jetstream, either on a NATS
// server embedded in this process (joined to its peers by routes) or on an
// existing NATS cluster (NATS).
type ClusterConfig struct {
	Node       string   // this node's name (server name); default "mimichat"
	Listen     string   // route listener of the embedded server, host:port
	Peers      []string // the other nodes' route addresses
	Advertise  string   // the route address the other nodes learn by gossip (default: Listen)
	NATS       string   // an existing NATS server or cluster instead of an embedded one
	NATSListen string   // client listener of the embedded server ("" = in process only)
	Replicas   int      // stream replicas; default 3 with peers or NATS, else 1
}

// JetStreamDir is the embedded server's directory inside the data directory.
const JetStreamDir = "jetstream"

// openCluster opens the JetStream store for cfg.
func openCluster(cfg *Config) (*jetstream.Store, error) {
	c := cfg.Cluster
	js, err := jetstream.Open(jetstream.Options{URL: c.NATS, Dir: filepath.Join(cfg.Data, JetStreamDir), Name: c.Node,
		Listen: c.NATSListen, ClusterListen: c.Listen, Peers: c.Peers, ClusterAdvertise: c.Advertise, Replicas: c.Replicas})
	if err != nil {
		return nil, fmt.Errorf("relay: cluster store: %w", err)
	}
	return js, nil
}

// OpenClusterStore opens a relay cluster's store through a NATS address
// (a node's NATSListen, or the NATS cluster's URL) for an operator's
// command: user management beside the running nodes.
func OpenClusterStore(url string) (*Store, error) {
	js, err := jetstream.Open(jetstream.Options{URL: url})
	if err != nil {
		return nil, fmt.Errorf("relay: cluster store: %w", err)
	}
	return &Store{db: js}, nil
}

// Cross-node fan-out subjects (core NATS, not stored): after a commit, a
// node announces each room it appended to on fanSubject(room), which only
// nodes with subscribers in that room listen to, and announces room-state
// changes (rooms, members) on stateSubject, which every node listens to.
const (
	fanPrefix    = "mimi.fan."
	stateSubject = "mimi.state"
)

func fanSubject(room string) string {
	return fanPrefix + base64.RawURLEncoding.EncodeToString([]byte(room))
}

// clusterLink is a node's view of the other nodes: what they announced
// since the writer last caught up, and the rooms this node follows.
type clusterLink struct {
	nc   *nats.Conn
	self string // announcement origin; a node skips its own
	in   chan<- *request
	log  interface{ Warn(string, ...any) }

	mu      sync.Mutex
	rooms   map[string]bool       // rooms with news from other nodes to read from the store
	news    map[string][]fanEvent // events other nodes announced, by room (cluster_fanout.go)
	state   bool                  // room state changed elsewhere: reload every room
	queued  bool                  // a sync marker is in the writer's queue
	waiters []chan struct{}       // closed after the next sync
	follows map[string]*nats.Subscription
	stateSb *nats.Subscription

	// shown is, per room, the last seq this node fanned out (or found at
	// start): the writer's own, never ahead of the store. Writer only.
	shown map[string]uint64
	// retrying counts the writer's tries of a batch again after a
	// conflict (at most maxConflictRetries). Writer only.
	retrying int

	// stopPoll ends poll (cluster_poll.go), which closes pollDone.
	stopPoll, pollDone chan struct{}

	// ignoreState makes the node ignore state announcements, as if they
	// were lost or late (tests: core NATS does not guarantee them, and
	// their subscription's callback may run after the fan subject's).
	ignoreState atomic.Bool
	// failReload makes every reload of the rooms' state fail, as when the
	// store cannot be read (tests: a node whose state stays behind).
	failReload atomic.Bool
	// wait is how long a client's request waits for this node to catch up
	// (freshWait; tests shorten it).
	wait time.Duration
}

// syncMarker is the request the writer recognises as "catch up with the
// other nodes" (no connection, no frame).
var syncMarker = &request{}

func newClusterLink(nc *nats.Conn, h *hub) (*clusterLink, error) {
	l := &clusterLink{nc: nc, self: nats.NewInbox(), in: h.in, log: h.log, rooms: map[string]bool{}, news: map[string][]fanEvent{},
		follows: map[string]*nats.Subscription{}, shown: map[string]uint64{}, stopPoll: make(chan struct{}), pollDone: make(chan struct{}),
		wait: freshWait}
	for uri, r := range h.rooms {
		l.shown[uri] = r.head
	}
	sb, err := nc.Subscribe(stateSubject, func(m *nats.Msg) {
		if string(m.Data) == l.self || l.ignoreState.Load() {
			return
		}
		l.mu.Lock()
		l.state = true
		l.mu.Unlock()
		l.kick()
	})
	if err != nil {
		return nil, fmt.Errorf("relay: cluster: %w", err)
	}
	l.stateSb = sb
	go l.poll(h.db)
	return l, nil
}

// kick queues one sync marker unless one is queued already.
func (l *clusterLink) kick() {
	l.mu.Lock()
	if l.queued {
		l.mu.Unlock()
		return
	}
	l.queued = true
	l.mu.Unlock()
	defer func() { recover() }() // the writer's queue is closed at shutdown
	l.in <- syncMarker
}

// follow subscribes to room's announcements (once): a node hears only
// about rooms its clients subscribed to.
func (l *clusterLink) follow(room string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.follows[room] != nil {
		return
	}
	sb, err := l.nc.Subscribe(fanSubject(room), func(m *nats.Msg) { l.heard(room, m.Data) })
	if err != nil {
		l.log.Warn("cluster: follow room", "room", room, "err", err)
		return
	}
	l.follows[room] = sb
}

// catchUp asks the writer to read room's state from the store and waits
// (bounded) until it did: a client's cursor may be ahead of this node's
// view when it failed over from another node.
func (l *clusterLink) catchUp(room string) {
	done := make(chan struct{})
	l.mu.Lock()
	l.rooms[room] = true
	l.waiters = append(l.waiters, done)
	l.mu.Unlock()
	l.kick()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// catchUpState asks the writer to reload every room's state from the
// store and waits until it did, or until deadline.
func (l *clusterLink) catchUpState(deadline time.Time) {
	done := make(chan struct{})
	l.mu.Lock()
	l.state = true
	l.waiters = append(l.waiters, done)
	l.mu.Unlock()
	l.kick()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// take returns and clears what the writer must catch up with: rooms to
// read from the store, events announced by room, whether every room's
// state must be reloaded.
func (l *clusterLink) take() (rooms []string, news map[string][]fanEvent, state bool, waiters []chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for r := range l.rooms {
		rooms = append(rooms, r)
	}
	clear(l.rooms)
	news, l.news = l.news, map[string][]fanEvent{}
	state, l.state, l.queued = l.state, false, false
	waiters, l.waiters = l.waiters, nil
	return rooms, news, state, waiters
}

// announce tells the other nodes what batch b stored.
func (l *clusterLink) announce(b *store.Batch) {
	self := []byte(l.self)
	changed := stateChanged(b)
	if len(changed) > 0 {
		l.nc.Publish(stateSubject, self)
	}
	l.announceRooms(b, changed)
}

// stateChanged is the set of rooms whose state (settings, members, MLS
// group) b changes.
func stateChanged(b *store.Batch) map[string]bool {
	changed := map[string]bool{}
	for _, r := range b.Rooms {
		changed[r.URI] = true
	}
	for _, m := range b.Members {
		changed[m.Room] = true
	}
	for _, g := range b.Groups {
		changed[g.Room] = true
	}
	return changed
}

func (l *clusterLink) close() {
	close(l.stopPoll)
	<-l.pollDone
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, sb := range l.follows {
		sb.Unsubscribe()
	}
	if l.stateSb != nil {
		l.stateSb.Unsubscribe()
	}
}

// takeSync removes the sync markers from batch and, if there were any,
// catches up with the other nodes: it returns the outcomes that deliver
// their new events to this node's subscribers, in seq order, ahead of the
// batch's own.
func (h *hub) takeSync(batch []*request) ([]*request, []outcome) {
	if h.cl == nil {
		return batch, nil
	}
	n := 0
	for _, r := range batch {
		if r != syncMarker {
			batch[n] = r
			n++
		}
	}
	if n == len(batch) {
		return batch, nil
	}
	rooms, news, state, waiters := h.cl.take()
	outs := h.resync(rooms, news, state)
	for _, w := range waiters {
		close(w)
	}
	return batch[:n], outs
}

// resync delivers what other nodes stored: the events announced in news
// that continue what this node has shown, then, read from the store, every
// room's state and new events if state, else the new events of rooms and
// of the rooms whose announcements left a gap. Runs in the writer, so no
// local commit interleaves. When it returns, every room's state is as new
// as its head (stateSeq == head), unless a reload failed: events that
// change a room's state, or that this node read without knowing whether
// they do, make it reload the rooms' state, so that neither the writer nor
// a membership check works on members older than the events shown.
func (h *hub) resync(rooms []string, news map[string][]fanEvent, state bool) []outcome {
	outs, gaps, stale := h.deliverAnnounced(news)
	state = state || stale
	rooms = append(rooms, gaps...)
	if !state && len(rooms) > 0 {
		touched, behind := h.readHeads(rooms)
		if !behind {
			return append(outs, h.deliverNew(touched)...)
		}
		state = true
	}
	if !state {
		return outs
	}
	err := errors.New("test: reload refused")
	if !h.cl.failReload.Load() {
		err = h.reload()
	}
	if err != nil {
		h.log.Error("cluster: reload rooms", "err", err)
		return outs
	}
	return append(outs, h.deliverNew(nil)...)
}

// readHeads reads rooms' heads from the store and moves this node's heads
// up to them: the rooms touched, and whether a head moved past a room's
// state (events whose effect on the state is not known here).
func (h *hub) readHeads(rooms []string) ([]*room, bool) {
	ctx := context.Background()
	var touched []*room
	behind := false
	for _, uri := range rooms {
		r := h.room(uri)
		if r == nil {
			continue
		}
		st, err := h.db.Head(ctx, uri)
		if err != nil {
			h.log.Error("cluster: read head", "room", uri, "err", err)
			continue
		}
		r.mu.Lock()
		if st.Seq > r.head {
			r.head, r.lastTS = st.Seq, st.TS
		}
		behind = behind || r.stateSeq < r.head
		r.mu.Unlock()
		touched = append(touched, r)
	}
	return touched, behind
}

// freshWait bounds how long a client's request waits for its node to catch
// up with the room's state in the log.
const freshWait = 5 * time.Second

// roomFresh is room for a client's request about uri (subscribe, an
// invite, a room operation or a post), not for the writer: in a cluster it
// first reads the room's head from the store, and if this node does not
// know the room yet or its state is behind that head (a room created, a
// member invited or removed through another node a moment ago, whose
// state this node has not reloaded yet, although it may have fanned out
// the event already), it reloads the rooms' state before answering,
// waiting up to freshWait. Without it a client that moved to another node,
// or whose peer is on another node, was told no_such_room or not a member.
// It compares the log's head with the room's stateSeq, not its head: a
// node's head moves with the other nodes' announced events before their
// state is reloaded, and an invitee subscribing in between was refused.
// Past freshWait it returns the room as this node has it: the writer
// decides operations and posts again on its own state, and a subscription
// is checked against its cursor (awaitCursor).
func (h *hub) roomFresh(uri string) *room {
	r, _ := h.roomFreshState(uri)
	return r
}

// roomForRead is roomFresh for a read that a member's access decides
// (history, room_info, GroupInfo): a node whose state is still behind the
// log after freshWait refuses it, retryably, instead of answering from
// that state, whose members may include one removed through another node
// (who was then given the room's history and members).
func (h *hub) roomForRead(uri string) (*room, *refusal) {
	r, behind := h.roomFreshState(uri)
	if behind != nil {
		return nil, behind
	}
	if r == nil {
		return nil, refuse(proto.CodeNoSuchRoom, "no room %s", uri)
	}
	return r, nil
}

// roomFreshState is roomFresh, with a retryable refusal when the room's
// state is still behind the log's head after freshWait.
func (h *hub) roomFreshState(uri string) (*room, *refusal) {
	r := h.room(uri)
	js, ok := h.db.(*jetstream.Store)
	if h.cl == nil || !ok {
		return r, nil
	}
	deadline := time.Now().Add(h.cl.wait)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	st, found, err := js.HeadOf(ctx, uri)
	if err != nil || !found {
		return r, nil
	}
	for {
		stateSeq := uint64(0)
		if r != nil {
			r.mu.RLock()
			stateSeq = r.stateSeq
			r.mu.RUnlock()
			if stateSeq >= st.Seq {
				return r, nil
			}
		}
		if !time.Now().Before(deadline) {
			h.log.Warn("cluster: room state still behind the log", "room", uri, "log", st.Seq, "state", stateSeq, "wait", h.cl.wait)
			return r, refuse(proto.CodeInternal, "this relay node has not caught up with room %s (its state is at seq %d, the log at %d); retry", uri, stateSeq, st.Seq)
		}
		h.cl.catchUpState(deadline)
		r = h.room(uri)
	}
}

// freshBatch is roomFresh for the rooms of a batched subscribe: it reads
// every room's head from the log at once (jetstream.Store.HeadsOf: one
// leader request and a direct get per 512 rooms, not a leader read per
// room) and, while this node does not know one of the rooms or its state
// is behind the log's head, reloads the rooms' state, waiting up to
// freshWait. It returns the log's heads by room (a room of uris missing
// from them does not exist), or nil outside a cluster or when the heads
// could not be read: register then makes each room fresh on its own.
// Without it a batch was decided on this node's memory, which admitted a
// member removed through another node a moment before.
func (h *hub) freshBatch(uris []string) map[string]uint64 {
	js, ok := h.db.(*jetstream.Store)
	if h.cl == nil || !ok || len(uris) == 0 {
		return nil
	}
	deadline := time.Now().Add(h.cl.wait)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	stamps, err := js.HeadsOf(ctx, uris)
	if err != nil {
		h.log.Warn("cluster: read a batch's heads; each room read on its own", "rooms", len(uris), "err", err)
		return nil
	}
	heads := make(map[string]uint64, len(stamps))
	for uri, st := range stamps {
		heads[uri] = st.Seq
	}
	for {
		behind := ""
		for uri, seq := range heads {
			r := h.room(uri)
			if r == nil {
				behind = uri
				break
			}
			r.mu.RLock()
			b := r.stateSeq < seq
			r.mu.RUnlock()
			if b {
				behind = uri
				break
			}
		}
		if behind == "" {
			return heads
		}
		if !time.Now().Before(deadline) {
			h.log.Warn("cluster: room state still behind the log; answering from it", "room", behind, "log", heads[behind], "wait", h.cl.wait)
			return heads
		}
		h.cl.catchUpState(deadline)
	}
}

// awaitCursor makes sure, in a cluster, that r's state covers a
// subscriber's cursor since before the subscription is admitted: the
// replay starts after since, so a removal at or before since is not
// replayed and its end of the subscription (the event's Ends) never
// comes; only the state can refuse the removed member. A node whose state
// is behind since (its head moved with announced events or a catch-up,
// and the reload failed or is late) reloads first, waiting up to
// freshWait. Later removals end the subscription when the replay or the
// fan-out reaches them.
func (h *hub) awaitCursor(r *room, since uint64) {
	if h.cl == nil {
		return
	}
	deadline := time.Now().Add(h.cl.wait)
	for {
		r.mu.RLock()
		covered := r.stateSeq >= since
		r.mu.RUnlock()
		if covered || !time.Now().Before(deadline) {
			return
		}
		h.cl.catchUpState(deadline) // a reload updates r in place
	}
}

// cursorBehindState refuses, in a cluster, a subscription whose cursor
// since is past r's state (awaitCursor could not catch up), with a
// retryable error. r.mu is held.
func (h *hub) cursorBehindState(r *room, since uint64) *refusal {
	if h.cl == nil || r.stateSeq >= since {
		return nil
	}
	return refuse(proto.CodeInternal, "this relay node has not caught up with the room's members up to seq %d (it has seq %d); retry", since, r.stateSeq)
}

// freshForOp makes sure, in a cluster, that a room operation by user
// (join, leave, kick, commit...) is decided by the writer on the room's
// state as the log has it, not on a state older than the other nodes'
// writes (roomFresh): the writer refuses from memory, without asking the
// store, and a refusal stores nothing that a conflict could reveal.
func (h *hub) freshForOp(f proto.Frame) {
	if op, ok := f.(*proto.RoomOp); ok && h.cl != nil && op.Op != proto.KindInvite { // an invite's target check did
		h.roomFresh(op.Room)
	}
}

// freshForPost makes sure, in a cluster, that user's submit to uri is not
// refused from a state older than the log: if this node's view says user
// may not post there, it catches up first (roomFresh). A member's posts
// cost nothing more.
func (h *hub) freshForPost(uri, user string) {
	if h.cl == nil {
		return
	}
	r := h.room(uri)
	if r != nil {
		r.mu.RLock()
		ref := r.canPost(user)
		r.mu.RUnlock()
		if ref == nil {
			return
		}
	}
	h.roomFresh(uri)
}

// maxConflictRetries is how many times the writer commits a batch again
// after losing a room to another node.
const maxConflictRetries = 5

// retryAfterConflict handles a batch refused because another node appended
// to one of its rooms first (clients of different nodes posting to one
// room): it reloads the rooms, delivers what the other nodes stored, and
// commits the batch again (up to maxConflictRetries times), so that the
// clients get their acks instead of a retryable refusal. The last try's
// failure is refused as usual.
func (h *hub) retryAfterConflict(batch []*request, err error) ([]outcome, bool) {
	if h.cl.retrying >= maxConflictRetries || !errors.Is(err, store.ErrConflict) {
		return nil, false
	}
	// The other node's batch may still be in flight: give it a moment to
	// land before reading what it stored. Random, so that two nodes that
	// keep racing for one room fall out of step.
	time.Sleep(time.Duration(5+rand.IntN(10*(h.cl.retrying+1))) * time.Millisecond)
	if rerr := h.reload(); rerr != nil {
		h.log.Error("cluster: reload after a conflict", "err", rerr)
		return nil, false
	}
	outs := h.deliverNew(nil)
	h.cl.retrying++
	defer func() { h.cl.retrying-- }()
	return append(outs, h.commit(batch)...), true
}

// noteCommitted records the heads a successful batch left, and that the
// state of each room it wrote to is current up to its new head if it was
// current up to the batch's first event there (the writer applied the
// batch's own changes).
func (h *hub) noteCommitted(b *store.Batch) {
	first := map[string]uint64{}
	for _, e := range b.Events {
		h.cl.shown[e.Room] = e.Seq
		if _, ok := first[e.Room]; !ok {
			first[e.Room] = e.Seq
		}
	}
	for uri, f := range first {
		r := h.room(uri)
		if r == nil {
			continue
		}
		r.mu.Lock()
		if r.stateSeq+1 >= f {
			r.stateSeq = max(r.stateSeq, h.cl.shown[uri])
		}
		r.mu.Unlock()
	}
}

// deliverNew returns outcomes fanning out, to this node's subscribers, the
// events of rooms (nil: every room) between what this node last fanned
// out and the room's head: events other nodes stored. Writer only.
func (h *hub) deliverNew(rooms []*room) []outcome {
	if rooms == nil {
		h.mu.RLock()
		for _, r := range h.rooms {
			rooms = append(rooms, r)
		}
		h.mu.RUnlock()
	}
	ctx := context.Background()
	var outs []outcome
	for _, r := range rooms {
		r.mu.RLock()
		to, subs := r.head, len(r.subs)
		r.mu.RUnlock()
		from, ok := h.cl.shown[r.uri]
		h.cl.shown[r.uri] = to
		if !ok || to <= from {
			continue
		}
		if subs == 0 {
			r.tail.unload(h.tails) // it missed these events: reload on the next replay
			continue
		}
		for from < to {
			evs, err := h.db.EventsAfter(ctx, r.uri, from, int(min(to-from, 1000)))
			if err == nil && len(evs) == 0 {
				err = errors.New("no events")
			}
			if err != nil {
				h.log.Error("cluster: read events", "room", r.uri, "after", from, "err", err)
				r.tail.unload(h.tails)
				break
			}
			for _, e := range evs {
				outs = append(outs, outcome{events: []committed{{r: r, seq: e.Seq, ends: e.Ends, frame: e.Frame}}})
				from = e.Seq
			}
		}
	}
	return outs
}
