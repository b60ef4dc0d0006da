package ui

// /layout: how the timeline draws messages, changed while running.

import (
	tea "charm.land/bubbletea/v2"

	"mimichat/render"
)

var layoutCommands = []*command{
	{name: "layout", args: "[cozy|compact]", help: "cozy: grouped headers; compact: one line per message (IRC-style)",
		target: targetNone, run: runLayout},
}

// runLayout sets the layout, or without an argument switches to the other
// one. The row cache keys rows by layout and the pane cache by the layout,
// so the next frame draws every row anew.
func runLayout(m *Model, c *call) tea.Cmd {
	l := render.LayoutCompact
	if m.layout == render.LayoutCompact {
		l = render.LayoutCozy
	}
	if c.arg != "" {
		var ok bool
		if l, ok = render.ParseLayout(c.arg); !ok {
			m.setRefusal("layout: want cozy or compact, got " + render.SanitizeLine(c.arg))
			return nil
		}
	}
	m.layout = l
	if r := m.current(); r != nil && r.bottom >= 0 {
		m.revealSel(r)
	}
	m.setNotice("layout: " + l.String())
	return nil
}
