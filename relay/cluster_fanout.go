package relay

import (
	"encoding/binary"
	"errors"
	"slices"

	"mimichat/relay/store"
)

// Cross-node fan-out carries the events themselves. After a commit the
// writer publishes, once per room it appended to, the batch's events of
// that room on the room's fan subject; each node following the room
// delivers them to its own subscribers without reading the store, as long
// as they continue what it has shown (core NATS may drop a message: a
// slow node, a cut route). A gap, an announcement too large for one NATS
// message, or more news than maxNewsPerRoom waiting falls back to reading
// the room's new events from the store (resync), as every announcement did
// before: that read took 0.1-2 s per catch-up on the loaded test machine
// (three requests to the stream's leader and a range read), so remote
// subscribers lagged the writer's own by as much.

// maxNewsPerRoom bounds the announced events a node keeps for a room until
// its writer delivers them; beyond it the node reads the store instead.
const maxNewsPerRoom = 8192

// fanEvent is one announced event.
type fanEvent struct {
	seq   uint64
	ts    int64
	ends  string
	frame []byte
	// state: the batch of this event changed the room's state (members,
	// settings, group), which the receiving node must reload before it
	// answers a membership question from it.
	state bool
}

// fanStateChanged is the announcement's trailing flag byte saying that its
// batch changed the room's state; an announcement without the byte (an
// older node) may have, and is read as if it had.
const (
	fanStateKept    = 0
	fanStateChanged = 1
)

// encodeFan encodes an announcement from origin: events of one room in
// seq order (none: "news, read the store"), then whether their batch
// changed the room's state.
func encodeFan(origin string, evs []store.Event, changed bool) []byte {
	n := 2 + len(origin) + binary.MaxVarintLen64
	for _, e := range evs {
		n += 4*binary.MaxVarintLen64 + len(e.Ends) + len(e.Frame)
	}
	b := make([]byte, 0, n)
	b = binary.AppendUvarint(b, uint64(len(origin)))
	b = append(b, origin...)
	b = binary.AppendUvarint(b, uint64(len(evs)))
	for _, e := range evs {
		b = binary.AppendUvarint(b, e.Seq)
		b = binary.AppendVarint(b, e.TS)
		b = binary.AppendUvarint(b, uint64(len(e.Ends)))
		b = append(b, e.Ends...)
		b = binary.AppendUvarint(b, uint64(len(e.Frame)))
		b = append(b, e.Frame...)
	}
	if changed {
		return append(b, fanStateChanged)
	}
	return append(b, fanStateKept)
}

var errBadFan = errors.New("relay: cluster: malformed fan-out announcement")

// decodeFan decodes an announcement; the frames alias b.
func decodeFan(b []byte) (origin string, evs []fanEvent, err error) {
	bytesOf := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, errBadFan
		}
		out := b[k : k+int(n)]
		b = b[k+int(n):]
		return out, nil
	}
	uvarint := func() (uint64, error) {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			return 0, errBadFan
		}
		b = b[k:]
		return v, nil
	}
	o, err := bytesOf()
	if err != nil {
		return "", nil, err
	}
	count, err := uvarint()
	if err != nil || count > uint64(len(b)) { // every event takes a few bytes
		return "", nil, errBadFan
	}
	evs = make([]fanEvent, 0, count)
	for range count {
		var e fanEvent
		if e.seq, err = uvarint(); err != nil {
			return "", nil, err
		}
		ts, k := binary.Varint(b)
		if k <= 0 {
			return "", nil, errBadFan
		}
		e.ts, b = ts, b[k:]
		ends, err := bytesOf()
		if err != nil {
			return "", nil, err
		}
		if e.frame, err = bytesOf(); err != nil {
			return "", nil, err
		}
		e.ends = string(ends)
		evs = append(evs, e)
	}
	changed := true // unknown: an older node's announcement
	switch {
	case len(b) == 1 && b[0] == fanStateKept:
		changed = false
	case len(b) == 1 && b[0] == fanStateChanged, len(b) == 0:
	default:
		return "", nil, errBadFan
	}
	for i := range evs {
		evs[i].state = changed
	}
	return string(o), evs, nil
}

// announceRooms publishes b's events on their rooms' fan subjects, one
// message per room (the events of a room keep their order in b), saying
// whether b changed the room's state.
func (l *clusterLink) announceRooms(b *store.Batch, changed map[string]bool) {
	var order []string
	byRoom := map[string][]store.Event{}
	for _, e := range b.Events {
		if _, ok := byRoom[e.Room]; !ok {
			order = append(order, e.Room)
		}
		byRoom[e.Room] = append(byRoom[e.Room], e)
	}
	limit := int(l.nc.MaxPayload())
	for _, room := range order {
		data := encodeFan(l.self, byRoom[room], changed[room])
		if len(data) > limit {
			data = encodeFan(l.self, nil, changed[room]) // the others read the store
		}
		l.nc.Publish(fanSubject(room), data)
	}
}

// heard records an announcement about room (fan subject callback).
func (l *clusterLink) heard(room string, data []byte) {
	origin, evs, err := decodeFan(data)
	if err == nil && origin == l.self {
		return
	}
	l.mu.Lock()
	switch {
	case err != nil || len(evs) == 0 || len(l.news[room])+len(evs) > maxNewsPerRoom:
		l.rooms[room] = true // read the store
		delete(l.news, room)
	case !l.rooms[room]:
		// The frames alias the message's buffer, which NATS does not reuse.
		l.news[room] = append(l.news[room], evs...)
	}
	l.mu.Unlock()
	l.kick()
}

// deliverAnnounced returns outcomes fanning out, to this node's
// subscribers, the announced events of each room that continue what this
// node has shown; the rooms whose announcements left a gap (or that this
// node has not shown anything of yet): those must be read from the store;
// and stale: an event delivered changed its room's state, or the room's
// state was behind already, so the rooms' state must be reloaded before
// the writer or a membership check uses it. A room's state moves up with
// its head only over events that changed no state. Writer only.
func (h *hub) deliverAnnounced(news map[string][]fanEvent) ([]outcome, []string, bool) {
	var outs []outcome
	var gaps []string
	stale := false
	for uri, evs := range news {
		r := h.room(uri)
		if r == nil {
			continue // not known here yet: the state announcement reloads it
		}
		from, ok := h.cl.shown[uri]
		if !ok {
			gaps = append(gaps, uri)
			continue
		}
		slices.SortFunc(evs, func(a, b fanEvent) int {
			switch {
			case a.seq < b.seq:
				return -1
			case a.seq > b.seq:
				return 1
			}
			return 0
		})
		var last fanEvent
		changed := false
		for _, e := range evs {
			if e.seq <= from {
				continue // shown already (another writer's, or read from the store)
			}
			if e.seq != from+1 {
				gaps = append(gaps, uri)
				break
			}
			outs = append(outs, outcome{events: []committed{{r: r, seq: e.seq, ends: e.ends, frame: e.frame}}})
			from, last = e.seq, e
			changed = changed || e.state
		}
		h.cl.shown[uri] = from
		if last.seq != 0 {
			r.mu.Lock()
			if !changed && r.stateSeq >= r.head {
				r.stateSeq = max(r.stateSeq, last.seq)
			}
			if last.seq > r.head {
				r.head, r.lastTS = last.seq, max(r.lastTS, last.ts)
			}
			stale = stale || r.stateSeq < r.head
			r.mu.Unlock()
		}
	}
	return outs, gaps, stale
}
