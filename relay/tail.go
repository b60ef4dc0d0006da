package relay

import (
	"context"
	"sync"

	"mimichat/relay/store"
)

// Tail cache bounds, per room. The total over all rooms is bounded by
// Config.TailCacheBytes (tailCache).
const (
	tailEvents = 1024
	tailBytes  = 1 << 20
)

// tailEntryOverhead is what one cached event costs besides its frame bytes
// (the entry in the ring and the slice and string headers), so the budget
// counts memory, not just payload.
const tailEntryOverhead = 64

// tailEntry is one cached event: what a replay needs of store.Event.
type tailEntry struct {
	seq   uint64
	ends  string
	frame []byte
}

// tail caches the newest committed events of a room, so reconnecting
// clients replay from memory instead of each querying SQLite. It holds a
// contiguous run of seqs in a ring (appending to a full tail overwrites the
// oldest entry instead of copying the run): the dispatcher appends every
// event in commit order, and the first replay of a room after startup, or
// after the tail was evicted by the cache's budget, loads it from the
// store.
type tail struct {
	mu     sync.Mutex
	loaded bool
	// expiring: the room's expired events are being deleted from the
	// store (expireRooms); replays read the store meanwhile, so none
	// serves from memory an event the store no longer has
	expiring bool
	ring     []tailEntry // len grows up to tailEvents; entries start..start+n-1 (mod len) are held
	start    int
	n        int
	bytes    int // frame bytes plus tailEntryOverhead per entry held

	// Guarded by tailCache.mu: the cache's view of this tail.
	charged    int   // bytes the cache counts for this tail
	prev, next *tail // LRU list; nil when not listed
	listed     bool
}

func entrySize(e tailEntry) int { return len(e.frame) + len(e.ends) + tailEntryOverhead }

// at returns the i-th held entry (0 is the oldest).
func (t *tail) at(i int) *tailEntry { return &t.ring[(t.start+i)%len(t.ring)] }

// dropOldest forgets the oldest held entry.
func (t *tail) dropOldest() {
	e := t.at(0)
	t.bytes -= entrySize(*e)
	*e = tailEntry{} // let the frame be collected
	t.start = (t.start + 1) % len(t.ring)
	t.n--
}

// push appends e after the newest entry, evicting the oldest as the
// per-room bounds require.
func (t *tail) push(e tailEntry) {
	if t.n == len(t.ring) {
		if len(t.ring) < tailEvents {
			grown := make([]tailEntry, min(max(2*len(t.ring), 16), tailEvents))
			for i := 0; i < t.n; i++ {
				grown[i] = *t.at(i)
			}
			t.ring, t.start = grown, 0
		} else {
			t.dropOldest()
		}
	}
	*t.at(t.n) = e
	t.n++
	t.bytes += entrySize(e)
	for t.n > 1 && t.bytes > tailBytes {
		t.dropOldest()
	}
}

func (t *tail) clear() {
	t.ring, t.start, t.n, t.bytes = nil, 0, 0, 0
}

// held is the memory the cache counts for this tail: the entries and the
// ring's empty slots.
func (t *tail) held() int {
	return t.bytes + (len(t.ring)-t.n)*tailEntryOverhead
}

// add appends a just-committed event. Before the first load there is
// nothing to extend; an event already held (loaded from the database
// before the dispatcher reached it) is skipped.
func (t *tail) add(cache *tailCache, e store.Event) {
	t.mu.Lock()
	if !t.loaded {
		t.mu.Unlock()
		return
	}
	if t.n > 0 {
		last := t.at(t.n - 1).seq
		if e.Seq <= last {
			t.mu.Unlock()
			return
		}
		if e.Seq != last+1 {
			t.clear() // cannot happen: start a fresh run
		}
	}
	t.push(tailEntry{seq: e.Seq, ends: e.Ends, frame: e.Frame})
	victims := cache.charge(t, t.held())
	t.mu.Unlock()
	cache.evict(victims)
}

// after returns up to limit cached events with seq > after. ok is false
// when the cache does not reach back to after+1 (read the store).
func (t *tail) after(ctx context.Context, cache *tailCache, s store.Store, room string, after uint64, limit int) (evs []store.Event, ok bool, err error) {
	t.mu.Lock()
	if t.expiring {
		t.mu.Unlock()
		return nil, false, nil
	}
	if !t.loaded {
		if err := t.load(ctx, s, room); err != nil {
			t.mu.Unlock()
			return nil, false, err
		}
	}
	evs, ok = t.read(room, after, limit)
	victims := cache.charge(t, t.held())
	t.mu.Unlock()
	cache.evict(victims)
	return evs, ok, nil
}

// read copies the held events after seq after. Called with t.mu held.
func (t *tail) read(room string, after uint64, limit int) ([]store.Event, bool) {
	if t.n == 0 {
		return nil, after == 0
	}
	first := t.at(0).seq
	if after+1 < first {
		return nil, false
	}
	i := after + 1 - first
	if i >= uint64(t.n) {
		return nil, true
	}
	end := min(t.n, int(i)+limit)
	evs := make([]store.Event, 0, end-int(i))
	for j := int(i); j < end; j++ {
		e := t.at(j)
		evs = append(evs, store.Event{Room: room, Seq: e.seq, Ends: e.ends, Frame: e.frame})
	}
	return evs, true
}

// load reads the room's newest events. Called with t.mu held, so the
// dispatcher's adds wait and then extend the loaded run.
func (t *tail) load(ctx context.Context, s store.Store, room string) error {
	evs, _, err := s.EventsBefore(ctx, room, 1, 1<<62, tailEvents)
	if err != nil {
		return err
	}
	t.clear()
	for _, e := range evs {
		t.push(tailEntry{seq: e.Seq, ends: e.Ends, frame: e.Frame})
	}
	t.loaded = true
	return nil
}

// unload drops everything held; the next replay loads the tail again.
func (t *tail) unload(cache *tailCache) {
	t.mu.Lock()
	t.unloadLocked(cache)
	t.mu.Unlock()
}

func (t *tail) unloadLocked(cache *tailCache) {
	t.clear()
	t.loaded = false
	cache.charge(t, 0)
}

// beginExpiry sends replays to the store until endExpiry: the room's
// expired events are being deleted there. Before, the tail was dropped
// only after the delete, and a replay in between served from memory
// events the store no longer held (TestRoomExpiryPolicy, under load).
func (t *tail) beginExpiry() {
	t.mu.Lock()
	t.expiring = true
	t.mu.Unlock()
}

// endExpiry ends beginExpiry; deleted says whether the store deleted any
// event, and then the tail is dropped (the next replay loads what is
// left).
func (t *tail) endExpiry(cache *tailCache, deleted bool) {
	t.mu.Lock()
	t.expiring = false
	if deleted {
		t.unloadLocked(cache)
	}
	t.mu.Unlock()
}
