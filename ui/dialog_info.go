package ui

import (
	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
	"mimichat/render"
)

// infoDialog is text to read: all keys and commands, a message's versions
// or receipts. It scrolls and closes by the keymap's dialog context.
type infoDialog struct {
	km     *keys.Keymap
	title  string
	lines  []infoLine
	scroll int
}

// infoLine is one line of an infoDialog; muted lines are greyed (a command
// the user may not run here). Text may come from the network: it is
// sanitized when drawn.
type infoLine struct {
	text  string
	muted bool
}

func newInfoDialog(km *keys.Keymap, title string, lines []infoLine) *infoDialog {
	return &infoDialog{km: km, title: title, lines: lines}
}

// infoText makes plain lines.
func infoText(ls ...string) []infoLine {
	out := make([]infoLine, len(ls))
	for i, l := range ls {
		out[i] = infoLine{text: l}
	}
	return out
}

func (d *infoDialog) Context() keys.Context { return keys.Dialog }

func (d *infoDialog) Update(msg tea.Msg) (dialog, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return d, nil
	}
	a, _ := d.km.Action(keys.Dialog, k.String())
	switch a {
	case keys.ScrollUp:
		d.scrollBy(-1)
	case keys.ScrollDown:
		d.scrollBy(1)
	case keys.PageUp:
		d.scrollBy(-10)
	case keys.PageDown:
		d.scrollBy(10)
	case keys.Cancel:
		return nil, nil
	}
	return d, nil
}

// scrollBy moves the first line shown, keeping at least one line.
func (d *infoDialog) scrollBy(n int) {
	d.scroll = min(max(0, d.scroll+n), max(0, len(d.lines)-1))
}

func (d *infoDialog) View(th *render.Theme, width, height int) string {
	inner := width - 4
	var body []string
	for _, l := range d.lines[min(d.scroll, len(d.lines)):] {
		if len(body) >= height-3 {
			break
		}
		t := render.TruncateLine(render.SanitizeLine(l.text), inner)
		if l.muted {
			t = th.Styles.Muted.Render(t)
		}
		body = append(body, t)
	}
	return box(th, width, d.title, body)
}
