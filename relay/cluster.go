package relay

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

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
}

// syncMarker is the request the writer recognises as "catch up with the
// other nodes" (no connection, no frame).
var syncMarker = &request{}

func newClusterLink(nc *nats.Conn, h *hub) (*clusterLink, error) {
	l := &clusterLink{nc: nc, self: nats.NewInbox(), in: h.in, log: h.log, rooms: map[string]bool{}, news: map[string][]fanEvent{},
		follows: map[string]*nats.Subscription{}, shown: map[string]uint64{}}
	for uri, r := range h.rooms {
		l.shown[uri] = r.head
	}
	sb, err := nc.Subscribe(stateSubject, func(m *nats.Msg) {
		if string(m.Data) == l.self {
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
// store and waits (bounded) until it did.
func (l *clusterLink) catchUpState() {
	done := make(chan struct{})
	l.mu.Lock()
	l.state = true
	l.waiters = append(l.waiters, done)
	l.mu.Unlock()
	l.kick()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
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
	if len(b.Rooms) > 0 || len(b.Members) > 0 {
		l.nc.Publish(stateSubject, self)
	}
	l.announceRooms(b)
}

func (l *clusterLink) close() {
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
// local commit interleaves.
func (h *hub) resync(rooms []string, news map[string][]fanEvent, state bool) []outcome {
	outs, gaps := h.deliverAnnounced(news)
	if state {
		if err := h.reload(); err != nil {
			h.log.Error("cluster: reload rooms", "err", err)
			return outs
		}
		return append(outs, h.deliverNew(nil)...)
	}
	rooms = append(rooms, gaps...)
	if len(rooms) == 0 {
		return outs
	}
	ctx := context.Background()
	var touched []*room
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
		r.mu.Unlock()
		touched = append(touched, r)
	}
	return append(outs, h.deliverNew(touched)...)
}

// roomFresh is room for a client's request about uri (subscribe, history,
// room_info, an invite, GroupInfo), not for the writer: in a cluster it
// first reads the room's head from the store, and if this node does not
// know the room yet or is behind it (a room created, a member invited, an
// event stored through another node a moment ago, whose announcement has
// not arrived), it reloads the rooms' state before answering. Without it a
// client that moved to another node, or whose peer is on another node, was
// told no_such_room or not a member.
func (h *hub) roomFresh(uri string) *room {
	r := h.room(uri)
	js, ok := h.db.(*jetstream.Store)
	if h.cl == nil || !ok {
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, found, err := js.HeadOf(ctx, uri)
	if err != nil || !found {
		return r
	}
	if r != nil {
		r.mu.RLock()
		behind := st.Seq > r.head
		r.mu.RUnlock()
		if !behind {
			return r
		}
	}
	h.cl.catchUpState()
	return h.room(uri)
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

// noteCommitted records the heads a successful batch left.
func (h *hub) noteCommitted(b *store.Batch) {
	for _, e := range b.Events {
		h.cl.shown[e.Room] = e.Seq
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
