package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
	"mimichat/render"
)

// dialog is a box over the timeline: a picker with a search field, a text to
// read or a yes/no question. The model holds at most one and hands it every
// key and paste; each kind is its own type, so none carries fields that only
// another uses.
type dialog interface {
	// Context is the keymap context its keys are looked up in.
	Context() keys.Context
	// Update handles a key or paste; a nil dialog means it closed.
	Update(msg tea.Msg) (dialog, tea.Cmd)
	// View renders the box at most width×height cells (fewer lines when it
	// needs fewer). It changes nothing.
	View(th *render.Theme, width, height int) string
}

// box draws title and body lines in a rounded frame width cells wide; body
// lines are padded or cut to the inside width by cell width.
func box(th *render.Theme, width int, title string, body []string) string {
	s := &th.Styles
	inner := width - 4
	title = render.TruncateLine(title, max(1, width-6))
	fill := max(0, width-5-render.Width(title))
	out := []string{s.Accent.Render("╭─ " + title + " " + strings.Repeat("─", fill) + "╮")}
	for _, l := range body {
		out = append(out, s.Accent.Render("│ ")+padLine(l, inner)+s.Accent.Render(" │"))
	}
	out = append(out, s.Accent.Render("╰"+strings.Repeat("─", max(0, width-2))+"╯"))
	return strings.Join(out, "\n")
}

// padRight pads s with spaces to n cells (by display width, so emoji and
// wide characters line up) and adds one space.
func padRight(s string, n int) string {
	if w := render.Width(s); w < n {
		s += strings.Repeat(" ", n-w)
	}
	return s + " "
}

// keyHint is the first key bound to a in ctx (or its parents), as shown to
// the user, or "" when none is.
func keyHint(km *keys.Keymap, ctx keys.Context, a keys.Action) string {
	for _, c := range append([]keys.Context{ctx}, keys.Parents(ctx)...) {
		if ks := km.Keys(c, a); len(ks) > 0 {
			if got, _ := km.Action(ctx, ks[0]); got == a {
				return keys.Display(ks[0])
			}
		}
	}
	return ""
}
