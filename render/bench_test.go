package render

import (
	"strings"
	"testing"

	"charm.land/glamour/v2"
)

var benchShort = "Shipped **0.3** today, thanks @bob! See [the notes](https://example.com/notes) and `make test`."

var benchLong = strings.Repeat(benchShort+"\n\n", 4) + "- one\n- two\n  - nested\n\n> quoted\n\n```go\nfunc main() { fmt.Println(\"hi\") }\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"

func benchMarkdown(b *testing.B, text string) {
	th, _ := NewTheme("dark", true, nil)
	m := NewMarkdownRenderer(4)
	m.Render(text, 80, th) // build the cached renderer outside the loop
	b.ReportAllocs()
	for b.Loop() {
		m.Render(text, 80, th)
	}
}

// BenchmarkMarkdownShort is one chat line through the cached renderer.
func BenchmarkMarkdownShort(b *testing.B) { benchMarkdown(b, benchShort) }

// BenchmarkMarkdownLong is a multi-block message with a highlighted code block.
func BenchmarkMarkdownLong(b *testing.B) { benchMarkdown(b, benchLong) }

// BenchmarkMarkdownUncached builds a renderer per message, to show what the
// cache saves.
func BenchmarkMarkdownUncached(b *testing.B) {
	th, _ := NewTheme("dark", true, nil)
	b.ReportAllocs()
	for b.Loop() {
		m := NewMarkdownRenderer(1)
		m.Render(benchShort, 80, th)
	}
}

// BenchmarkGlamourTermRenderer is glamour's own API building a
// TermRenderer per message, the way a naive client would.
func BenchmarkGlamourTermRenderer(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		r, err := glamour.NewTermRenderer(glamour.WithStandardStyle("dark"), glamour.WithWordWrap(80))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Render(benchShort); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSanitizeTextASCII(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		SanitizeText(benchLong)
	}
}

func BenchmarkSanitizeTextHostile(b *testing.B) {
	s := strings.Repeat("a\x1b]52;c;AAAA\x07\u202eb\u200bc\x1b[2J漢 ", 50)
	b.ReportAllocs()
	for b.Loop() {
		SanitizeText(s)
	}
}

func BenchmarkFit(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Fit(benchLong, 60, 40)
	}
}

func BenchmarkCompleteEmoji(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		CompleteEmoji(":hea", 8, nil)
	}
}

// BenchmarkSanitizeTextNonLatin: Cyrillic, CJK and emoji text, which
// DisplayClusters segments (docs/ui.md, "Display width").
func BenchmarkSanitizeTextNonLatin(b *testing.B) {
	s := strings.Repeat("Привет, как дела? Всё хорошо 👍 漢字かな ", 20)
	b.ReportAllocs()
	for b.Loop() {
		SanitizeText(s)
	}
}
