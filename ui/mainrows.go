package ui

import (
	"sort"

	"mimichat/content"
)

// The main timeline shows each thread once, like Element and Slack: a
// thread started from a message (its first reply answers a message outside
// any topic) is shown as that message with a reply marker; a thread that
// starts with a topic message is shown as its first message. Every other
// message of a topic lives only in the thread pane.
//
// mainRows maps main-timeline rows to the room timeline's visible rows. It
// is kept up to date incrementally: new visible rows are examined once
// (O(1) each); only a change that moves rows already indexed (a late
// entry inserted before them, a thread gaining an earlier first message, a
// threaded message edited or deleted, a history page swapping the timeline)
// rebuilds it, once, on the next read.
type mainRows struct {
	tl      *content.Timeline // the timeline indexed (history pages swap it)
	ver     uint64            // its Version when last synced
	rows    []int32           // visible indices shown in the main timeline, ascending
	scanned int               // visible rows examined
	lastSeq uint64            // Seq of visible row scanned-1: an insert before it shifts it
	// firsts is each topic's first message when last seen; anchors maps a
	// thread's root (a message outside the topic) to the topic.
	// firstOf is the reverse of firsts.
	firsts  map[string]content.MessageID
	firstOf map[content.MessageID]string
	anchors map[content.MessageID]string
	dirty   bool
}

// sync brings the index up to date with v, a view of tl.
func (x *mainRows) sync(tl *content.Timeline, v content.View) {
	if x.tl == tl && x.ver == v.Version() && !x.dirty {
		return
	}
	n := v.Len()
	if x.tl != tl || x.dirty || x.scanned > n || (x.scanned > 0 && v.At(x.scanned-1).Seq != x.lastSeq) {
		x.reset(tl)
	}
	for x.scanned < n {
		i := x.scanned
		it := v.At(i)
		if x.shown(v, it) {
			x.rows = append(x.rows, int32(i))
		}
		x.scanned++
		x.lastSeq = it.Seq
		if x.dirty { // a thread gained an earlier first message: start over
			x.reset(tl)
			n = v.Len()
		}
	}
	x.ver = v.Version()
}

func (x *mainRows) reset(tl *content.Timeline) {
	x.tl, x.rows, x.scanned, x.lastSeq, x.dirty = tl, x.rows[:0], 0, 0, false
	x.firsts = map[string]content.MessageID{}
	x.firstOf = map[content.MessageID]string{}
	x.anchors = map[content.MessageID]string{}
}

// shown reports whether visible item it belongs in the main timeline, and
// records thread firsts and roots on the way.
func (x *mainRows) shown(v content.View, it content.Item) bool {
	d := x.decide(v, it)
	if d.stale {
		x.dirty = true
		return false
	}
	if d.topic != "" {
		x.firsts[d.topic], x.firstOf[d.first] = d.first, d.topic
	}
	if !d.root.IsZero() {
		x.anchors[d.root] = d.topic
	}
	return d.show
}

// decision is where an item goes, decided without changing the index.
type decision struct {
	show  bool
	topic string            // its thread, "" for none
	first content.MessageID // the thread's first message
	root  content.MessageID // the message the thread hangs off, if it
	stale bool              // the thread's first is not the one indexed
}

func (x *mainRows) decide(v content.View, it content.Item) decision {
	if it.Kind != content.ItemMessage || it.Topic == "" {
		return decision{show: true}
	}
	ti, ok := v.Thread(it.Topic)
	if !ok {
		return decision{show: true}
	}
	d := decision{topic: it.Topic, first: ti.First}
	if prev, seen := x.firsts[it.Topic]; seen && prev != ti.First {
		d.stale = true
	}
	if ti.First != it.ID {
		return d // a reply: thread pane only
	}
	if !it.ReplyTo.IsZero() {
		if p, ok := v.Get(it.ReplyTo); ok && p.Topic == "" && p.Kind == content.ItemMessage {
			d.root = p.ID // the thread hangs off p, which stands for it
			return d
		}
	}
	d.show = true
	return d
}

// len is the number of main-timeline rows (pending messages not included).
func (x *mainRows) len() int { return len(x.rows) }

// visible returns the visible index of main row k.
func (x *mainRows) visible(k int) int { return int(x.rows[k]) }

// row returns the main row showing visible index i, or false when that
// message is only in a thread pane.
func (x *mainRows) row(i int) (int, bool) {
	k := sort.Search(len(x.rows), func(k int) bool { return int(x.rows[k]) >= i })
	return k, k < len(x.rows) && int(x.rows[k]) == i
}

// threadOf returns the topic whose marker main-timeline item it carries:
// the thread it roots or the topic it starts.
func (x *mainRows) threadOf(it content.Item) string {
	if t, ok := x.anchors[it.ID]; ok {
		return t
	}
	return it.Topic
}

// noteChange looks at entry id just applied: when it edited or deleted an
// indexed message in a way that changes which rows the main timeline shows
// (a topic edit moving it into or out of a thread, or making it a thread's
// first), the index is marked for a rebuild. A plain edit costs a lookup.
func (x *mainRows) noteChange(v content.View, id content.MessageID) {
	it, ok := v.Get(id)
	if !ok || it.ID == id || (len(x.firsts) == 0 && it.Topic == "") {
		return // a new message (indexed by sync), or no thread involved
	}
	i, ok := v.Index(it.ID)
	if !ok {
		x.dirty = true
		return
	}
	if i >= x.scanned {
		return // not indexed yet: sync will see its final state
	}
	_, indexed := x.row(i)
	d := x.decide(v, it)
	_, wasRoot := x.anchors[it.ID]
	wasFirstOf, wasFirst := x.firstOf[it.ID]
	switch {
	case d.stale, d.show != indexed, wasRoot && it.Topic != "",
		wasFirst && wasFirstOf != it.Topic, !d.root.IsZero() && x.anchors[d.root] != d.topic:
		x.dirty = true
	}
}

// mainLen is the number of main-timeline rows of r, synced.
func (r *room) mainLen() int {
	r.syncMain()
	return r.main.len()
}

// syncMain brings r's main-timeline index up to date.
func (r *room) syncMain() {
	if r.main.tl == r.tl && r.main.ver == r.tl.Version() && !r.main.dirty {
		return
	}
	r.tl.Read(func(v content.View) { r.main.sync(r.tl, v) })
}

// itemAt returns the timeline item of main row k (k < mainLen).
func (r *room) itemAt(k int) content.Item {
	return r.tl.At(r.main.visible(k))
}
