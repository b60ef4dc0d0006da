package render

import (
	"hash/maphash"
	"strconv"

	"mimichat/content"
)

// Cache keeps rendered rows by message version, width, theme and the
// decorations that change around a message (reactions, receipts, quote,
// countdown), so a steady frame re-renders nothing. It is bounded: when it
// grows past its limit it starts over, which costs one frame of re-rendering.
type Cache struct {
	limit int
	m     map[cacheKey][]string
	seed  maphash.Seed
	Hits  int
	Miss  int
}

type cacheKey struct {
	id, current content.MessageID
	width       int
	theme       string
	deco        uint64
}

// NewCache returns a cache of at most limit rows (0: 4096).
func NewCache(limit int) *Cache {
	if limit <= 0 {
		limit = 4096
	}
	return &Cache{limit: limit, m: make(map[cacheKey][]string, 256), seed: maphash.MakeSeed()}
}

// Render returns m's lines, from the cache when nothing it shows changed.
// Day and event rows are cheap and not cached.
func (c *Cache) Render(m *Message, width int, th *Theme) []string {
	if m.Kind == RowDay || m.Kind == RowEvent || m.Kind == RowHidden || m.ID.IsZero() {
		return RenderMessage(m, width, th)
	}
	k := cacheKey{id: m.ID, current: m.Current, width: width, theme: th.ID(), deco: c.deco(m)}
	if l, ok := c.m[k]; ok {
		c.Hits++
		return l
	}
	c.Miss++
	l := RenderMessage(m, width, th)
	if len(c.m) >= c.limit {
		clear(c.m)
	}
	c.m[k] = l
	return l
}

// Len is the number of cached rows.
func (c *Cache) Len() int { return len(c.m) }

func (c *Cache) deco(m *Message) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	b := func(v bool) {
		if v {
			h.WriteByte(1)
		} else {
			h.WriteByte(0)
		}
	}
	h.WriteByte(byte(m.Kind))
	h.WriteString(m.Name)
	h.WriteString(strconv.FormatInt(m.Time.Unix()/60, 36))
	b(m.Edited)
	b(m.Deleted)
	b(m.Expired)
	b(m.Mention)
	b(m.InThread)
	h.WriteString(m.DeletedBy)
	h.WriteString(ExpiryBucket(m.ExpiresIn))
	if q := m.Quote; q != nil {
		h.WriteByte(byte(q.State) + 1)
		h.WriteString(q.Author)
		h.WriteString(q.Text)
	}
	for _, ch := range m.Reactions {
		h.WriteString(ch.Key)
		h.WriteString(strconv.Itoa(ch.Count))
		b(ch.Mine)
	}
	h.WriteString(strconv.Itoa(m.ThreadReplies))
	h.WriteString(m.ThreadLast)
	h.WriteString(strconv.FormatInt(m.ThreadLastTime.Unix(), 36))
	h.WriteByte(byte(m.Delivery))
	h.WriteString(strconv.Itoa(m.ReadBy))
	h.WriteString(m.Err)
	h.WriteString(m.Text)
	for _, l := range m.Languages {
		h.WriteString(l)
	}
	return h.Sum64()
}
