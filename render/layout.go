package render

import (
	"strings"
)

// Layout is how message rows are drawn.
type Layout uint8

const (
	// LayoutCozy (the default): a header with the time and the sender over
	// the body; a short first line shares the header's line, and a sender's
	// consecutive messages are grouped under one header.
	LayoutCozy Layout = iota
	// LayoutCompact is IRC-style, as in senpai or weechat: time, the sender
	// right-aligned in a column and the text on one line, wrapped lines
	// indented to the text's column.
	LayoutCompact
)

// Layouts are the names ParseLayout accepts, in Layout order.
var Layouts = []string{"cozy", "compact"}

// String is the layout's name.
func (l Layout) String() string {
	if int(l) < len(Layouts) {
		return Layouts[l]
	}
	return "cozy"
}

// ParseLayout reads a layout's name ("" is cozy).
func ParseLayout(s string) (Layout, bool) {
	if s == "" {
		return LayoutCozy, true
	}
	for i, n := range Layouts {
		if s == n {
			return Layout(i), true
		}
	}
	return LayoutCozy, false
}

// minCompactText is the narrowest text column the compact layout uses;
// below it rows are drawn cozy, which degrades better.
const minCompactText = 16

// compactNickWidth is the sender column's width in a row of width
// columns: 6 to 12, a sixth of what is right of the time.
func compactNickWidth(width int) int {
	return min(12, max(6, (width-Gutter)/6))
}

// compactTextCol is where the text starts in the compact layout.
func compactTextCol(width int) int { return Gutter + compactNickWidth(width) + 1 }

// compactEvent is a quiet system line in the compact layout: under the
// text column, after the time.
func compactEvent(m *Message, width int, th *Theme) []string {
	s := &th.Styles
	col := compactTextCol(width)
	ls := quietLines("· ", SanitizeLine(m.Text), width-col, th)
	pad := strings.Repeat(" ", col)
	for i := range ls {
		if i == 0 {
			ls[i] = s.Timestamp.Render(m.Time.Format("15:04")) + " " + strings.Repeat(" ", compactNickWidth(width)+1) + ls[i]
		} else {
			ls[i] = pad + ls[i]
		}
	}
	return ls
}

// compactLines draws m on one line: "15:04    Alice text" (the sender
// blank when Continued), then the body's other lines, the reply quote
// above it, and the same lines under it as the cozy layout.
func compactLines(m *Message, width int, th *Theme) []string {
	s := &th.Styles
	nw := compactNickWidth(width)
	col := compactTextCol(width)
	tw := width - col
	indent := strings.Repeat(" ", col)
	nick := strings.Repeat(" ", nw)
	if !m.Continued {
		name := TruncateLine(SanitizeLine(m.Name), nw)
		nick = strings.Repeat(" ", nw-Width(name)) + th.Sender(m.Sender).Render(name)
	}
	prefix := s.Timestamp.Render(m.Time.Format("15:04")) + " " + nick + " "
	var lines []string
	if m.Quote != nil {
		lines = append(lines, quoteLine(m.Quote, tw, th))
	}
	lines = append(lines, bodyLines(m, tw, th)...)
	if len(lines) == 0 {
		lines = []string{""}
	}
	out := make([]string, 0, len(lines)+2)
	for i, l := range lines {
		if i == 0 {
			out = append(out, prefix+l)
			continue
		}
		out = append(out, indent+l)
	}
	out = appendTail(out, tailMarks(m, th), indent, width)
	return append(out, footLines(m, indent, tw, th)...)
}
