package content

// Read access. A View reads the state without copying it; Timeline.Read
// holds the read lock for a whole frame so Len and At agree. The Timeline's
// own accessor methods each take the lock once. Returned bodies alias the
// stored bytes and must not be modified.

import "slices"

// ItemKind is what a visible row is.
type ItemKind uint8

const (
	ItemMessage ItemKind = iota // a message (or its tombstone)
	ItemKnock                   // a knock (IsKnock)
	ItemEvent                   // a room event: a quiet system line
)

// Item is one visible row, by value (no allocation).
type Item struct {
	Kind    ItemKind
	Seq     uint64
	HubTime int64
	Sender  string
	ID      MessageID  // first version's ID: the one replacements name
	Current MessageID  // ID of the version shown
	Body    NestedPart // the current version's body; NullPart for a tombstone
	Topic   string     // topicId as a string ("" = none)

	Versions  int    // 1 + number of edits (a delete counts as a version)
	Edited    bool   // an edit is in force or was made before a delete
	Deleted   bool   // retracted: show a placeholder
	DeletedBy string // who deleted it (differs from Sender for a moderator delete)
	Expired   bool
	Mention   bool // mentions the local user
	Unread    bool

	ReplyTo   MessageID // the version named by inReplyTo (zero = not a reply)
	Reactions int       // reaction messages aimed at it (including withdrawn ones)

	Event RoomEvent // Kind == ItemEvent
}

// View reads a timeline whose read lock is held.
type View struct{ t *Timeline }

func (t *Timeline) view() View { return View{t} }

// Read runs fn with the read lock held: everything fn reads through v is one
// consistent state. fn must not call the Timeline's methods.
func (t *Timeline) Read(fn func(v View)) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	fn(View{t})
}

// Version returns the change counter of the state being read.
func (v View) Version() uint64 { return v.t.version.Load() }

// Len returns the number of visible rows.
func (v View) Len() int { return len(v.t.visible) }

// At returns visible row i (0 = oldest), in hub order.
func (v View) At(i int) Item {
	e := v.t.visible[i]
	if e&eventBit != 0 {
		ev := v.t.events[e&^eventBit]
		return Item{Kind: ItemEvent, Seq: ev.Seq, HubTime: ev.HubTime, Sender: ev.Actor, Event: ev}
	}
	return v.item(e)
}

func (v View) item(hi uint32) Item {
	t := v.t
	h := t.recs.at(hi)
	cur := t.recs.at(t.current(hi))
	it := Item{Kind: ItemMessage, Seq: h.seq, HubTime: h.hubTime, Sender: t.names.str(h.sender),
		ID: h.id, Current: cur.id, Topic: t.topicString(t.currentTopic(hi)),
		Deleted: h.flags&fDeleted != 0, Expired: h.flags&fExpired != 0,
		Mention: h.flags&fMention != 0, Unread: h.flags&fUnread != 0, Versions: 1}
	if h.kind == recKnock {
		it.Kind = ItemKnock
	}
	if h.x != nil {
		it.Versions += len(h.x.versions)
		it.Reactions = len(h.x.reactions)
		for _, vi := range h.x.versions {
			if t.recs.at(vi).kind == recEdit {
				it.Edited = true
			}
		}
	}
	switch {
	case it.Deleted:
		it.DeletedBy = t.names.str(cur.sender)
		it.Body = NestedPart{Disposition: Render, Cardinality: NullPart}
	case it.Expired:
		it.Body = NestedPart{Disposition: Render, Cardinality: NullPart}
	default:
		it.Body = t.body(cur)
	}
	if h.parent != 0 {
		it.ReplyTo = t.recs.at(h.parent - 1).id
	} else if h.flags&fUnknownParent != 0 {
		it.ReplyTo = t.unknownParent[hi]
	}
	return it
}

func (t *Timeline) topicString(topic uint32) string {
	if topic == 0 {
		return ""
	}
	return t.strs.str(topic - 1)
}

// Index returns the visible row of message id (any version's ID).
func (v View) Index(id MessageID) (int, bool) {
	ri, ok := v.t.ids.find(&v.t.recs, id)
	if !ok {
		return 0, false
	}
	h := v.t.recs.at(v.t.recs.at(ri).owner)
	if h.kind != recMessage && h.kind != recKnock {
		return 0, false
	}
	// Sequence numbers should be unique; if a relay repeated one, scan the
	// rows that share it.
	for i := v.t.visibleIndex(h.seq); i < len(v.t.visible) && v.t.visibleSeq(v.t.visible[i]) == h.seq; i++ {
		if v.t.visible[i] == h.owner {
			return i, true
		}
	}
	return 0, false
}

// Get returns the row of message id (any version's ID).
func (v View) Get(id MessageID) (Item, bool) {
	ri, ok := v.t.ids.find(&v.t.recs, id)
	if !ok {
		return Item{}, false
	}
	hi := v.t.recs.at(ri).owner
	if k := v.t.recs.at(hi).kind; k != recMessage && k != recKnock {
		return Item{}, false
	}
	return v.item(hi), true
}

// VersionInfo is one version of a message, oldest first.
type VersionInfo struct {
	ID      MessageID
	Seq     uint64
	HubTime int64
	By      string
	Body    NestedPart // empty once the message is deleted or expired
	Delete  bool       // this version is the delete
}

// Versions returns the versions of message id (any version's ID).
func (v View) Versions(id MessageID) []VersionInfo {
	t := v.t
	ri, ok := t.ids.find(&t.recs, id)
	if !ok {
		return nil
	}
	hi := t.recs.at(ri).owner
	h := t.recs.at(hi)
	all := []uint32{hi}
	if h.x != nil {
		all = append(all, h.x.versions...)
	}
	out := make([]VersionInfo, 0, len(all))
	for _, vi := range all {
		r := t.recs.at(vi)
		out = append(out, VersionInfo{ID: r.id, Seq: r.seq, HubTime: r.hubTime, By: t.names.str(r.sender),
			Body: t.body(r), Delete: r.kind == recDelete || r.kind == recUnlike})
	}
	return out
}

// Refused lists the most recent refusals, oldest first.
func (v View) Refused() []Refusal {
	rs := v.t.refusals
	start := 0
	if len(rs) == v.t.opts.MaxRefusals {
		start = v.t.refusedN % len(rs) // the oldest entry of the full ring
	}
	return append(append([]Refusal(nil), rs[start:]...), rs[:start]...)
}

// RefusedTotal counts every refusal since the start, listed or not.
func (v View) RefusedTotal() int { return v.t.refusedN }

// Knocks counts the knocks received.
func (v View) Knocks() int { return len(v.t.knocks) }

// KnocksAfter returns the knocks with a sequence number above seq, so a UI
// can alert once per new knock.
func (v View) KnocksAfter(seq uint64) []Item {
	var out []Item
	for k := len(v.t.knocks) - 1; k >= 0; k-- {
		if i := v.t.knocks[k]; v.t.recs.at(i).seq > seq {
			out = append(out, v.item(i))
		}
	}
	slices.Reverse(out)
	return out
}

// ExpiresAt returns when message id expires (ms since the UNIX epoch).
func (v View) ExpiresAt(id MessageID) (int64, bool) {
	t := v.t
	ri, ok := t.ids.find(&t.recs, id)
	if !ok {
		return 0, false
	}
	h := t.recs.at(t.recs.at(ri).owner)
	switch {
	case h.flags&fHasExpiry == 0:
		return 0, false
	case h.flags&fRelExpiry == 0:
		return int64(h.expires) * 1000, true
	case h.x != nil && h.x.readAt != 0:
		return h.x.readAt + int64(h.expires)*1000, true
	}
	return 0, false
}

// Len, At, Get, Index, Versions and Refused on the Timeline lock once each.

func (t *Timeline) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.visible)
}

func (t *Timeline) At(i int) Item {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.view().At(i)
}

func (t *Timeline) Get(id MessageID) (Item, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.view().Get(id)
}

func (t *Timeline) Index(id MessageID) (int, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.view().Index(id)
}

func (t *Timeline) Versions(id MessageID) []VersionInfo {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.view().Versions(id)
}

func (t *Timeline) Refused() []Refusal {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.view().Refused()
}
