package ui

// Parts of the frame that rarely change are kept between frames (issue 18:
// a profile of a steady frame put the help line at 22 % of View and the
// empty composer's placeholder at 14 %). Each is keyed by everything it
// shows, so a change of width, theme, focus or mode draws it anew.

import (
	"strings"

	"mimichat/keys"
	"mimichat/render"
)

type frameCache struct {
	off      bool // draw every part each frame (benchmarks compare)
	help     helpKey
	helpLine string
	comp     compKey
	compView []string
}

// helpKey is what the help line shows: the keys of the focused context (or
// the open dialog's) at a width, in a theme, from a keymap.
type helpKey struct {
	km     *keys.Keymap
	ctx    keys.Context
	dialog bool
	w      int
	theme  string
	hints  hintKey // what decides which keys apply (ui/permissions.go)
}

// cachedHelpLine is helpLine(w), drawn again only when its key changes.
func (m *Model) cachedHelpLine(w int) string {
	k := helpKey{km: m.km, ctx: m.keyContext(), w: w, theme: m.th.ID(), hints: m.hintKey()}
	if m.ov != nil {
		k.ctx, k.dialog = m.ov.Context(), true
	}
	if m.fc.help != k || m.fc.helpLine == "" || m.fc.off {
		m.fc.help, m.fc.helpLine = k, m.helpLine(w)
	}
	return m.fc.helpLine
}

// compKey is what an empty composer shows: the placeholder at a width and
// height, focused or not, with the cursor as the composer's last change
// left it, in a theme.
type compKey struct {
	changes uint64
	w, h    int
	focused bool
	theme   string
}

// composerView is the composer's lines. An empty composer (the
// textarea's placeholder) is reused while nothing reached the textarea; one
// with text is laid out each frame by the one width rule, as the user types
// it (ui/composer_view.go).
func (m *Model) composerView(w int) []string {
	m.comp.setWidth(w)
	if m.comp.value() != "" {
		return m.comp.lines(w)
	}
	k := compKey{changes: m.comp.changes, w: w, h: m.comp.ta.Height(), focused: m.comp.ta.Focused(), theme: m.th.ID()}
	if m.fc.comp != k || m.fc.compView == nil || m.fc.off {
		m.fc.comp, m.fc.compView = k, composerLines(m.comp.ta.View(), w)
	}
	return m.fc.compView
}

// composerLines splits the textarea's view (the placeholder) into lines
// shown by the one width rule, cut to the pane.
func composerLines(view string, w int) []string {
	lines := strings.Split(view, "\n")
	for i, l := range lines {
		lines[i] = render.FitLine(l, w)
	}
	return lines
}
