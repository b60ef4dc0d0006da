package ui

import (
	"fmt"

	"mimichat/render"
)

// completionRows is the most completion items shown at once: `/` alone
// lists every command (over 40), which pushed the room header and the
// first items, the selected one among them, off the top of the screen.
const completionRows = 8

// completionWindow is the open completion list as drawn: the page of at
// most completionRows items holding the selected one (fewer where the
// center is short), and under it, when the list is longer, a line saying
// which items show out of how many. Pages, rather than a window sliding
// with the selection, keep the rows still while tab moves through them.
func (m *Model) completionWindow(w, h int) []string {
	lines := m.completionLines(w)
	rows := min(completionRows, max(1, (h-6)/2)) // leave the header, a few timeline rows and the composer
	if len(lines) <= rows {
		return lines
	}
	sel := min(max(m.comp.comp.sel, 0), len(lines)-1)
	start := sel / rows * rows
	end := min(start+rows, len(lines))
	more := fmt.Sprintf(" %d–%d of %d", start+1, end, len(lines)) // the keys that page are in the help line
	return append(lines[start:end:end], m.th.Styles.Muted.Render(padLine(render.TruncateLine(more, w), w)))
}
