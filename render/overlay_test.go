package render

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestOverlay(t *testing.T) {
	red := "\x1b[31m"
	link := ansi.SetHyperlink("https://example.com")
	for _, tc := range []struct {
		name, base, over string
		col              int
		want             string // plain text of the result
	}{
		{"middle", "abcdefghij", "XY", 3, "abcXYfghij"},
		{"start", "abcdefghij", "XY", 0, "XYcdefghij"},
		{"end", "abcdefghij", "XY", 8, "abcdefghXY"},
		{"past a short base", "abc", "XY", 5, "abc  XY"},
		{"base ends inside", "abcd", "XYZ", 2, "abXYZ"},
		{"styled base", red + "abcdefghij" + ansi.ResetStyle, "XY", 4, "abcdXYghij"},
		{"wide cut on the left", "ab界cdef", "XY", 3, "ab XYdef"},
		{"wide cut on the right", "abcd界ef", "XY", 3, "abcXY ef"},
		{"wide over", "abcdefgh", "界", 2, "ab界efgh"},
		{"link across", link + "abcdefghij" + ansi.ResetHyperlink(), "XY", 4, "abcdXYghij"},
		{"modifier shown apart", "ab👍" + zwsp + "🏽cd", "XY", 2, "abXY" + zwsp + "🏽cd"},
		{"wide cut before a modifier shown apart", "a👍" + zwsp + "🏽cd", "XY", 0, "XY " + zwsp + "🏽cd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Overlay(tc.base, tc.over, tc.col)
			if plain := ansi.Strip(got); plain != tc.want {
				t.Errorf("Overlay(%q, %q, %d) = %q, want %q", tc.base, tc.over, tc.col, plain, tc.want)
			}
			if w, bw := Width(got), max(Width(tc.base), tc.col+Width(tc.over)); w != bw {
				t.Errorf("width %d, want %d", w, bw)
			}
			// The same width by grapheme: nothing of base's right part
			// joins over's last cell.
			if g := ansi.StringWidth(got); g != Width(got) {
				t.Errorf("width %d by grapheme, %d by wcwidth: %q", g, Width(got), got)
			}
			// over starts with no style or link of base's left part open.
			i := strings.Index(got, tc.over)
			if i < 0 {
				t.Fatalf("over not found in %q", got)
			}
			if before := got[:i]; !strings.HasSuffix(before, ansi.ResetStyle+ansi.ResetHyperlink()) {
				t.Errorf("over not preceded by a reset: %q", before)
			}
		})
	}
}

// The right part of a styled base keeps its style after over.
func TestOverlayRightKeepsStyle(t *testing.T) {
	red := "\x1b[31m"
	got := Overlay(red+"abcdefghij"+ansi.ResetStyle, "XY", 2)
	i := strings.Index(got, "XY")
	right := got[i+len("XY"):]
	if !strings.Contains(right, red) || !strings.Contains(right, "efghij") {
		t.Errorf("right part %q lost the base's style", right)
	}
}
