package ui

import (
	"strings"

	"charm.land/lipgloss/v2"

	"mimichat/render"
)

// The composer's text is laid out here, not by the textarea: the textarea
// wraps and places its cursor by its own cluster widths (uniseg), which
// the screen does not follow for a ZWJ sequence, a skin tone or a VS16
// emoji (docs/ui.md, "Display width"). The textarea keeps the value, the
// cursor and the editing keys; these lines show that value by the one
// width rule (render.Cells), wrapped as the textarea wraps words, with the
// cursor on the cell where the next character goes.

// compLayout is the composer's value laid out at a width: its visual
// lines, the value's row each comes from, and the cursor's line and cell.
type compLayout struct {
	lines  [][]render.Cell
	row    []int
	cy, cx int
}

// layoutComposer lays out rows (the value's lines) at width w with the
// cursor at rune col of row cur. The cursor's row is split at the cursor
// before it is cut into clusters, so a cursor inside a cluster (the
// textarea moves by rune) is drawn on the part where the next rune goes.
func layoutComposer(rows []string, cur, col, w int) compLayout {
	var l compLayout
	for i, text := range rows {
		var cells []render.Cell
		at := -1
		if i == cur {
			runes := []rune(text)
			col = min(max(col, 0), len(runes))
			cells = render.Cells(string(runes[:col]))
			at = len(cells)
			cells = append(cells, render.Cells(string(runes[col:]))...)
		} else {
			cells = render.Cells(text)
		}
		wrapped := wrapCells(cells, w)
		if at >= 0 {
			y, x := cursorIn(wrapped, at)
			for x < len(wrapped[y]) && wrapped[y][x].Width == 0 {
				x++ // a cell of no width (a lone joiner) draws no cursor
			}
			l.cy, l.cx = len(l.lines)+y, x
		}
		for range wrapped {
			l.row = append(l.row, i)
		}
		l.lines = append(l.lines, wrapped...)
	}
	return l
}

// wrapCells word-wraps a row's cells to width as the textarea's wrap does
// (a space ends a word and stays at the end of its line; a word as wide as
// the line is cut; the last line keeps a column for the cursor), measuring
// each cell by render.Width, and never lets a word overflow the line.
func wrapCells(cells []render.Cell, width int) [][]render.Cell {
	lines := [][]render.Cell{nil}
	var word []render.Cell
	row := 0
	newLine := func() { row++; lines = append(lines, nil) }
	putWord := func(cut []render.Cell) { // a word cut at the width takes a line of its own
		if len(lines[row]) > 0 {
			newLine()
		}
		lines[row] = append(lines[row], cut...)
	}
	for _, c := range cells {
		if c.Space {
			if cellsWidth(lines[row])+cellsWidth(word)+c.Width > width {
				newLine()
			}
			lines[row] = append(append(lines[row], word...), c)
			word = nil
			continue
		}
		word = append(word, c)
		if n := len(word); n > 1 && cellsWidth(word) > width {
			// a wide cell after a word cut to nearly the width
			putWord(word[:n-1])
			word = word[n-1:]
		}
		if cellsWidth(word)+c.Width > width {
			putWord(word)
			word = nil
		}
	}
	if cellsWidth(lines[row])+cellsWidth(word) >= width {
		newLine()
	}
	lines[row] = append(lines[row], word...)
	return lines
}

func cellsWidth(cells []render.Cell) int {
	n := 0
	for _, c := range cells {
		n += c.Width
	}
	return n
}

// cursorIn finds cell at of a wrapped row: the line and the cell on it. At
// the end of a line that continues, the cursor is at the next line's start
// (as the textarea's LineInfo puts it).
func cursorIn(lines [][]render.Cell, at int) (y, x int) {
	n := 0
	for i, l := range lines {
		if n+len(l) == at && i+1 < len(lines) {
			return i + 1, 0
		}
		if n+len(l) >= at {
			return i, at - n
		}
		n += len(l)
	}
	last := len(lines) - 1
	return last, len(lines[last])
}

// compWindow is the first visual line shown of n, h at a time: top as
// before, moved the least that shows the cursor's line cy.
func compWindow(top, cy, n, h int) int {
	top = min(top, max(0, n-h))
	return min(max(top, cy-h+1, 0), cy)
}

// layout is the composer's value laid out at width w with the cursor.
func (c *composer) layout(w int) compLayout {
	return layoutComposer(strings.Split(c.ta.Value(), "\n"), c.ta.Line(), c.ta.Column(), w)
}

// lines draws the composer's value at width w: the textarea's height in
// lines (set by fitHeight to the lines drawn, at most maxComposerLines),
// each exactly w columns by render.Width, from the first line shown that
// fitHeight kept (top), moved only if the cursor left it. It changes
// nothing.
func (c *composer) lines(w int) []string {
	l := c.layout(w)
	h := max(1, c.ta.Height())
	top := compWindow(c.top, l.cy, len(l.lines), h)

	st := c.ta.Styles()
	state := st.Blurred
	if c.ta.Focused() {
		state = st.Focused
	}
	text := state.Text.Inherit(state.Base).Inline(true)
	cursorLine := state.CursorLine.Inherit(state.Base).Inline(true)
	cursor := lipgloss.NewStyle().Foreground(st.Cursor.Color).Inline(true).Reverse(true)

	out := make([]string, 0, h)
	for y := top; y < top+h; y++ {
		if y >= len(l.lines) {
			out = append(out, text.Render(strings.Repeat(" ", w)))
			continue
		}
		style := text
		if l.row[y] == c.ta.Line() {
			style = cursorLine
		}
		cx := -1
		if y == l.cy && c.ta.Focused() {
			cx = l.cx
		}
		out = append(out, drawCompLine(l.lines[y], cx, w, style, cursor))
	}
	return out
}

// moveLine moves the cursor d lines (-1 up, +1 down) by the lines drawn,
// to the column it aimed for when up or down began (goalX): the last place
// on the line not past that column where a character can go. Up on the
// first line goes to the start of the value, down on the last to its end,
// as in a browser's text box.
func (c *composer) moveLine(d int) {
	l := c.layout(c.width)
	y := l.cy + d
	switch {
	case y < 0:
		c.ta.MoveToBegin()
		c.goalX = -1
		return
	case y >= len(l.lines):
		c.ta.MoveToEnd()
		c.goalX = -1
		return
	}
	if c.goalX < 0 {
		c.goalX = cellsWidth(l.lines[l.cy][:l.cx])
	}
	row, col := l.placeOn(y, c.goalX, d)
	switch { // the textarea moves a row at a time from a row's end or start
	case row > c.ta.Line():
		c.ta.CursorEnd()
		c.ta.CursorDown()
	case row < c.ta.Line():
		c.ta.CursorStart()
		c.ta.CursorUp()
	}
	c.ta.SetCursorColumn(col)
}

// moveLineEdge moves the cursor to the start (end false) or the end of
// the drawn line it is on (lineEdge), as a browser's text box does with
// home and end; the textarea's own keys go to the start and end of the
// value's row, past every line it wraps onto.
func (c *composer) moveLineEdge(end bool) {
	l := c.layout(c.width)
	c.ta.SetCursorColumn(l.lineEdge(l.cy, end)) // the same row: a drawn line is part of one
	c.goalX = -1
}

// lineEdge is the rune column in its row where home (end false) or end
// puts the cursor on visual line y. On a line that does not wrap these are
// the row's start and end, as the textarea's keys give; end on a row's
// last line is the row's end. Home goes to the line's first place (a cell
// where a cluster starts: on a line that begins with the rest of a family
// drawn apart, after it). End on a line that continues goes to its last
// place, so the cursor is drawn on that line where the next character
// typed goes: on the space the wrap broke at (typing adds to the last
// word), on the last character of a word cut at the line's end, on the
// first part of a family the wrap splits. Its end itself is the same place
// in the value as the next line's start, where the cursor is drawn and a
// character typed goes (the wrap cuts a word where the next cell does not
// fit, whatever is typed after it). The empty line the wrap adds after a
// full last line (it only holds the cursor) counts as the line above. A
// line that is all the middle of one cluster has no place: home goes back
// to the cluster's start, end on to the next place.
func (l compLayout) lineEdge(y int, end bool) (col int) {
	if len(l.lines[y]) == 0 && y > 0 && l.row[y-1] == l.row[y] {
		y--
	}
	cells, start := l.rowCells(y)
	place := func(p int) bool { return p == len(cells) || cells[p].Runes > 0 }
	lineEnd := start + len(l.lines[y])
	p := start
	switch {
	case !end:
		for p < lineEnd && !place(p) {
			p++
		}
		for p > 0 && !place(p) { // back to the start of the cluster
			p--
		}
	case lineEnd == len(cells):
		p = lineEnd
	default:
		for p = lineEnd - 1; p >= start && !place(p); p-- {
		}
		if p < start {
			for p = lineEnd; !place(p); p++ { // place(len(cells))
			}
		}
	}
	return runesBefore(cells, p)
}

// placeOn is where the cursor goes on visual line y aiming for column
// goal: the value's row and the rune column in it. A place is a cell
// where a cluster of the value starts (not the second part of a family
// shown as its parts), or the end of the row; the end of a line that
// continues is the next line's start. A line with no such place (the
// middle of one wide cluster) gives the nearest place past it in the
// direction d of the move.
func (l compLayout) placeOn(y, goal, d int) (row, col int) {
	row = l.row[y]
	cells, start := l.rowCells(y)
	place := func(p int) bool { return p == len(cells) || cells[p].Runes > 0 }
	end := start + len(l.lines[y])
	if y+1 < len(l.lines) && l.row[y+1] == row {
		end-- // the line's end is the next line's start
	}
	best := -1
	for p, x := start, 0; p <= end; p++ {
		if place(p) && (x <= goal || best < 0) {
			best = p
		}
		if p < len(cells) {
			x += cells[p].Width
		}
		if x > goal && best >= 0 {
			break
		}
	}
	if best < 0 {
		best = start
		for best > 0 && !place(best) && d < 0 {
			best--
		}
		for best < len(cells) && !place(best) && d > 0 {
			best++
		}
	}
	return row, runesBefore(cells, best)
}

// rowCells is the cells of visual line y's row, all its lines in order,
// and the index of line y's first cell in them.
func (l compLayout) rowCells(y int) (cells []render.Cell, start int) {
	first := y // the row's first visual line
	for first > 0 && l.row[first-1] == l.row[y] {
		first--
	}
	for i := first; i < len(l.lines) && l.row[i] == l.row[y]; i++ {
		if i == y {
			start = len(cells)
		}
		cells = append(cells, l.lines[i]...)
	}
	return cells, start
}

// runesBefore is the rune column of cell p of a row.
func runesBefore(cells []render.Cell, p int) (col int) {
	for _, c := range cells[:p] {
		col += c.Runes
	}
	return col
}

// drawCompLine draws one visual line w columns wide with the cursor on cell
// cx (-1: none; len(cells): after the last). Spaces at the end of a line
// that would pass the width are not drawn (the textarea leaves them there).
func drawCompLine(cells []render.Cell, cx, w int, style, cursor lipgloss.Style) string {
	end := " " // the cursor after the last cell
	width := cellsWidth(cells)
	if cx == len(cells) {
		width++
	}
	for len(cells) > 0 && width > w && cells[len(cells)-1].Space {
		width -= cells[len(cells)-1].Width
		cells = cells[:len(cells)-1]
		if cx > len(cells) {
			cx = len(cells)
		}
	}
	var b strings.Builder
	plain := func(cs []render.Cell) {
		var s strings.Builder
		for _, c := range cs {
			s.WriteString(c.Shown)
		}
		if s.Len() > 0 {
			b.WriteString(style.Render(s.String()))
		}
	}
	switch {
	case cx < 0:
		plain(cells)
	case cx >= len(cells):
		plain(cells)
		b.WriteString(style.Render(cursor.Render(end)))
	default:
		plain(cells[:cx])
		b.WriteString(style.Render(cursor.Render(cells[cx].Shown)))
		plain(cells[cx+1:])
	}
	s := b.String()
	if width > w { // only a line of cells wider than the pane itself
		s = render.Truncate(s, w, "")
		width = w
	}
	return s + style.Render(strings.Repeat(" ", w-width))
}
