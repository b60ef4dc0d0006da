package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
	"mimichat/render"
)

// infoDialog is text to read: all keys and commands, a message's versions
// or receipts. It scrolls and closes by the keymap's dialog context. Long
// lines wrap inside the box (a help text, a version's words are read, not
// guessed from a cut), so scrolling counts the box's lines at the width of
// the last frame (fit).
type infoDialog struct {
	km     *keys.Keymap
	title  string
	lines  []infoLine
	scroll int // the first box line shown
	// inner and body are the box's inside width and its body's height in
	// the frame on screen (0 before the first: scrolling then counts
	// source lines)
	inner, body int
}

// infoLine is one line of an infoDialog; muted lines are greyed (a command
// the user may not run here). Text may come from the network: it is
// sanitized when drawn. A line with a head (a key, a command's synopsis)
// is a two-column row: head padded to headW, text wrapped beside it (under
// it, indented, when head is wider or the text would get under 16 cells).
// Without a head, every line of text starts indent cells in, and its
// wrapped lines hang cells more.
type infoLine struct {
	text   string
	muted  bool
	head   string
	headW  int
	indent int
	hang   int
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

// minTextW is the narrowest a text column beside a head gets.
const minTextW = 16

// wrap is l as box lines at most inner cells wide.
func (l infoLine) wrap(inner int) []string {
	inner = max(1, inner)
	text := render.SanitizeLine(l.text)
	if l.head == "" {
		ind := min(l.indent, inner/2)
		hangW := min(l.hang, inner/4)
		ls := hang(text, "", ind+hangW, inner)
		if len(ls) == 0 {
			return []string{""}
		}
		ls[0] = strings.Repeat(" ", ind) + ls[0][ind+hangW:] // the first line without the hanging indent
		return ls
	}
	head := render.SanitizeLine(l.head)
	headW := min(l.headW, inner*2/5) // a narrow box keeps more for the text
	if hw := render.Width(head); hw <= headW && inner-headW-1 >= minTextW {
		return hang(text, padRight(head, headW), headW+1, inner)
	}
	// the head alone, the text under it
	ind := min(headW+1, 4)
	if inner-headW-1 >= minTextW {
		ind = headW + 1
	}
	return append([]string{render.TruncateLine(head, inner)}, hang(text, "", ind, inner)...)
}

// hang wraps text to inner cells after first (whose width is ind) on the
// first line and ind spaces on the others.
func hang(text, first string, ind, inner int) []string {
	ls := render.Wrap(text, max(1, inner-ind))
	pad := strings.Repeat(" ", ind)
	for i := range ls {
		if i == 0 && first != "" {
			ls[i] = first + ls[i]
		} else {
			ls[i] = pad + ls[i]
		}
	}
	return ls
}

// boxLine is one wrapped line of the box, greyed or not.
type boxLine struct {
	text  string
	muted bool
}

// wrapped is every line of the box's body at inner cells (one per source
// line when inner is not known yet).
func (d *infoDialog) wrapped(inner int) []boxLine {
	var out []boxLine
	for _, l := range d.lines {
		if inner <= 0 {
			out = append(out, boxLine{text: render.SanitizeLine(l.head + " " + l.text), muted: l.muted})
			continue
		}
		for _, t := range l.wrap(inner) {
			out = append(out, boxLine{text: t, muted: l.muted})
		}
	}
	return out
}

// fit records the box's size in the frame being composed (Model.render, in
// Update), so that scrolling knows how many lines there are and a page's
// height.
func (d *infoDialog) fit(width, height int) {
	d.inner, d.body = width-4, height-3
	d.scrollBy(0)
}

func (d *infoDialog) Context() keys.Context { return keys.Dialog }

func (d *infoDialog) Update(msg tea.Msg) (dialog, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return d, nil
	}
	a, _ := d.km.Action(keys.Dialog, k.String())
	page := 10
	if d.body > 1 {
		page = d.body - 1 // a line of the last page stays in sight
	}
	switch a {
	case keys.ScrollUp:
		d.scrollBy(-1)
	case keys.ScrollDown:
		d.scrollBy(1)
	case keys.PageUp:
		d.scrollBy(-page)
	case keys.PageDown:
		d.scrollBy(page)
	case keys.Cancel:
		return nil, nil
	}
	return d, nil
}

// scrollBy moves the first line shown: down to where the last line is at
// the box's foot (before the first frame: keeping at least one line).
func (d *infoDialog) scrollBy(n int) {
	total := len(d.wrapped(d.inner))
	last := max(0, total-1)
	if d.body > 0 {
		last = max(0, total-d.body)
	}
	d.scroll = min(max(0, d.scroll+n), last)
}

func (d *infoDialog) View(th *render.Theme, width, height int) string {
	inner := width - 4
	all := d.wrapped(inner)
	var body []string
	for _, l := range all[min(d.scroll, len(all)):] {
		if len(body) >= height-3 {
			break
		}
		t := render.TruncateLine(l.text, inner)
		if l.muted {
			t = th.Styles.Muted.Render(t)
		}
		body = append(body, t)
	}
	return box(th, width, d.title, body)
}
