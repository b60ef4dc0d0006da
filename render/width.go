package render

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// The one display-width rule (docs/ui.md, "Display width").
//
// Terminals disagree about grapheme clusters. Bubble Tea v2.1.1 places cells
// by wcwidth, one codepoint at a time (ansi.WcWidth), unless the terminal
// answers the mode 2027 query, and then by grapheme cluster
// (ansi.GraphemeWidth); lipgloss, glamour and the textarea measure by
// cluster; tmux 3.3 joins a ZWJ sequence into one cell but not a skin-tone
// modifier, and gives a VS16 emoji one column. No single measure matches
// them all for 👩‍👩‍👧, 👍🏽, ❤️ or 1️⃣, so no such cluster reaches the screen
// whole: DisplayClusters shows it as its parts (ZWJ and VS15/VS16 dropped,
// parts that would join again kept apart by a zero-width space), and every
// cluster left measures the same by wcwidth and by grapheme. Width is then
// the width under every rule above, and a line measured by it never
// overflows, whichever mode the terminal or the renderer is in. Only the
// screen changes: the message in the model, copy and export keep the text
// as it was sent.

// zwsp separates two parts of a cluster shown apart: it is a grapheme
// break (GCB Control) and zero columns wide in every width table.
const zwsp = "\u200B"

// Width is the display width of s in terminal columns, escape sequences
// ignored. Every measurement of text for the screen goes through it.
func Width(s string) int { return ansi.StringWidthWc(s) }

// Truncate cuts s (which may hold escape sequences) to width columns,
// ending in tail when something was cut.
func Truncate(s string, width int, tail string) string {
	return ansi.TruncateWc(s, width, tail)
}

// Hardwrap breaks s (which may hold escape sequences) into lines of at most
// width columns, between clusters.
func Hardwrap(s string, width int, preserveSpace bool) string {
	return ansi.HardwrapWc(s, width, preserveSpace)
}

// WrapWords word-wraps s (which may hold escape sequences) to width columns,
// breaking words longer than the width.
func WrapWords(s string, width int, breakpoints string) string {
	return ansi.WrapWc(s, width, breakpoints)
}

// firstCluster returns the first grapheme cluster of s and its width.
func firstCluster(s string) (string, int) {
	return ansi.FirstGraphemeCluster(s, ansi.WcWidth)
}

// DisplayClusters returns plain text (no escape sequences) with every
// grapheme cluster whose width depends on the terminal shown as its parts,
// so that Width measures it the same as every terminal lays it out. Text
// made only of such parts is returned unchanged. Only the clusters around a
// rune outside plainRune's ranges are segmented: a plain rune or ASCII
// letter never joins the rune before it, so a cluster holding a rune that
// is not plain starts at most one rune earlier.
func DisplayClusters(s string) string {
	var b *strings.Builder
	done, prev := 0, 0 // s[:done] is decided; prev starts the rune before i
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= 0x80 {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if r < 0x80 || plainRune(r) {
			prev, i = i, i+n
			continue
		}
		if b == nil {
			b = &strings.Builder{}
			b.Grow(len(s) + 8)
		}
		start := max(prev, done)
		b.WriteString(s[done:start])
		for start < len(s) {
			cl, gw := ansi.FirstGraphemeCluster(s[start:], ansi.GraphemeWidth)
			if clusterAgrees(cl, gw) {
				b.WriteString(cl)
			} else {
				writeParts(b, cl)
			}
			start += len(cl)
			if start < len(s) {
				if r, _ := utf8.DecodeRuneInString(s[start:]); r < 0x80 || plainRune(r) {
					break
				}
			}
		}
		done, prev, i = start, start, start
	}
	if b == nil {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// DisplayLine is DisplayClusters for styled text: the printable runs
// between escape sequences are shown as DisplayClusters shows them, the
// sequences are kept.
func DisplayLine(s string) string {
	if !strings.Contains(s, "\x1b") {
		return DisplayClusters(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for s != "" {
		i := strings.IndexByte(s, esc)
		if i < 0 {
			b.WriteString(DisplayClusters(s))
			break
		}
		b.WriteString(DisplayClusters(s[:i]))
		n := max(1, escapeLen(s[i:]))
		b.WriteString(s[i : i+n])
		s = s[i+n:]
	}
	return b.String()
}

// FitLine shows styled text as DisplayLine does, cut to width columns: for
// a line laid out by a component that measures clusters its own way (the
// textarea's placeholder).
func FitLine(s string, width int) string {
	s = DisplayLine(s)
	if Width(s) > width {
		s = Truncate(s, width, "")
	}
	return s
}

// plainRune reports whether r (not ASCII) is in a range of letters and punctuation
// that never joins a neighbour into a cluster and measures the same by
// wcwidth and by grapheme (TestPlainRunes checks every rune of them):
// Latin, Greek, Cyrillic, CJK ideographs, kana, Hangul syllables, general
// punctuation.
func plainRune(r rune) bool {
	switch {
	case r >= 0x00A0 && r <= 0x02FF && r != 0x00AD: // Latin-1, Latin Extended, IPA, modifier letters
		return true
	case r >= 0x0370 && r <= 0x0482, r >= 0x048A && r <= 0x052F: // Greek, Cyrillic (no marks)
		return true
	case r >= 0x2010 && r <= 0x2027, r >= 0x2030 && r <= 0x205E: // punctuation
		return true
	case r >= 0x3001 && r <= 0x3029, r >= 0x3041 && r <= 0x3096, r >= 0x30A0 && r <= 0x30FF: // CJK punctuation, kana
		return true
	case r >= 0x4E00 && r <= 0x9FFF, r >= 0xAC00 && r <= 0xD7A3: // CJK ideographs, Hangul syllables
		return true
	case r >= 0xFF01 && r <= 0xFF60: // fullwidth forms
		return true
	}
	return false
}

// clusterAgrees reports whether a cluster is laid out the same by every
// rule: one rune, or the same width by wcwidth and by grapheme with no
// joiner or presentation selector that some terminals act on.
func clusterAgrees(cl string, graphemeWidth int) bool {
	if len(cl) == 1 {
		return true // ASCII
	}
	// A joiner or selector left alone (styled text can split a sequence
	// between escape sequences) still acts on the terminal's last cell.
	if strings.ContainsAny(cl, "\u200D\uFE0E\uFE0F") {
		return false
	}
	return ansi.StringWidthWc(cl) == graphemeWidth
}

// writeParts writes a cluster that terminals disagree on as its parts: a
// part is a rune that takes columns with the zero-width runes after it;
// ZWJ and the emoji/text presentation selectors are dropped. Two parts that
// would join into one cluster again are kept apart by a zero-width space,
// and a part that still measures differently becomes U+FFFD.
func writeParts(b *strings.Builder, cl string) {
	var parts []string
	start := -1
	var cur strings.Builder
	for _, r := range cl {
		switch {
		case r == 0x200D || r == 0xFE0E || r == 0xFE0F:
			continue
		case ansi.StringWidthWc(string(r)) > 0 || start < 0:
			if start >= 0 {
				parts = append(parts, cur.String())
				cur.Reset()
			}
			start = 0
		}
		cur.WriteRune(r)
	}
	if start >= 0 {
		parts = append(parts, cur.String())
	}
	prev := ""
	for _, p := range parts {
		if c, gw := ansi.FirstGraphemeCluster(p, ansi.GraphemeWidth); c != p || ansi.StringWidthWc(p) != gw {
			p = "\uFFFD"
		}
		if prev != "" {
			if c, _ := ansi.FirstGraphemeCluster(prev+p, ansi.GraphemeWidth); c != prev {
				b.WriteString(zwsp)
			}
		}
		b.WriteString(p)
		prev = p
	}
}

// Cell is one cluster of plain text as the screen draws it: for a
// component that lays text out itself and maps a position in the text to
// a column (the composer).
type Cell struct {
	Shown string // drawn: a cluster DisplayClusters leaves whole, with the zero-width parts after it
	Width int    // render.Width(Shown)
	Runes int    // runes of the text it stands for: a cluster shown as parts gives them all to its first cell
	Space bool   // a single whitespace rune
}

// Cells splits plain text into the cells it is drawn as: each grapheme
// cluster as DisplayClusters shows it, a cluster shown as its parts giving
// one cell per part, so a line can wrap between the members of a family.
// The cells' Runes add up to the runes of s.
func Cells(s string) []Cell {
	cells := make([]Cell, 0, len(s))
	for s != "" {
		if c := s[0]; c >= 0x20 && c < 0x7F && (len(s) == 1 || s[1] < 0x80) {
			// printable ASCII before ASCII: a cluster of its own (only CR LF joins two ASCII bytes)
			cells = append(cells, Cell{Shown: s[:1], Width: 1, Runes: 1, Space: c == ' '})
			s = s[1:]
			continue
		}
		cl, _ := ansi.FirstGraphemeCluster(s, ansi.GraphemeWidth)
		s = s[len(cl):]
		runes := utf8.RuneCountInString(cl)
		if runes == 1 {
			r, _ := utf8.DecodeRuneInString(cl)
			if unicode.IsSpace(r) {
				cells = append(cells, Cell{Shown: cl, Width: Width(cl), Runes: 1, Space: true})
				continue
			}
		}
		first := len(cells)
		for shown := DisplayClusters(cl); shown != ""; {
			part, _ := ansi.FirstGraphemeCluster(shown, ansi.GraphemeWidth)
			shown = shown[len(part):]
			w := Width(part)
			if w == 0 && len(cells) > first {
				cells[len(cells)-1].Shown += part // a zero-width part rides on the cell before it
				continue
			}
			cells = append(cells, Cell{Shown: part, Width: w})
		}
		if len(cells) == first { // nothing left to draw (a lone joiner): a cell of no width keeps the runes
			cells = append(cells, Cell{})
		}
		cells[first].Runes = runes
	}
	return cells
}

// Overlay draws over on base from column col: base's cells before col and
// after over stay as they were, styles and links included. A wide character that
// either edge of over cuts becomes spaces, so the line keeps base's width
// (or reaches col plus over's width, when base is shorter).
func Overlay(base, over string, col int) string {
	left := Truncate(base, col, "")
	if pad := col - Width(left); pad > 0 {
		left += strings.Repeat(" ", pad)
	}
	end := col + Width(over)
	// Nothing of base's styles or an open hyperlink (OSC 8) runs into
	// over, nor over's into base's right part (which keeps every escape
	// sequence before its first cell, so its own style and link resume).
	reset := ansi.ResetStyle + ansi.ResetHyperlink()
	out := left + reset + over + reset
	want := Width(base) - end
	if want <= 0 {
		return out
	}
	right := ansi.TruncateLeftWc(base, end, "")
	if Width(right) > want { // a wide character straddles the edge: drop it
		right = ansi.TruncateLeftWc(base, end+1, "")
	}
	if pad := want - Width(right); pad > 0 {
		out += strings.Repeat(" ", pad)
	}
	// The cut may start right with a part of a cluster shown apart (a
	// skin-tone modifier whose zero-width space was cut off): a zero-width
	// space keeps it from joining the cell before, as DisplayClusters does.
	if joinsBefore(ansi.Strip(right)) {
		out += zwsp
	}
	return out + right
}

// joinsBefore says whether s starts with a character that would join the
// cell before it into one grapheme cluster (an extending mark, a ZWJ, a
// skin-tone modifier).
func joinsBefore(s string) bool {
	if s == "" {
		return false
	}
	c, _ := firstCluster(" " + s)
	return len(c) > 1
}
