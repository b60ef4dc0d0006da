package render

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// clusterCases are the grapheme clusters terminals lay out differently (and
// some they agree on): how each is shown, and its width in columns, which is
// the same by wcwidth, by grapheme and in tmux 3.3a (docs/ui.md).
var clusterCases = []struct {
	name, in, shown string
	width           int
}{
	{"zwj family", "👩\u200d👩\u200d👧", "👩👩👧", 6},
	{"zwj profession with skin tone", "👨🏽\u200d💻", "👨\u200b🏽💻", 6},
	{"zwj rainbow flag", "🏳️\u200d🌈", "🏳🌈", 3},
	{"flag", "🇫🇷", "🇫🇷", 2},
	{"lone regional indicator", "🇫", "\uFFFD", 1},
	{"skin tone", "👍🏽", "👍\u200b🏽", 4},
	{"vs16", "❤️", "❤", 1},
	{"vs15", "⌚︎", "⌚", 2},
	{"keycap", "1️⃣", "1⃣", 1},
	{"combining", "e\u0301", "e\u0301", 1},
	{"east asian wide", "漢字", "漢字", 4},
	{"hangul syllable", "한", "한", 2},
	{"hangul jamo", "\u1100\u1161\u11a8", "\u1100\u200b\u1161\u200b\u11a8", 4},
	{"indic conjunct", "स्ते", "स्\u200bते", 2},
	{"tag flag", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", 2},
	{"ascii", "abc", "abc", 3},
	{"mixed", "ж漢👍🏽é", "ж漢👍\u200b🏽é", 8},
	{"jamo then syllable", "\u1100가", "\u1100\u200b가", 4},
}

func TestDisplayClusters(t *testing.T) {
	for _, tt := range clusterCases {
		t.Run(tt.name, func(t *testing.T) {
			got := DisplayClusters(tt.in)
			if got != tt.shown {
				t.Errorf("DisplayClusters(%q) = %q, want %q", tt.in, got, tt.shown)
			}
			if w := Width(got); w != tt.width {
				t.Errorf("Width(%q) = %d, want %d", got, w, tt.width)
			}
			if gr := ansi.StringWidth(got); gr != tt.width {
				t.Errorf("grapheme width of %q = %d, want %d (the rules must agree)", got, gr, tt.width)
			}
			if again := DisplayClusters(got); again != got {
				t.Errorf("DisplayClusters is not idempotent: %q → %q", got, again)
			}
			if s := SanitizeLine(tt.in); s != tt.shown {
				t.Errorf("SanitizeLine(%q) = %q, want it shown as %q", tt.in, s, tt.shown)
			}
		})
	}
}

// TestClusterBoundaries wraps and cuts a line where each cluster kind lands
// on every boundary: after 0..3 letters, at every width from 1 to past the
// line's. No line is wider than the width by any rule, and wrapping loses
// nothing of the shown text.
func TestClusterBoundaries(t *testing.T) {
	for _, tt := range clusterCases {
		for lead := 0; lead < 4; lead++ {
			src := strings.Repeat("a", lead) + strings.Repeat(tt.in+"b", 3)
			shown := SanitizeText(src)
			total := Width(shown)
			for w := 1; w <= total+1; w++ {
				lines := Wrap(SanitizeText(src), w)
				for _, l := range lines {
					if Width(l) > w || ansi.StringWidth(l) > w || ansi.StringWidthWc(l) != ansi.StringWidth(l) {
						t.Errorf("%s: Wrap(%q, %d) line %q is %d columns (grapheme %d)", tt.name, src, w, l, Width(l), ansi.StringWidth(l))
					}
				}
				if w >= 2 && !strings.Contains(strings.Join(lines, ""), "…") {
					if got := strings.ReplaceAll(strings.Join(lines, ""), zwsp, ""); got != strings.ReplaceAll(shown, zwsp, "") {
						t.Errorf("%s: Wrap(%q, %d) = %q, lost text of %q", tt.name, src, w, lines, shown)
					}
				}
				cut := TruncateLine(SanitizeLine(src), w)
				if Width(cut) > w || ansi.StringWidth(cut) > w {
					t.Errorf("%s: TruncateLine(%q, %d) = %q, %d columns", tt.name, src, w, cut, Width(cut))
				}
				if w >= total && cut != shown {
					t.Errorf("%s: TruncateLine(%q, %d) = %q, want it whole: %q", tt.name, src, w, cut, shown)
				}
				if w < total && !strings.HasSuffix(cut, "…") {
					t.Errorf("%s: TruncateLine(%q, %d) = %q, want it cut with …", tt.name, src, w, cut)
				}
			}
		}
	}
}

// TestFitLine: styled text from a component that measures clusters its own
// way (the textarea, with the cursor drawn inside a ZWJ sequence) is shown
// by the rule and cut to the width.
func TestFitLine(t *testing.T) {
	in := "x👩\u200d\x1b[7m👩\x1b[m\u200d👧 👍🏽" + strings.Repeat(" ", 10)
	for w := 1; w <= 20; w++ {
		got := FitLine(in, w)
		if Width(got) > w || ansi.StringWidth(got) > w {
			t.Errorf("FitLine(%q, %d) = %q, %d columns", in, w, got, Width(got))
		}
		if strings.ContainsAny(ansi.Strip(got), "\u200d\ufe0f") {
			t.Errorf("FitLine(%q, %d) = %q keeps a joiner or selector", in, w, got)
		}
	}
	if got, want := ansi.Strip(FitLine(in, 40)), "x👩👩👧 👍\u200b🏽"+strings.Repeat(" ", 10); got != want {
		t.Errorf("FitLine = %q, want %q", got, want)
	}
}

// TestPlainRunes checks every rune DisplayClusters passes unsegmented:
// alone it measures the same by wcwidth and by grapheme, and it joins
// neither a letter nor itself into a cluster, before or after.
func TestPlainRunes(t *testing.T) {
	for r := rune(0x80); r <= 0x10FFFF; r++ {
		if !plainRune(r) {
			continue
		}
		s := string(r)
		if wc, gr := ansi.StringWidthWc(s), ansi.StringWidth(s); wc != gr {
			t.Errorf("%U: wcwidth %d, grapheme %d", r, wc, gr)
		}
		for _, pair := range [][2]string{{s, "a"}, {s, s}, {"a", s}} {
			if cl, _ := ansi.FirstGraphemeCluster(pair[0]+pair[1], ansi.GraphemeWidth); cl != pair[0] {
				t.Errorf("%U: %q and %q join into %q", r, pair[0], pair[1], cl)
			}
		}
	}
}

// TestCells: the cells of text with every cluster kind, after 0..3
// letters, add up to the text as DisplayClusters shows it and to its runes,
// each measured by Width the same as by grapheme.
func TestCells(t *testing.T) {
	kinds := []string{"👩\u200d👩\u200d👧", "🇫🇷", "👍🏽", "❤️", "1️⃣", "e\u0301", "漢", "a\u200bb", "स्ते", "🏳️\u200d🌈", "\u200d", " ", "\u3000", "\t"}
	for _, k := range kinds {
		for pre := range 4 {
			s := strings.Repeat("x", pre) + k + k + " " + k
			var shown strings.Builder
			runes := 0
			for _, c := range Cells(s) {
				shown.WriteString(c.Shown)
				runes += c.Runes
				if c.Width != Width(c.Shown) || c.Width != ansi.StringWidth(c.Shown) {
					t.Errorf("%q: cell %q is %d wide, Width %d, grapheme %d", s, c.Shown, c.Width, Width(c.Shown), ansi.StringWidth(c.Shown))
				}
				if white := strings.TrimSpace(c.Shown) == "" && c.Shown != ""; c.Space && (!white || c.Runes != 1) || !c.Space && white && c.Runes == 1 {
					t.Errorf("%q: cell %q space %v", s, c.Shown, c.Space)
				}
			}
			if shown.String() != DisplayClusters(s) {
				t.Errorf("%q: cells show %q, DisplayClusters %q", s, shown.String(), DisplayClusters(s))
			}
			if runes != utf8.RuneCountInString(s) {
				t.Errorf("%q: cells stand for %d runes of %d", s, runes, utf8.RuneCountInString(s))
			}
		}
	}
}
