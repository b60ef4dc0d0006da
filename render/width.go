package render

import (
	"strings"

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
// made only of such parts is returned unchanged.
func DisplayClusters(s string) string {
	if !mayDisagree(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for rest := s; rest != ""; {
		cl, gw := ansi.FirstGraphemeCluster(rest, ansi.GraphemeWidth)
		rest = rest[len(cl):]
		if clusterAgrees(cl, gw) {
			b.WriteString(cl)
			continue
		}
		writeParts(&b, cl)
	}
	return b.String()
}

// DisplayLine is DisplayClusters for styled text: the printable runs
// between escape sequences are shown as DisplayClusters shows them, the
// sequences are kept.
func DisplayLine(s string) string {
	if !mayDisagree(s) {
		return s
	}
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
// textarea).
func FitLine(s string, width int) string {
	s = DisplayLine(s)
	if Width(s) > width {
		s = Truncate(s, width, "")
	}
	return s
}

// mayDisagree reports whether s holds a rune that can start or extend a
// cluster whose width differs between terminals. Combining marks start at
// U+0300; everything below is one column (or a control) everywhere.
func mayDisagree(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xcc { // first byte of U+0300 and up
			return true
		}
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
