package relay

import "sync"

// DefaultTailCacheBytes bounds the memory of all rooms' tail caches
// together unless Config.TailCacheBytes says otherwise.
const DefaultTailCacheBytes = 64 << 20

// minTailCacheBytes is the smallest budget: one room's full tail.
const minTailCacheBytes = tailBytes + tailEvents*tailEntryOverhead

// tailCache bounds the tails of all rooms together: each tail reports what
// it holds after every change, and when the total is over budget the least
// recently used tails (appended to or replayed from) are unloaded. An
// unloaded room's next replay reads its tail from the store again.
//
// Lock order: a tail's mu, then the cache's mu. Victims are unloaded after
// the caller has released its own tail's lock, so no goroutine holds two
// tails' locks.
type tailCache struct {
	budget int // bytes; <= 0 unlimited

	mu         sync.Mutex
	total      int
	head, back *tail // most and least recently used
	evictions  int64
	onChange   func(total int) // metrics; called with mu held
}

func newTailCache(budget int) *tailCache { return &tailCache{budget: budget} }

// charge records that t now holds bytes (0: t is empty or unloaded) and
// marks it most recently used. Called with t.mu held. It returns the tails
// to unload to get back under budget, never t itself; the caller passes
// them to evict once it has released t.mu.
func (c *tailCache) charge(t *tail, bytes int) []*tail {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total += bytes - t.charged
	t.charged = bytes
	c.unlink(t)
	if bytes > 0 {
		c.pushFront(t)
	}
	var victims []*tail
	for c.budget > 0 && c.total > c.budget && c.back != nil && c.back != t {
		v := c.back
		c.unlink(v)
		c.total -= v.charged
		v.charged = 0
		victims = append(victims, v)
		c.evictions++
	}
	if c.onChange != nil {
		c.onChange(c.total)
	}
	return victims
}

// evict unloads the tails charge chose. Called with no tail's lock held.
// A victim touched again in between is unloaded all the same (its next
// replay reloads it) and its charge set back to zero under its own lock,
// so the total stays exact.
func (c *tailCache) evict(victims []*tail) {
	for _, v := range victims {
		v.unload(c)
	}
}

// bytes is the memory the tails hold together.
func (c *tailCache) bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

func (c *tailCache) unlink(t *tail) {
	if !t.listed {
		return
	}
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		c.head = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else {
		c.back = t.prev
	}
	t.prev, t.next, t.listed = nil, nil, false
}

func (c *tailCache) pushFront(t *tail) {
	t.next, t.prev, t.listed = c.head, nil, true
	if c.head != nil {
		c.head.prev = t
	} else {
		c.back = t
	}
	c.head = t
}
