package content

// Expiry and read state. Absolute expiry is a wall-clock second; relative
// expiry counts from when THIS user read the message (content-08 §3.1), so
// it is scheduled only by MarkRead. Expired messages become tombstones. The
// unread and mention counters are kept incrementally so reading them is O(1).

import (
	"container/heap"
	"fmt"
)

type expiryEntry struct {
	at  int64 // ms since the UNIX epoch
	rec uint32
}

type expiryHeap []expiryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// policyExpiry applies the room's expiration policy to a message's expiry
// hint (hubTime in ms): it returns whether the message expires, whether
// relative to reading, and the time (seconds: absolute, or after reading).
func (t *Timeline) policyExpiry(e *Expiration, hubTime int64) (has, rel bool, at uint32) {
	p := t.opts.Policy.Expiry
	switch {
	case p.Mode == PolicyForbidden:
		return false, false, 0
	case e == nil && p.Mode == PolicyRequired && p.Default > 0:
		return true, true, p.Default
	case e == nil:
		return false, false, 0
	}
	if p.Min == 0 && p.Max == 0 {
		return true, e.Relative, e.Time
	}
	sent := max(hubTime/1000, 0)
	dur := int64(e.Time)
	if !e.Relative {
		dur -= sent
	}
	dur = max(dur, int64(p.Min))
	if p.Max > 0 {
		dur = min(dur, int64(p.Max))
	}
	if e.Relative {
		return true, true, uint32(dur)
	}
	return true, false, uint32(min(sent+dur, 1<<32-1))
}

// scheduleExpiry queues an absolute expiry, or remembers a relative one
// until the message is read. The local user's own messages count as read
// when the hub accepted them.
func (t *Timeline) scheduleExpiry(i uint32, r *record) {
	if r.flags&fHasExpiry == 0 {
		return
	}
	switch {
	case r.flags&fRelExpiry == 0:
		heap.Push(&t.expiry, expiryEntry{at: int64(r.expires) * 1000, rec: i})
	case r.sender == t.local && t.local != 0:
		t.startRelative(i, r, r.hubTime)
	default:
		// Even a late arrival behind the read marker has not been read yet.
		t.relUnread = append(t.relUnread, i)
	}
}

func (t *Timeline) startRelative(i uint32, r *record, readAt int64) {
	r.extra().readAt = readAt
	heap.Push(&t.expiry, expiryEntry{at: readAt + int64(r.expires)*1000, rec: i})
}

// countUnread counts a new head from someone else after the read marker.
func (t *Timeline) countUnread(i uint32, r *record) {
	if r.seq <= t.marker || (r.sender == t.local && t.local != 0) || r.flags&(fDeleted|fExpired) != 0 {
		return
	}
	r.flags |= fUnread
	t.unread++
	if t.mentionsLocal(r) {
		r.flags |= fMention | fMentionUnread
		t.mentions++
	}
}

// uncount removes a head from the counters (read, deleted or expired).
func (t *Timeline) uncount(r *record) {
	if r.flags&fUnread != 0 {
		r.flags &^= fUnread
		t.unread--
	}
	if r.flags&fMentionUnread != 0 {
		r.flags &^= fMentionUnread
		t.mentions--
	}
}

// MarkRead records that the local user read message id (any version's ID)
// at time at (ms since the UNIX epoch): the read marker moves up to it, and
// relative expiry starts for it and every earlier unread expiring message.
func (t *Timeline) MarkRead(id MessageID, at int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	ri, ok := t.ids.find(&t.recs, id)
	if !ok {
		return fmt.Errorf("mark read %s: %w", id, ErrUnknownMessage)
	}
	h := t.recs.at(t.recs.at(ri).owner)
	if h.seq > t.marker {
		from := t.visibleIndex(t.marker + 1)
		to := t.visibleIndex(h.seq + 1)
		for _, v := range t.visible[from:to] {
			if v&eventBit == 0 {
				t.uncount(t.recs.at(v))
			}
		}
		t.marker = h.seq
	}
	keep := t.relUnread[:0]
	for _, ri := range t.relUnread {
		r := t.recs.at(ri)
		if r.seq <= t.marker {
			t.startRelative(ri, r, at)
		} else {
			keep = append(keep, ri)
		}
	}
	t.relUnread = keep
	t.changed()
	return nil
}

// Expire turns every message whose expiry time is at or before now (ms) into
// a tombstone and returns how many it expired.
func (t *Timeline) Expire(now int64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for len(t.expiry) > 0 && t.expiry[0].at <= now {
		e := heap.Pop(&t.expiry).(expiryEntry)
		r := t.recs.at(e.rec)
		if r.flags&(fExpired|fDeleted) != 0 {
			continue
		}
		r.flags |= fExpired
		r.flags &^= fMention
		clearBody(r)
		if r.x != nil {
			for _, v := range r.x.versions {
				clearBody(t.recs.at(v))
			}
		}
		t.uncount(r)
		n++
	}
	if n > 0 {
		t.changed()
	}
	return n
}

// NextExpiry returns the earliest pending expiry time (ms), so the UI can
// schedule a tick; ok is false when nothing is scheduled.
func (t *Timeline) NextExpiry() (at int64, ok bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if len(t.expiry) == 0 {
		return 0, false
	}
	return t.expiry[0].at, true
}

// ExpiresAt returns when message id expires (ms). ok is false when it does
// not expire, or expires relative to a read that has not happened yet.
func (t *Timeline) ExpiresAt(id MessageID) (at int64, ok bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.view().ExpiresAt(id)
}

// Unread returns how many messages from others arrived after the read marker
// (deleted and expired ones excluded).
func (t *Timeline) Unread() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.unread
}

// Mentions returns how many unread messages mention the local user.
func (t *Timeline) Mentions() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.mentions
}

// ReadMarker returns the sequence number up to which the room is read.
func (t *Timeline) ReadMarker() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.marker
}
