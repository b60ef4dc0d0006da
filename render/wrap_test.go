package render

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  []string
	}{
		{"", 10, []string{""}},
		{"hello world", 20, []string{"hello world"}},
		{"hello world", 5, []string{"hello", "world"}},
		{"hello   world  ", 8, []string{"hello", "world"}},
		{"a b c d e f", 3, []string{"a b", "c d", "e f"}},
		{"supercalifragilistic", 6, []string{"superc", "alifra", "gilist", "ic"}},
		{"go supercalifragilistic", 6, []string{"go sup", "ercali", "fragil", "istic"}},
		{"  indented code", 10, []string{"  indented", "code"}},
		{"line1\n\nline3", 10, []string{"line1", "", "line3"}},
		{"漢字漢字漢", 4, []string{"漢字", "漢字", "漢"}},
		{"漢字", 1, []string{"…", "…"}},
		// A ZWJ sequence is shown as its parts (width.go): one wide cell each.
		{"👩‍💻👩‍💻", 2, []string{"👩", "💻", "👩", "💻"}},
		{"ab", 0, []string{"a", "b"}},
	}
	for _, tt := range tests {
		got := Wrap(tt.in, tt.width)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}

func TestFitLimitsLines(t *testing.T) {
	tests := []struct {
		in         string
		width, max int
		want       []string
	}{
		{"a\nb\nc", 10, 3, []string{"a", "b", "c"}},
		{"a\nb\nc\nd", 20, 3, []string{"a", "b", "… (2 more lines)"}},
		{"a\nb\nc\nd\ne", 20, 3, []string{"a", "b", "… (3 more lines)"}},
		{"aaaa bbbb cccc\nd", 4, 2, []string{"aaaa", "… (…"}},
		{"aaaa bbbb cccc\nd", 16, 2, []string{"aaaa bbbb cccc", "d"}},
		{"aaaa bbbb cccc dd", 16, 1, []string{"… (1 more line)"}},
		{"aaaa bbbb cccc dd\ne", 16, 2, []string{"aaaa bbbb cccc", "… (2 more lines)"}},
		{"a\nb\nc\nd", 6, 3, []string{"a", "b", "… (2 …"}},
		{"a\nb", 10, 0, []string{"a", "b"}},
		{"a\x1b[2Jb\nc", 10, 5, []string{"a␛b", "c"}},
	}
	for _, tt := range tests {
		got := Fit(tt.in, tt.width, tt.max)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Fit(%q, %d, %d) = %q, want %q", tt.in, tt.width, tt.max, got, tt.want)
		}
	}
}

func TestTruncateLine(t *testing.T) {
	for _, tt := range []struct {
		in    string
		width int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"longer than ten", 10, "longer th…"},
		{"漢字漢字", 5, "漢字…"},
		{"abc", 0, "…"},
	} {
		if got := TruncateLine(tt.in, tt.width); got != tt.want {
			t.Errorf("TruncateLine(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}

// A huge message costs what is on screen, not what was sent.
func TestFitHugeMessageIsCheapAndBounded(t *testing.T) {
	huge := strings.Repeat("word ", 2_000_000) + "\n" + strings.Repeat("line\n", 100_000)
	start := time.Now()
	lines := Fit(huge, 80, 40)
	if len(lines) != 40 {
		t.Fatalf("got %d lines", len(lines))
	}
	if last := lines[39]; last != "… (100002 more lines)" {
		t.Errorf("marker = %q", last)
	}
	for _, l := range lines {
		if ansi.StringWidth(l) > 80 {
			t.Fatalf("line too wide: %q", l)
		}
	}
	if d := time.Since(start); d > 5*time.Second { // generous: the machine may be shared
		t.Errorf("Fit took %v on a 10 MB message", d)
	}
}
