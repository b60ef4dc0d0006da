package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/keys"
)

// act runs action a from context ctx. handled=false lets the key fall
// through (to the composer, for instance).
func (m *Model) act(ctx keys.Context, a keys.Action) (tea.Cmd, bool) {
	r := m.current()
	switch a {
	case keys.Quit:
		return m.quit(), true
	case keys.Help:
		m.openHelp()
	case keys.ToggleMouse:
		m.mouse = !m.mouse
		if m.mouse {
			m.setNotice("mouse capture on")
		} else {
			m.setNotice("mouse capture off: the terminal's own selection works (F2 to turn back on)")
		}
	case keys.NextRoom:
		m.switchRoom(m.cur + 1)
	case keys.PrevRoom:
		m.switchRoom(m.cur - 1)
	case keys.Room1, keys.Room2, keys.Room3, keys.Room4, keys.Room5, keys.Room6, keys.Room7, keys.Room8, keys.Room9:
		m.switchRoom(int(a[len(a)-1] - '1'))
	case keys.RoomPicker:
		m.openRoomPicker()
	case keys.NextUnread:
		m.nextRoomWhere(func(r *room) bool { return r.unread() > 0 }, "no unread rooms")
	case keys.NextMention:
		m.nextRoomWhere(func(r *room) bool { return r.mentions() > 0 }, "no mentions")
	case keys.FocusRooms:
		m.focus = keys.Rooms
		m.comp.blur()
	case keys.FocusTimeline, keys.SelectMode:
		m.focusTimeline()
	case keys.FocusComposer:
		return m.comp.focus(), m.leaveSelect()
	case keys.FocusMembers, keys.ToggleMembers:
		m.hideMembers = !m.hideMembers
	case keys.ToggleRoomList:
		m.hideRooms = !m.hideRooms
	case keys.ScrollUp, keys.PageUp:
		return m.scroll(r, a), true
	case keys.ScrollDown, keys.PageDown, keys.ScrollTop, keys.ScrollBottom:
		return m.scroll(r, a), true
	case keys.Redraw:
		return tea.ClearScreen, true
	case keys.Knock:
		return m.runCommand("/knock"), true

	case keys.Send:
		return m.send(), true
	case keys.Newline:
		m.comp.insert("\n")
	case keys.OpenEditor:
		return m.openEditor(), true
	case keys.CompleteNext, keys.CompletePrev:
		m.refreshCompletion()
	case keys.Cancel:
		switch {
		case m.comp.comp.kind != 0:
			m.comp.comp = completion{}
		case !m.comp.replyTo.IsZero() || !m.comp.editing.IsZero():
			m.comp.reset()
		case r != nil && r.thread != "":
			m.closeThread()
		}
	case keys.EditLast:
		if m.comp.value() != "" {
			return nil, false
		}
		m.editLast()

	case keys.SelectPrev, keys.SelectNext, keys.SelectFirst, keys.SelectLast:
		if ctx == keys.Rooms {
			m.moveRoomSel(a)
			return nil, true
		}
		m.moveSel(a)
		if r != nil && r.thread == "" && r.sel >= 0 && r.sel < 40 {
			return m.loadOlder(r), true
		}
	case keys.LeaveSelect:
		m.leaveSelect()
		return m.comp.focus(), true
	case keys.CloseThread:
		m.closeThread()
	case keys.OpenRoom:
		m.focusComposer()
	case keys.Reply, keys.React, keys.Edit, keys.Delete, keys.OpenThread, keys.Copy,
		keys.OpenAttach, keys.SaveAttach, keys.JumpParent, keys.Versions, keys.Receipts:
		return m.runCommand("/" + string(a)), true
	default:
		return nil, false
	}
	return nil, true
}

func (m *Model) quit() tea.Cmd {
	for _, r := range m.rooms {
		if r.joined() {
			_ = m.s.Typing(r.id, false)
		}
	}
	return tea.Quit
}

func (m *Model) leaveSelect() bool {
	m.focusComposer()
	return true
}

func (m *Model) switchRoom(i int) {
	if len(m.rooms) == 0 {
		return
	}
	i = (i%len(m.rooms) + len(m.rooms)) % len(m.rooms)
	if cur := m.current(); cur != nil {
		cur.sel = -1
	}
	m.cur = i
	m.comp.comp = completion{}
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
			r.bottom = -1
		}
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
	var found content.Item
	ok := false
	r.tl.Read(func(v content.View) {
		for i := v.Len() - 1; i >= 0 && i >= v.Len()-500; i-- {
			it := v.At(i)
			if it.Sender == m.me && it.Kind == content.ItemMessage && !it.Deleted && !it.Expired {
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

func (m *Model) startEdit(it content.Item) {
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
