package relay

import (
	"context"
	"sync"

	"mimichat/relay/store"
)

// Tail cache bounds, per room.
const (
	tailEvents = 1024
	tailBytes  = 1 << 20
)

// tail caches the newest committed events of a room, so reconnecting
// clients replay from memory instead of each querying SQLite. It holds a
// contiguous run of seqs: the dispatcher appends every event in commit
// order, and the first replay of a room after startup loads it from the
// store.
type tail struct {
	mu     sync.Mutex
	loaded bool
	evs    []store.Event // ascending, contiguous seqs
	bytes  int
}

// add appends a just-committed event. Before the first load there is
// nothing to extend; an event already held (loaded from the database
// before the dispatcher reached it) is skipped.
func (t *tail) add(e store.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.loaded {
		return
	}
	if n := len(t.evs); n > 0 && e.Seq != t.evs[n-1].Seq+1 {
		if e.Seq <= t.evs[n-1].Seq {
			return
		}
		t.evs, t.bytes = nil, 0 // cannot happen: start a fresh run
	}
	t.evs = append(t.evs, e)
	t.bytes += len(e.Frame)
	drop := 0
	for len(t.evs)-drop > tailEvents || (t.bytes > tailBytes && len(t.evs)-drop > 1) {
		t.bytes -= len(t.evs[drop].Frame)
		drop++
	}
	if drop > 0 {
		t.evs = append(t.evs[:0:0], t.evs[drop:]...)
	}
}

// after returns up to limit cached events with seq > after. ok is false
// when the cache does not reach back to after+1 (read the store).
func (t *tail) after(ctx context.Context, s store.Store, room string, after uint64, limit int) (evs []store.Event, ok bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.loaded {
		if err := t.load(ctx, s, room); err != nil {
			return nil, false, err
		}
	}
	if len(t.evs) == 0 {
		return nil, after == 0, nil
	}
	first := t.evs[0].Seq
	if after+1 < first {
		return nil, false, nil
	}
	i := int(after + 1 - first)
	if i >= len(t.evs) {
		return nil, true, nil
	}
	end := min(len(t.evs), i+limit)
	return append([]store.Event(nil), t.evs[i:end]...), true, nil
}

// load reads the room's newest events. Called with t.mu held, so the
// dispatcher's adds wait and then extend the loaded run.
func (t *tail) load(ctx context.Context, s store.Store, room string) error {
	evs, _, err := s.EventsBefore(ctx, room, 1, 1<<62, tailEvents)
	if err != nil {
		return err
	}
	t.evs, t.bytes = nil, 0
	for _, e := range evs {
		t.evs = append(t.evs, e)
		t.bytes += len(e.Frame)
	}
	for len(t.evs) > 1 && t.bytes > tailBytes {
		t.bytes -= len(t.evs[0].Frame)
		t.evs = t.evs[1:]
	}
	t.loaded = true
	return nil
}
