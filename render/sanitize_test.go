package render

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

func TestSanitizeAttacks(t *testing.T) {
	tests := []struct {
		name, in, line, text string
	}{
		{"plain", "hello, world", "hello, world", "hello, world"},
		{"osc52 clipboard write BEL", "a\x1b]52;c;ZWNobyBwd25lZA==\x07b", "a␛b", "a␛b"},
		{"osc52 clipboard write ST", "a\x1b]52;c;ZWNobyBwd25lZA==\x1b\\b", "a␛b", "a␛b"},
		{"osc8 hyperlink", "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\", "␛click␛", "␛click␛"},
		{"title", "\x1b]0;pwned\x07hi", "␛hi", "␛hi"},
		{"title unterminated", "hi\x1b]2;rest of the message", "hi␛", "hi␛"},
		{"clear screen", "\x1b[2J\x1b[Hfake prompt $", "␛␛fake prompt $", "␛␛fake prompt $"},
		{"cursor moves", "x\x1b[10A\x1b[5;5Hy\x1b[2K", "x␛␛y␛", "x␛␛y␛"},
		{"decset mouse", "\x1b[?1000h\x1b[?1006h!", "␛␛!", "␛␛!"},
		{"sgr colour", "\x1b[31mred\x1b[0m", "␛red␛", "␛red␛"},
		{"8-bit csi raw", "a\x9b2Jb", "a␛b", "a␛b"},
		{"8-bit csi utf8", "a\u009b2Jb", "a␛b", "a␛b"},
		{"8-bit osc utf8 with 8-bit ST", "a\u009d0;t\u009cb", "a␛b", "a␛b"},
		{"dcs", "\x1bP+q544e\x1b\\ok", "␛ok", "␛ok"},
		{"apc pm sos", "\x1b_Gf=1;AAAA\x1b\\\x1b^pm\x07\x1bXsos\x1b\\z", "␛␛␛z", "␛␛␛z"},
		{"cancelled by CAN", "\x1b]0;x\x18after", "␛after", "␛after"},
		{"reset", "\x1bcgone", "␛gone", "␛gone"},
		{"charset", "\x1b(0lqk\x1b(B", "␛lqk␛", "␛lqk␛"},
		{"lone esc at end", "x\x1b", "x␛", "x␛"},
		{"esc esc", "\x1b\x1b[1m", "␛␛", "␛␛"},
		{"csi broken by newline", "\x1b[1\nJ", "␛␤J", "␛\nJ"},
		{"backspace overwrite", "safe\x08\x08\x08\x08evil", "safe␈␈␈␈evil", "safe␈␈␈␈evil"},
		{"bell nul del", "\x07\x00\x7f", "␇␀␡", "␇␀␡"},
		{"other c1", "a\u0080\u0099b", "a\uFFFD\uFFFDb", "a\uFFFD\uFFFDb"},
		{"invalid utf8", "a\xff\xfeb\xc3", "a\uFFFD\uFFFDb\uFFFD", "a\uFFFD\uFFFDb\uFFFD"},
		{"newlines", "a\r\nb\rc\nd\u2028e\u0085f", "a␤b␤c␤d␤e␤f", "a\nb\nc\nd\ne\nf"},
		{"tabs", "a\tb\n\tc", "a b␤ c", "a   b\n    c"},
		{"trojan source RLO", "access = \u202euser\u2066// admin\u2069", "access = ⟪RLO⟫user⟪LRI⟫// admin⟪PDI⟫", "access = ⟪RLO⟫user⟪LRI⟫// admin⟪PDI⟫"},
		{"bidi marks dropped", "a\u200eb\u200fc\u061cd", "abcd", "abcd"},
		{"filename extension spoof", "invoice\u202efdp.exe", "invoice⟪RLO⟫fdp.exe", "invoice⟪RLO⟫fdp.exe"},
		{"zero width in name", "al\u200bi\u200dc\u2060e\ufeff\u00ad", "alice", "alice"},
		// Terminals disagree on a ZWJ sequence's width: it is shown as its parts.
		{"zwj family as parts", "👨\u200d👩\u200d👧", "👨👩👧", "👨👩👧"},
		{"zwnj kept in persian", "می\u200cخواهم", "می\u200cخواهم", "می\u200cخواهم"},
		{"zwnj dropped in ascii", "ad\u200cmin", "admin", "admin"},
		{"tag smuggling", "hi\U000E0068\U000E0069", "hi", "hi"},
		{"england flag kept", "🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", "🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", "🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F"},
		{"zalgo capped", "e" + strings.Repeat("\u0301", 50), "e" + strings.Repeat("\u0301", maxMarks), "e" + strings.Repeat("\u0301", maxMarks)},
		{"accents kept", "Café naïve Tiếng Việt", "Café naïve Tiếng Việt", "Café naïve Tiếng Việt"},
		{"hangul filler", "\u115f\u1160x", "x", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SanitizeLine(tt.in); got != tt.line {
				t.Errorf("SanitizeLine(%q) = %q, want %q", tt.in, got, tt.line)
			}
			if got := SanitizeText(tt.in); got != tt.text {
				t.Errorf("SanitizeText(%q) = %q, want %q", tt.in, got, tt.text)
			}
		})
	}
}

// checkInert reports why s could still act on a terminal or mislead the
// reader, or "" if it cannot.
func checkInert(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	for _, r := range s {
		switch {
		case r == '\n' && multiline:
		case r < 0x20 || r == 0x7f:
			return "C0 control or DEL " + string(rune(0x2400+r%0x80))
		case r >= 0x80 && r < 0xa0:
			return "C1 control"
		case bidiTags[r] != "" || r == 0x200e || r == 0x200f || r == 0x061c:
			return "bidi control"
		case r == 0x200b || r == 0x2060 || r == 0xfeff || r == 0x2028 || r == 0x2029:
			return "invisible separator"
		}
	}
	return ""
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{
		"", "plain", "\x1b]52;c;AAAA\x07", "\x1b[2J", "\x9b31m", "\u009b1;2H", "a\u202eb",
		"\x1bP1$r\x1b\\", "e\u0301\u0301", "👩\u200d💻", "line1\r\nline2\ttab", "\xff\xc2",
		strings.Repeat("w", 300), "混合 wide 文字 " + strings.Repeat("漢", 40),
	} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, width int) {
		line, text := SanitizeLine(s), SanitizeText(s)
		if why := checkInert(line, false); why != "" {
			t.Fatalf("SanitizeLine(%q) = %q: %s", s, line, why)
		}
		if why := checkInert(text, true); why != "" {
			t.Fatalf("SanitizeText(%q) = %q: %s", s, text, why)
		}
		if again := SanitizeText(text); again != text {
			t.Fatalf("SanitizeText not idempotent on %q: %q then %q", s, text, again)
		}
		if again := SanitizeLine(line); again != line {
			t.Fatalf("SanitizeLine not idempotent on %q: %q then %q", s, line, again)
		}
		width = width%200 + 1
		if width < 1 {
			width = -width + 1
		}
		lines := Fit(s, width, 50)
		if len(lines) > 50 {
			t.Fatalf("Fit(%q, %d, 50) gave %d lines", s, width, len(lines))
		}
		for _, l := range lines {
			if w := ansi.StringWidth(l); w > width {
				t.Fatalf("Fit(%q, %d): line %q is %d wide", s, width, l, w)
			}
			if why := checkInert(l, false); why != "" {
				t.Fatalf("Fit(%q): line %q: %s", s, l, why)
			}
		}
		if tl := TruncateLine(line, width); ansi.StringWidth(tl) > width {
			t.Fatalf("TruncateLine(%q, %d) = %q too wide", line, width, tl)
		}
	})
}
