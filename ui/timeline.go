package ui

import (
	"strings"
	"time"

	"mimichat/content"
	"mimichat/history"
	"mimichat/render"
)

// rowSource is a list of rows the timeline pane can show: the room's rows
// (timeline items, then pending messages) or one thread's.
type rowSource struct {
	n    int
	row  func(i int) render.Message
	time func(i int) (time.Time, bool) // ok=false: no day separator logic
	// newAt is the row the "new messages" line goes above (-1: none)
	newAt int
	// head is what grouping needs of row i, without building the row
	head func(i int) rowHead
}

// rowHead is what decides whether a row is grouped under the header of
// the row above it.
type rowHead struct {
	sender    string
	t         time.Time
	groupable bool // a message (not an event, knock, offer or expired row)
	reply     bool // shows a quote: its header matters
	thread    bool // stands for a thread
}

// itemHead is rowHead of timeline item it; thread says it stands for a
// thread in the pane it is shown in.
func itemHead(it content.Item, thread bool) rowHead {
	h := rowHead{sender: it.Sender, t: time.UnixMilli(it.HubTime), reply: !it.ReplyTo.IsZero(), thread: thread,
		groupable: it.Kind == content.ItemMessage && !it.Expired}
	if h.groupable && !it.Deleted {
		_, offer := history.OfferOfBody(&it.Body) // drawn as a quiet line
		h.groupable = !offer
	}
	return h
}

// pendingHead is rowHead of one of the user's messages in the outbox.
func (m *Model) pendingHead(p *pendingMsg) rowHead {
	return rowHead{sender: m.me, t: p.item.Created.Local(), groupable: true, reply: p.msg.InReplyTo != nil}
}

// defaultGroupGap is how long after a sender's message their next one is
// still grouped under the same header.
const defaultGroupGap = 5 * time.Minute

// continues reports whether row i is grouped under the header of row i-1:
// the same sender, within the group gap, the same day, no "new messages"
// line between, and neither a reply nor next to a thread.
func (m *Model) continues(src rowSource, i int) bool {
	if i <= 0 || i == src.newAt || src.head == nil || m.groupGap < 0 {
		return false
	}
	cur, prev := src.head(i), src.head(i-1)
	gap := m.groupGap
	if gap == 0 {
		gap = defaultGroupGap
	}
	d := cur.t.Sub(prev.t)
	return cur.groupable && prev.groupable && !cur.reply && !cur.thread && !prev.thread &&
		cur.sender == prev.sender && d >= 0 && d <= gap && sameDay(prev.t, cur.t)
}

// roomSource lists room r's main-timeline rows (threads folded, see
// mainRows), then its pending messages; v must stay valid while it is used.
func (m *Model) roomSource(r *room, v content.View) rowSource {
	r.main.sync(r.tl, v)
	tn := r.main.len()
	pend := r.mainPending()
	return rowSource{
		n:     tn + len(pend),
		newAt: newLineAt(r, v),
		row: func(i int) render.Message {
			if i >= tn {
				return m.pendingRow(v, pend[i-tn])
			}
			it := v.At(r.main.visible(i))
			rm := m.rowOf(v, it, false)
			m.threadMarker(&rm, r, v, it)
			return rm
		},
		time: func(i int) (time.Time, bool) {
			if i >= tn {
				return time.Time{}, false
			}
			return time.UnixMilli(v.At(r.main.visible(i)).HubTime), true
		},
		head: func(i int) rowHead {
			if i >= tn {
				return m.pendingHead(pend[i-tn])
			}
			it := v.At(r.main.visible(i))
			return itemHead(it, it.Kind == content.ItemMessage && r.main.threadOf(it) != "")
		},
	}
}

// threadMarker adds the reply count and the last reply's author and time
// to a main-timeline row that stands for a thread.
func (m *Model) threadMarker(rm *render.Message, r *room, v content.View, it content.Item) {
	if it.Kind != content.ItemMessage || it.Expired {
		return
	}
	topic := r.main.threadOf(it)
	if topic == "" {
		return
	}
	ti, ok := v.Thread(topic)
	if !ok {
		return
	}
	replies := ti.Count // it roots the thread: every topic message answers it
	if topic == it.Topic {
		if ti.First != it.ID {
			return
		}
		replies = ti.Replies
	}
	if replies <= 0 {
		return
	}
	last := v.ThreadAt(topic, ti.Count-1)
	rm.ThreadReplies, rm.ThreadLast, rm.ThreadLastTime = replies, m.name(last.Sender), time.UnixMilli(last.HubTime)
}

// threadRows are the rows of r's open thread: n timeline items (item(i))
// and then pend.
func (m *Model) threadRows(r *room, v content.View) (n int, item func(int) content.Item, pend []*pendingMsg) {
	n = m.threadCount(r, v)
	item = func(i int) content.Item { return m.threadItem(r, v, i) }
	if n == 0 && !r.threadOf.IsZero() {
		if i, ok := v.Index(r.threadOf); ok {
			root := v.At(i)
			n, item = 1, func(int) content.Item { return root }
		}
	}
	return n, item, r.threadPending(r.thread)
}

// threadCount is the number of rows of r's open thread: its root (the
// message it answers, when that is outside the topic) and its messages.
func (m *Model) threadCount(r *room, v content.View) int {
	n := 0
	if ti, ok := v.Thread(r.thread); ok {
		n = ti.Count
	}
	if _, ok := m.threadRoot(r, v); ok && n > 0 {
		n++
	}
	return n
}

// threadRoot is the message r's open thread hangs off, if any.
func (m *Model) threadRoot(r *room, v content.View) (content.Item, bool) {
	ti, ok := v.Thread(r.thread)
	if !ok {
		return content.Item{}, false
	}
	first := v.ThreadAt(r.thread, 0)
	if first.ID != ti.First || first.ReplyTo.IsZero() {
		return content.Item{}, false
	}
	p, ok := v.Get(first.ReplyTo)
	if !ok || p.Topic != "" || p.Kind != content.ItemMessage {
		return content.Item{}, false
	}
	return p, true
}

// threadItem returns row i of r's open thread.
func (m *Model) threadItem(r *room, v content.View, i int) content.Item {
	if root, ok := m.threadRoot(r, v); ok {
		if i == 0 {
			return root
		}
		i--
	}
	return v.ThreadAt(r.thread, i)
}

// threadSource lists r's open thread: its root, its messages, then the
// user's messages to it still in the outbox. A thread not started yet shows
// the message it will answer.
func (m *Model) threadSource(r *room, v content.View) rowSource {
	n, item, pend := m.threadRows(r, v)
	return rowSource{
		n:     n + len(pend),
		newAt: -1,
		row: func(i int) render.Message {
			if i >= n {
				rm := m.pendingRow(v, pend[i-n])
				rm.InThread = true
				return rm
			}
			return m.rowOf(v, item(i), true)
		},
		time: func(i int) (time.Time, bool) {
			if i >= n {
				return time.Time{}, false
			}
			return time.UnixMilli(item(i).HubTime), true
		},
		head: func(i int) rowHead {
			if i >= n {
				return m.pendingHead(pend[i-n])
			}
			return itemHead(item(i), false)
		},
	}
}

// renderRows fills h lines of width w from src, bottom-aligned, showing row
// bottom (or the newest when bottom < 0) at the bottom with its last skip
// lines below the pane, and keeping sel on screen. When the rows above do
// not fill the pane it fills it from the top instead, so a pane is never
// empty while rows exist. It renders only the rows that fit. rowAt maps
// each line to its row (-1 for separators and padding). It returns the
// last row with a line on screen.
func (m *Model) renderRows(src rowSource, bottom, skip, sel, w, h int) (lines []string, rowAt []int, usedBottom int) {
	if h <= 0 || w <= 0 {
		return nil, nil, bottom
	}
	if src.n == 0 {
		lines = make([]string, h)
		rowAt = make([]int, h)
		for i := range rowAt {
			rowAt[i] = -1
		}
		hint := m.th.Styles.Placeholder.Render(render.TruncateLine("No messages yet. Say hello!", w))
		lines[h-1] = hint
		return lines, rowAt, -1
	}
	if bottom < 0 || bottom >= src.n {
		bottom, skip = src.n-1, 0
	}
	if sel >= src.n {
		sel = src.n - 1
	}
	if sel > bottom {
		bottom, skip = sel, 0
	}
	if sel >= 0 && sel < bottom {
		// keep the selection on screen: move the bottom down to it when the
		// rows between do not fit
		used := -skip
		for i := bottom; i >= sel && used <= h; i-- {
			used += len(m.rowLines(src, i, w-1))
		}
		if used > h {
			bottom, skip = sel, 0
			used = len(m.rowLines(src, sel, w-1))
			for bottom+1 < src.n {
				n := len(m.rowLines(src, bottom+1, w-1))
				if used+n > h {
					break
				}
				used += n
				bottom++
			}
		}
	}
	// mark is the selection bar of row i's line j: not on the separators
	// (day, "new messages") drawn above the row, which are not the message
	mark := func(i, j, lead int) string {
		if i == sel && j >= lead {
			return m.th.Styles.Accent.Render("▌")
		}
		return " "
	}
	rev := make([]string, 0, h+8)
	revAt := make([]int, 0, h+8)
	var below []string        // the bottom row's lines scrolled off below
	var belowJ, belowLead int // the first of them is the row's line belowJ; lead separators
	for i := bottom; i >= 0 && len(rev) < h; i-- {
		rl, lead := m.rowLinesLead(src, i, w-1)
		if i == bottom && skip > 0 {
			skip = min(skip, max(0, len(rl)-1))
			belowJ, belowLead = len(rl)-skip, lead
			rl, below = rl[:len(rl)-skip], rl[len(rl)-skip:]
		}
		for j := len(rl) - 1; j >= 0; j-- {
			rev = append(rev, mark(i, j, lead)+rl[j])
			revAt = append(revAt, i)
		}
	}
	if len(rev) > h {
		rev, revAt = rev[:h], revAt[:h]
	}
	out := make([]string, 0, h)
	outAt := make([]int, 0, h)
	for i := len(rev) - 1; i >= 0; i-- {
		out = append(out, rev[i])
		outAt = append(outAt, revAt[i])
	}
	usedBottom = bottom
	// the rows above ran out: fill the rest from below, top-aligned
	for k, l := range below {
		if len(out) >= h {
			break
		}
		out, outAt = append(out, mark(bottom, belowJ+k, belowLead)+l), append(outAt, bottom)
	}
	for i := bottom + 1; i < src.n && len(out) < h; i++ {
		rl, lead := m.rowLinesLead(src, i, w-1)
		for j, l := range rl {
			if len(out) >= h {
				break
			}
			out, outAt = append(out, mark(i, j, lead)+l), append(outAt, i)
			usedBottom = i
		}
	}
	lines = make([]string, h)
	rowAt = make([]int, h)
	pad := h - len(out)
	for i := 0; i < pad; i++ {
		rowAt[i] = -1
	}
	copy(lines[pad:], out)
	copy(rowAt[pad:], outAt)
	return lines, rowAt, usedBottom
}

// rowLines renders row i with the separators above it (the day when it
// changes, "new messages"): a row's height always counts them.
func (m *Model) rowLines(src rowSource, i, w int) []string {
	lines, _ := m.rowLinesLead(src, i, w)
	return lines
}

// rowLinesLead is rowLines and how many of its first lines are separators
// (the day, "new messages") rather than the row's own.
func (m *Model) rowLinesLead(src rowSource, i, w int) ([]string, int) {
	rm := src.row(i)
	rm.Layout, rm.Continued = m.layout, m.continues(src, i)
	lines := m.linkRow(m.cache.Render(&rm, w, m.th), rm.Body)
	if len(lines) == 0 {
		return nil, 0
	}
	lead := 0
	if i == src.newAt {
		lines = append([]string{m.newMessagesLine(w)}, lines...)
		lead = 1
	}
	t, ok := src.time(i)
	if !ok {
		return lines, lead
	}
	newDay := i == 0
	if !newDay {
		if pt, ok := src.time(i - 1); ok {
			newDay = !sameDay(pt, t)
		}
	}
	if !newDay {
		return lines, lead
	}
	day := render.RenderMessage(&render.Message{Kind: render.RowDay, Text: render.DayLabel(t, m.now())}, w, m.th)
	out := make([]string, 0, len(lines)+len(day))
	out = append(out, day...)
	return append(out, lines...), lead + len(day)
}

func sameDay(a, b time.Time) bool {
	y1, m1, d1 := a.Date()
	y2, m2, d2 := b.Date()
	return y1 == y2 && m1 == m2 && d1 == d2
}

// padLine pads or cuts a styled line to exactly w columns.
func padLine(s string, w int) string {
	sw := render.Width(s)
	if sw > w {
		return render.Truncate(s, w, "")
	}
	if sw < w {
		return s + strings.Repeat(" ", w-sw)
	}
	return s
}
