package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/session"
)

func (m *Model) quit() tea.Cmd {
	for _, r := range m.rooms {
		if r.joined() && r.lazy.loaded { // typing is only ever sent in loaded rooms
			_ = m.s.Typing(r.id, false)
		}
	}
	if free := m.img.freeAll(); free != "" {
		return tea.Sequence(tea.Raw(free), tea.Quit) // the terminal drops the images' data
	}
	return tea.Quit
}

func (m *Model) switchRoom(i int) {
	if len(m.rooms) == 0 {
		return
	}
	i = (i%len(m.rooms) + len(m.rooms)) % len(m.rooms)
	cur := m.current()
	if cur != nil {
		cur.sel = -1
	}
	m.cur = i
	m.rooms[i].lineSeq = m.rooms[i].readSeq // the line marks what is new since the last visit
	m.swapDraft(cur, m.rooms[i])
	if m.focus == keys.Timeline {
		m.focus = keys.Composer
		m.comp.focus()
	}
}

func (m *Model) nextRoomWhere(ok func(*room) bool, none string) {
	for d := 1; d <= len(m.rooms); d++ {
		i := (m.cur + d) % len(m.rooms)
		if ok(m.rooms[i]) {
			m.switchRoom(i)
			return
		}
	}
	m.setNotice(none)
}

func (m *Model) moveRoomSel(a keys.Action) {
	switch a {
	case keys.SelectPrev:
		m.switchRoom(m.cur - 1)
	case keys.SelectNext:
		m.switchRoom(m.cur + 1)
	case keys.SelectFirst:
		m.switchRoom(0)
	case keys.SelectLast:
		m.switchRoom(len(m.rooms) - 1)
	}
	m.focus = keys.Rooms
}

// moveSel moves the selection in the timeline or the open thread.
func (m *Model) moveSel(a keys.Action) {
	r := m.current()
	if r == nil {
		return
	}
	sel, n := &r.sel, r.rows()
	if r.thread != "" {
		sel, n = &r.tsel, m.threadLen(r)
	}
	if n == 0 {
		return
	}
	switch a {
	case keys.SelectPrev:
		if *sel > 0 {
			*sel--
		}
	case keys.SelectNext:
		if *sel < n-1 {
			*sel++
		}
	case keys.SelectFirst:
		*sel = 0
	case keys.SelectLast:
		*sel = n - 1
	}
	if r.thread == "" {
		m.skipEvents(r, a)
		if *sel >= n-1 {
			r.bottom, r.skip = -1, 0
		}
		m.revealSel(r)
	}
}

func (m *Model) threadLen(r *room) int {
	n := 0
	r.tl.Read(func(v content.View) { n = m.threadSource(r, v).n })
	return n
}

func (m *Model) closeThread() {
	if r := m.current(); r != nil {
		r.thread, r.threadOf, r.tsel = "", content.MessageID{}, 0
	}
}

// editLast starts editing the user's newest message.
func (m *Model) editLast() {
	r := m.current()
	if r == nil {
		return
	}
	found, ok := r.lastPendingText(m.opt.Languages)
	r.tl.Read(func(v content.View) {
		if ok {
			return // a message still in the outbox is newer than any the timeline holds
		}
		for i := v.Len() - 1; i >= 0 && i >= v.Len()-500; i-- {
			it := v.At(i)
			if it.Sender == m.me && it.Kind == content.ItemMessage && !it.Deleted && !it.Expired &&
				bodyText(&it.Body, m.opt.Languages) != "" { // a call or attachment card has no text to edit
				found, ok = it, true
				return
			}
		}
	})
	if !ok {
		m.setNotice("no message of yours to edit")
		return
	}
	m.startEdit(found)
}

// lastPendingText is the user's newest message still in the outbox (sent,
// acked but not yet echoed into the timeline, or waiting) that has text to
// edit. Such a message is newer than anything in the timeline; up skipped
// it before, editing an older message instead. A failed one is not
// offered: it may never be sent, so an edit of it would name nothing.
func (r *room) lastPendingText(langs []string) (content.Item, bool) {
	for i := len(r.pending) - 1; i >= 0; i-- {
		p := r.pending[i]
		if p.unsaved || p.item.State == session.Failed || !pendingVisible(p.msg) {
			continue
		}
		if bodyText(&p.msg.Body, langs) == "" {
			continue
		}
		it := content.Item{Kind: content.ItemMessage, Seq: p.item.Seq, Sender: r.me, ID: p.item.ID, Current: p.item.ID,
			Body: p.msg.Body, Topic: string(p.msg.TopicID)}
		if p.msg.InReplyTo != nil {
			it.ReplyTo = *p.msg.InReplyTo
		}
		return it, true
	}
	return content.Item{}, false
}

func (m *Model) startEdit(it content.Item) {
	if bodyText(&it.Body, m.opt.Languages) == "" {
		m.setNotice("that message has no text to edit")
		return
	}
	m.comp.reset()
	m.comp.editing, m.comp.editIt = it.ID, it
	m.comp.setValue(bodyText(&it.Body, m.opt.Languages))
	m.focusComposer()
}

// bodyText is the plain text of a body, as typed (Markdown source).
func bodyText(body *content.NestedPart, langs []string) string {
	var b strings.Builder
	for _, rp := range content.Resolve(body, content.Prefs{Languages: langs}) {
		if rp.Part.External == nil && content.IsTextType(rp.Part.ContentType) {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.Write(rp.Part.Content)
		}
	}
	return b.String()
}

// skipEvents moves the selection off system lines (nothing acts on them),
// in the direction of travel, falling back the other way at an end.
func (m *Model) skipEvents(r *room, a keys.Action) {
	tn := r.mainLen()
	isEvent := func(i int) bool {
		if i >= tn {
			return false
		}
		it := r.itemAt(i)
		return it.Kind == content.ItemEvent || it.Expired
	}
	dir := -1
	if a == keys.SelectNext || a == keys.SelectFirst {
		dir = 1
	}
	for _, d := range []int{dir, -dir} {
		i := r.sel
		for steps := 0; i >= 0 && i < r.rows() && isEvent(i) && steps < 1000; steps++ {
			i += d
		}
		if i >= 0 && i < r.rows() && !isEvent(i) {
			r.sel = i
			return
		}
	}
}
