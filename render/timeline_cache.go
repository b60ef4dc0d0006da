package render

import (
	"strconv"
	"strings"
	"time"

	"mimichat/content"
)

// Cache keeps rendered rows by everything a row shows (rowKey: the
// Message, the width and the theme), so a steady frame re-renders nothing.
// It is bounded by two generations of at most limit/2 rows each: when the
// new one is full it becomes the old one and the old one is dropped; a row
// found in the old generation moves to the new one. So the rows in use
// (on screen, rendered ahead) survive the turnover, and no frame re-renders
// a whole pane because the cache started over (it cleared everything at
// its limit before: the frame after that was a page up's slowest).
type Cache struct {
	limit  int
	m, old map[rowKey][]string
	Hits   int
	Miss   int
}

// rowKey is a Message in comparable form, with the width and the theme:
// each field of Message has a field of the same name here, holding what
// the row shows of it (the minute of a time, the countdown's bucket, a
// quote or the reaction chips by value), except the ones keyedBy lists.
// TestRowKeyCoversMessage fails when a field of Message is missing, so a
// new field cannot give stale rows.
type rowKey struct {
	Kind                              RowKind
	ID, Current                       content.MessageID
	Sender, Name                      string
	Time                              time.Time // to the minute (HH:MM), in its zone
	Languages                         string    // joined by NUL
	Edited, Deleted, Expired, Mention bool
	DeletedBy                         string
	ExpiresIn                         string // ExpiryBucket: what the countdown shows
	Quote                             Quote
	HasQuote                          bool
	Reactions                         string // chipsKey
	ThreadReplies                     int
	ThreadLast                        string
	ThreadLastTime                    time.Time // to the minute
	InThread                          bool
	Delivery                          Delivery
	ReadBy                            int
	Err                               string
	Text                              string
	People                            *People // shared by every row, never changed
	Images                            [MaxInlineImages]InlineImage
	ImagesMore                        int
	Continued                         bool
	Layout                            Layout

	width int
	theme string
}

// keyedBy names the fields of Message that rowKey covers through another:
// a version's message ID is the hash of its content, so Current decides
// the body.
var keyedBy = map[string]string{"Body": "Current"}

// keyOf is m's key at width in theme th.
func keyOf(m *Message, width int, th *Theme) rowKey {
	k := rowKey{
		Kind: m.Kind, ID: m.ID, Current: m.Current, Sender: m.Sender, Name: m.Name,
		Time: m.Time.Truncate(time.Minute), Languages: strings.Join(m.Languages, "\x00"),
		Edited: m.Edited, Deleted: m.Deleted, Expired: m.Expired, Mention: m.Mention, DeletedBy: m.DeletedBy,
		ExpiresIn: ExpiryBucket(m.ExpiresIn), Reactions: chipsKey(m.Reactions),
		ThreadReplies: m.ThreadReplies, ThreadLast: m.ThreadLast, ThreadLastTime: m.ThreadLastTime.Truncate(time.Minute),
		InThread: m.InThread, Delivery: m.Delivery, ReadBy: m.ReadBy, Err: m.Err, Text: m.Text, People: m.People, Images: m.Images, ImagesMore: m.ImagesMore,
		Continued: m.Continued, Layout: m.Layout, width: width, theme: th.ID(),
	}
	if m.Quote != nil {
		k.Quote, k.HasQuote = *m.Quote, true
	}
	return k
}

// chipsKey writes reaction chips as one string; keys are quoted, so two
// different lists never write the same string.
func chipsKey(chips []Chip) string {
	if len(chips) == 0 {
		return ""
	}
	var b strings.Builder
	for _, ch := range chips {
		b.WriteString(strconv.Quote(ch.Key))
		b.WriteString(strconv.Itoa(ch.Count))
		if ch.Mine {
			b.WriteByte('*')
		}
		b.WriteByte(',')
	}
	return b.String()
}

// NewCache returns a cache of at most limit rows (0: 4096).
func NewCache(limit int) *Cache {
	if limit <= 0 {
		limit = 4096
	}
	return &Cache{limit: limit, m: make(map[rowKey][]string, 256)}
}

// put adds a row to the new generation, turning the generations over when
// it is full.
func (c *Cache) put(k rowKey, l []string) {
	if len(c.m) >= max(1, c.limit/2) {
		c.old, c.m = c.m, make(map[rowKey][]string, len(c.m))
	}
	c.m[k] = l
}

// Render returns m's lines, from the cache when nothing it shows changed.
// Day and event rows are cheap and not cached.
func (c *Cache) Render(m *Message, width int, th *Theme) []string {
	if m.Kind == RowDay || m.Kind == RowEvent || m.Kind == RowHidden || m.ID.IsZero() {
		return RenderMessage(m, width, th)
	}
	k := keyOf(m, width, th)
	if l, ok := c.m[k]; ok {
		c.Hits++
		return l
	}
	if l, ok := c.old[k]; ok {
		c.Hits++
		delete(c.old, k)
		c.put(k, l)
		return l
	}
	c.Miss++
	l := RenderMessage(m, width, th)
	c.put(k, l)
	return l
}

// Len is the number of cached rows.
func (c *Cache) Len() int { return len(c.m) + len(c.old) }
