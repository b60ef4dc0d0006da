package render

import (
	"mimichat/internal/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// hostile is content an attacker can put in a message body.
var hostile = map[string]string{
	"osc52":       "copy this \x1b]52;c;cm0gLXJmIH4K\x07 now",
	"osc8":        "\x1b]8;;https://evil.example\x1b\\innocent\x1b]8;;\x1b\\",
	"title":       "\x1b]0;you are hacked\x07hi",
	"clear":       "\x1b[2J\x1b[3J\x1b[H$ sudo rm -rf /",
	"cursor":      "a\x1b[1A\x1b[999C\x1b[sb\x1b[u\x1b7c\x1b8",
	"decset":      "\x1b[?1000h\x1b[?1049h\x1b[?25l",
	"csi8bit":     "x\x9b2Jy\u009b31mz",
	"dcs":         "\x1bP$q\"p\x1b\\",
	"bidi":        "file\u202egnp.exe and \u2066isolated\u2069",
	"longword":    strings.Repeat("A", 5000),
	"longurl":     "[x](https://example.com/" + strings.Repeat("a/", 500) + ")",
	"wide":        strings.Repeat("漢字", 300),
	"emoji":       strings.Repeat("👩‍👩‍👧‍👦", 200),
	"zalgo":       "z" + strings.Repeat("\u0336\u0335", 300),
	"deeplist":    deepList(40),
	"deepquote":   strings.Repeat(">", 60) + " deep",
	"codeblock":   "```\n" + strings.Repeat("x", 400) + "\n\tindented\x1b[31m\n```",
	"table":       "|" + strings.Repeat(" col |", 40) + "\n|" + strings.Repeat("---|", 40) + "\n|" + strings.Repeat(" "+strings.Repeat("v", 30)+" |", 40),
	"html":        "<script>alert(1)</script><img src=x onerror=alert(1)> <b>bold?</b>",
	"controls":    "bell\x07 bs\x08 nul\x00 del\x7f cr\rlf",
	"invalid":     "bad \xff\xfe utf8 \xc3",
	"huge":        strings.Repeat("line of a huge message\n", 20000),
	"hugeline":    strings.Repeat("word ", 200000),
	"heading":     "# " + strings.Repeat("H", 300),
	"image":       "![alt \x1b[31m text](http://x/\x1b]0;t\x07.png)",
	"autolinkish": "see https://example.com and www.example.com and a@b.example",
}

func deepList(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(strings.Repeat("  ", i) + "- level\n")
	}
	return b.String()
}

// checkRendered fails unless out is safe terminal text at most width wide.
func checkRendered(t *testing.T, name, out string, width int) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("%s: invalid UTF-8", name)
	}
	for i, line := range strings.Split(out, "\n") {
		if w := ansi.StringWidth(line); w > width {
			t.Fatalf("%s: line %d is %d wide > %d: %q", name, i, w, width, line)
		}
		for j := 0; j < len(line); {
			if line[j] == 0x1b {
				n := escapeLen(line[j:])
				seq := line[j : j+n]
				if n < 3 || seq[1] != '[' || seq[n-1] != 'm' {
					t.Fatalf("%s: escape sequence %q is not SGR in %q", name, seq, line)
				}
				j += n
				continue
			}
			j++
		}
		if why := checkInert(ansi.Strip(line), false); why != "" {
			t.Fatalf("%s: line %d %q: %s", name, i, line, why)
		}
	}
}

func TestMarkdownHostileContentIsInertAndFits(t *testing.T) {
	for _, mode := range []string{"dark", "light"} {
		th, err := NewTheme(mode, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		for name, in := range hostile {
			for _, width := range []int{1, 5, 11, 12, 20, 40, 80, 200} {
				start := time.Now()
				out := MarkdownToANSI(in, width, th)
				if d := time.Since(start); d > 10*time.Second { // generous: the machine may be shared
					t.Errorf("%s at %d took %v", name, width, d)
				}
				checkRendered(t, name, out, width)
				if n := strings.Count(out, "\n") + 1; n > DefaultMaxLines {
					t.Errorf("%s at %d: %d lines > %d", name, width, n, DefaultMaxLines)
				}
			}
		}
	}
}

func TestMarkdownSemantics(t *testing.T) {
	th, _ := NewTheme("dark", true, nil)
	plain := func(md string) string { return ansi.Strip(MarkdownToANSI(md, 60, th)) }

	// GFM-MIMI has no autolinks: a bare URL is plain, unstyled text.
	if out := MarkdownToANSI("see https://example.com now", 60, th); out != "see https://example.com now" {
		t.Errorf("bare URL rendered as %q", out)
	}
	// HTML tags are shown as text, not interpreted or dropped.
	if got := plain("a <b>bold</b> <script>x</script>"); got != "a <b>bold</b> <script>x</script>" {
		t.Errorf("HTML rendered as %q", got)
	}
	// No document margin, no blank lines around the message.
	if got := plain("hello"); got != "hello" {
		t.Errorf("hello rendered as %q", got)
	}
	if got := plain("# Title\n\ntext"); got != "# Title\ntext" {
		t.Errorf("heading rendered as %q", got)
	}
	if got := plain("~~gone~~ - [x] a"); !strings.Contains(got, "gone") {
		t.Errorf("strikethrough lost: %q", got)
	}
	if got := plain("- [x] done\n- [ ] todo"); got != "[✓] done\n[ ] todo" {
		t.Errorf("task list rendered as %q", got)
	}
	if got := plain("| a | b |\n|---|---|\n| 1 | 2 |"); !strings.Contains(got, "│") {
		t.Errorf("table not rendered: %q", got)
	}
	// Escape attempts are visible markers, not actions.
	if got := plain("x\x1b]52;c;AAAA\x07y"); got != "x␛y" {
		t.Errorf("OSC 52 rendered as %q", got)
	}
	// Narrow views get plain wrapped text.
	if got := MarkdownToANSI("**bold** text", 6, th); got != "**bold\n**\ntext" {
		t.Errorf("narrow view rendered as %q", got)
	}
}

func TestMarkdownLimitsLines(t *testing.T) {
	th, _ := NewTheme("dark", true, nil)
	m := NewMarkdownRenderer(2)
	m.MaxLines = 5
	out := strings.Split(m.Render("1\n\n2\n\n3\n\n4\n\n5\n\n6", 40, th), "\n")
	if len(out) != 5 || !strings.HasPrefix(ansi.Strip(out[4]), "… (") {
		t.Errorf("limited output = %q", out)
	}
	huge := MarkdownToANSI(strings.Repeat("x\n\n", 5000), 40, th)
	last := huge[strings.LastIndexByte(huge, '\n')+1:]
	if !strings.Contains(last, "more lines)") {
		t.Errorf("huge message ends %q", last)
	}
}

func TestMarkdownRendererCache(t *testing.T) {
	dark, _ := NewTheme("dark", true, nil)
	light, _ := NewTheme("light", false, nil)
	custom, _ := NewTheme("dark", true, map[string]string{"link": "#ff0000"})
	m := NewMarkdownRenderer(3)
	m.Render("a", 40, dark)
	m.Render("b", 40, dark)
	if n := m.CachedRenderers(); n != 1 {
		t.Fatalf("same width and theme built %d renderers", n)
	}
	m.Render("a", 41, dark)
	m.Render("a", 40, light)
	if n := m.CachedRenderers(); n != 3 {
		t.Fatalf("%d renderers for 3 (width, theme) pairs", n)
	}
	m.Render("a", 40, custom)
	if n := m.CachedRenderers(); n != 3 {
		t.Fatalf("cache grew past its bound: %d", n)
	}
	// The override changes the rendering: the cache must key on it.
	a, b := m.Render("[x](https://e.example)", 40, dark), m.Render("[x](https://e.example)", 40, custom)
	if a == b || !strings.Contains(b, "255;0;0") {
		t.Errorf("theme override ignored: %q vs %q", a, b)
	}
}

// TestMarkdownGolden pins the compact chat style for both themes.
func TestMarkdownGolden(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "chat.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"dark", "light"} {
		th, _ := NewTheme(mode, mode == "dark", nil)
		got := MarkdownToANSI(string(src), 50, th) + "\n"
		golden.Check(t, filepath.Join("testdata", "chat."+mode+".golden"), got)
	}
}

func FuzzMarkdownToANSI(f *testing.F) {
	for _, s := range hostile {
		if len(s) < 2000 {
			f.Add(s, 30)
		}
	}
	f.Add("# h\n\n> q\n\n- a\n  1. b\n\n```\ncode\n```\n\n|a|b|\n|-|-|\n|1|2|", 20)
	f.Add("hi [@You](mimi://d.example/u/you) and [@B](mimi://d.example/u/bob) \uE000x\uE002 | [l](https://e.example)", 14)
	f.Add("|a|[@You](mimi://d.example/u/you)|\n|-|-|\n|[@x](mimi://d.example/u/a%20b)|2|", 30)
	dark, _ := NewTheme("dark", true, nil)
	f.Fuzz(func(t *testing.T, s string, width int) {
		if len(s) > 4096 {
			return
		}
		width = width%120 + 1
		if width < 1 {
			width = -width + 1
		}
		checkRendered(t, "fuzz", MarkdownToANSIFor(s, width, dark, mentionPeople), width)
	})
}
