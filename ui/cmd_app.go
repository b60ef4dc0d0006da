package ui

// Commands on the client itself: quit, help, mouse, which panes show and
// have the focus, scrolling, and moving the selection.

import (
	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
)

var appCommands = []*command{
	{name: keys.ToggleMouse, slash: "mouse", help: "toggle mouse capture", run: runToggleMouse},
	{name: keys.Help, help: "show every key and command", run: func(m *Model, _ *call) tea.Cmd { m.openHelp(); return nil }},
	{name: keys.Quit, help: "quit", run: func(m *Model, _ *call) tea.Cmd { return m.quit() }},
	{name: keys.Redraw, keyOnly: true, run: func(*Model, *call) tea.Cmd { return tea.ClearScreen }},
	{name: keys.FocusRooms, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd {
		m.focus = keys.Rooms
		m.comp.blur()
		return nil
	}},
	{name: keys.FocusTimeline, keyOnly: true, run: runFocusTimeline},
	{name: keys.SelectMode, keyOnly: true, run: runFocusTimeline},
	{name: keys.FocusComposer, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd {
		m.focusComposer()
		return m.comp.focus()
	}},
	scrollBy(keys.ScrollUp), scrollBy(keys.ScrollDown), scrollBy(keys.PageUp), scrollBy(keys.PageDown),
	scrollBy(keys.ScrollTop), scrollBy(keys.ScrollBottom),
}

var navigationCommands = []*command{
	moveBy(keys.SelectPrev), moveBy(keys.SelectNext), moveBy(keys.SelectFirst), moveBy(keys.SelectLast),
	{name: keys.LeaveSelect, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd {
		m.focusComposer()
		return m.comp.focus()
	}},
	{name: keys.CloseThread, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd { m.closeThread(); return nil }},
}

func runToggleMouse(m *Model, _ *call) tea.Cmd {
	m.mouse = !m.mouse
	if m.mouse {
		m.setNotice("mouse capture on")
	} else {
		back := keyHint(m.km, keys.Global, keys.ToggleMouse)
		if back == "" {
			back = "/mouse"
		}
		m.setNotice("mouse capture off: the terminal's own selection works (" + back + " to turn back on)")
	}
	return nil
}

func runFocusTimeline(m *Model, _ *call) tea.Cmd { m.focusTimeline(); return nil }

// scrollBy scrolls the timeline (a, one of the scroll and page actions).
func scrollBy(a keys.Action) *command {
	return &command{name: a, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd { return m.scroll(m.current(), a) }}
}

// moveBy moves the selection: in the room list when it has the focus, else
// in the timeline or thread (loading older messages near the top).
func moveBy(a keys.Action) *command {
	return &command{name: a, keyOnly: true, run: func(m *Model, c *call) tea.Cmd {
		if c.ctx == keys.Rooms {
			m.moveRoomSel(a)
			return nil
		}
		m.moveSel(a)
		if r := m.current(); r != nil && r.thread == "" && r.sel >= 0 && r.sel < 40 {
			return m.loadOlder(r)
		}
		return nil
	}}
}
