package ui

import (
	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
)

// onMouse: the wheel scrolls the timeline, a click selects a room or a
// message.
func (m *Model) onMouse(msg tea.MouseMsg) tea.Cmd {
	if !m.mouse || m.ov != nil {
		return nil
	}
	ms := msg.Mouse()
	r := m.current()
	switch msg.(type) {
	case tea.MouseWheelMsg:
		switch ms.Button {
		case tea.MouseWheelUp:
			return m.scroll(r, keys.ScrollUp)
		case tea.MouseWheelDown:
			return m.scroll(r, keys.ScrollDown)
		}
	case tea.MouseClickMsg:
		if ms.Button != tea.MouseLeft {
			return nil
		}
		if m.lay.roomsW > 0 && ms.X < m.lay.roomsW {
			i := ms.Y - m.lay.roomY0
			if i >= 0 && i < len(m.rooms) {
				m.switchRoom(i)
			}
			return nil
		}
		if r == nil || ms.X < m.lay.centerX || ms.X >= m.lay.centerX+m.lay.centerW {
			return nil
		}
		y := ms.Y - m.lay.tlY0
		if y < 0 || y >= len(m.lay.tlRowAt) {
			m.focusComposer()
			return nil
		}
		row := m.lay.tlRowAt[y]
		if row < 0 {
			return nil
		}
		if m.lay.tlThread && ms.X-m.lay.centerX < m.lay.threadX {
			return nil // the room's timeline beside an open thread
		}
		m.focus = keys.Timeline
		m.comp.blur()
		if m.lay.tlThread {
			r.tsel = row
		} else {
			r.sel = row
		}
		return m.clickReactions(r, row, y) // on the chips: who reacted (ui/reactions.go)
	}
	return nil
}
