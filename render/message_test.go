package render

import (
	"mimichat/internal/golden"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mimichat/content"
)

func testTheme(t testing.TB) *Theme {
	t.Helper()
	th, err := NewTheme("dark", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

var t0 = time.Date(2026, 11, 22, 9, 41, 0, 0, time.UTC)

func md(s string) *content.NestedPart { p := content.MarkdownPart(s); return &p }

// messageKinds is one row of every kind the timeline shows.
func messageKinds(t testing.TB) []struct {
	name string
	m    Message
} {
	alts, err := content.MultiBody(content.ChooseOne,
		content.LanguagePart("en", content.TextPart("Good morning")),
		content.LanguagePart("fr", content.TextPart("Bonjour")))
	if err != nil {
		t.Fatal(err)
	}
	att := content.ExternalBody(content.Attachment, "image/png", content.ExternalPart{URL: "https://files.example/x",
		Size: 123456, EncAlg: 1, HashAlg: 1, Filename: "../../etc/cat.png", Description: "a cat"})
	call := content.ExternalBody(content.Session, "", content.ExternalPart{URL: "https://meet.example/abc", Description: "Standup"})
	id := content.MessageID{1, 2, 3}
	return []struct {
		name string
		m    Message
	}{
		{"markdown", Message{ID: id, Sender: "mimi://x/u/alice", Name: "Alice", Time: t0, Body: md("Hello **world**, `code` and a [link](https://example.com)\n\n- one\n- two")}},
		{"plain", Message{ID: id, Sender: "mimi://x/u/bob", Name: "Bob", Time: t0, Body: func() *content.NestedPart { p := content.TextPart("plain text\nsecond line"); return &p }()}},
		{"reply", Message{ID: id, Sender: "mimi://x/u/bob", Name: "Bob", Time: t0, Body: md("I agree"), Quote: &Quote{Author: "Alice", Text: "Hello world, code and a link"}}},
		{"reply-deleted", Message{ID: id, Sender: "mimi://x/u/bob", Name: "Bob", Time: t0, Body: md("what was it?"), Quote: &Quote{State: QuoteDeleted}}},
		{"reply-unknown", Message{ID: id, Sender: "mimi://x/u/bob", Name: "Bob", Time: t0, Body: md("as I said"), Quote: &Quote{State: QuoteUnknown}}},
		{"reactions", Message{ID: id, Sender: "mimi://x/u/alice", Name: "Alice", Time: t0, Body: md("react to me"),
			Reactions: []Chip{{Key: "👍", Count: 3, Mine: true}, {Key: "🎉", Count: 1}, {Key: "not an emoji", Count: 1}}}},
		{"edited", Message{ID: id, Sender: "mimi://x/u/alice", Name: "Alice", Time: t0, Body: md("fixed the typo"), Edited: true}},
		{"tombstone", Message{ID: id, Sender: "mimi://x/u/alice", Name: "Alice", Time: t0, Deleted: true}},
		{"tombstone-moderator", Message{ID: id, Sender: "mimi://x/u/alice", Name: "Alice", Time: t0, Deleted: true, DeletedBy: "Carol"}},
		{"expired", Message{ID: id, Sender: "mimi://x/u/alice", Name: "Alice", Time: t0, Expired: true}},
		{"expiring", Message{ID: id, Sender: "mimi://x/u/alice", Name: "Alice", Time: t0, Body: md("gone soon"), ExpiresIn: 42 * time.Second}},
		{"knock", Message{Kind: RowKnock, ID: id, Sender: "mimi://x/u/bob", Name: "Bob", Time: t0}},
		{"pending", Message{ID: id, Sender: "mimi://x/u/me", Name: "Me", Time: t0, Body: md("on its way"), Delivery: DeliveryPending}},
		{"failed", Message{ID: id, Sender: "mimi://x/u/me", Name: "Me", Time: t0, Body: md("did not go"), Delivery: DeliveryFailed, Err: "rate limited"}},
		{"sent", Message{ID: id, Sender: "mimi://x/u/me", Name: "Me", Time: t0, Body: md("acked"), Delivery: DeliverySent}},
		{"delivered", Message{ID: id, Sender: "mimi://x/u/me", Name: "Me", Time: t0, Body: md("received"), Delivery: DeliveryDelivered}},
		{"read", Message{ID: id, Sender: "mimi://x/u/me", Name: "Me", Time: t0, Body: md("seen"), Delivery: DeliveryRead, ReadBy: 2}},
		{"mention", Message{ID: id, Sender: "mimi://x/u/alice", Name: "Alice", Time: t0, Body: md("hey [Me](mimi://x/u/me)"), Mention: true}},
		{"attachment", Message{ID: id, Sender: "mimi://x/u/alice", Name: "Alice", Time: t0, Body: &att}},
		{"call", Message{ID: id, Sender: "mimi://x/u/bob", Name: "Bob", Time: t0, Body: &call}},
		{"choose-one-fr", Message{ID: id, Sender: "mimi://x/u/alice", Name: "Alice", Time: t0, Body: &alts, Languages: []string{"fr"}}},
		{"choose-one-en", Message{ID: id, Sender: "mimi://x/u/alice", Name: "Alice", Time: t0, Body: &alts, Languages: []string{"en"}}},
		{"thread", Message{ID: id, Sender: "mimi://x/u/bob", Name: "Bob", Time: t0, Body: md("Let's discuss"), ThreadReplies: 4}},
		{"continued", Message{ID: id, Sender: "mimi://x/u/bob", Name: "Bob", Time: t0, Body: md("and one more thing"), Continued: true}},
		{"continued-read", Message{ID: id, Sender: "mimi://x/u/me", Name: "Me", Time: t0, Body: md("seen too"), Delivery: DeliveryRead, ReadBy: 2, Continued: true}},
		{"continued-attachment", Message{ID: id, Sender: "mimi://x/u/alice", Name: "Alice", Time: t0, Body: &att, Continued: true}},
		{"continued-deleted", Message{ID: id, Sender: "mimi://x/u/alice", Name: "Alice", Time: t0, Deleted: true, Continued: true}},
		{"long-name", Message{ID: id, Sender: "mimi://x/u/maximilian", Name: "Maximilian Longname-Smith", Time: t0, Body: md("a name wider than the column")}},
		{"system", Message{Kind: RowEvent, Text: "Carol joined"}},
		{"day", Message{Kind: RowDay, Text: "Today"}},
	}
}

// TestMessageKindsGolden: every kind of row in both layouts, at a chat
// pane's widths (the compact layout falls back to cozy at 24).
func TestMessageKindsGolden(t *testing.T) {
	th := testTheme(t)
	for _, c := range []struct {
		layout Layout
		width  int
		file   string
	}{{LayoutCozy, 60, "messages-60"}, {LayoutCozy, 24, "messages-24"},
		{LayoutCompact, 80, "messages-compact-80"}, {LayoutCompact, 60, "messages-compact-60"}, {LayoutCompact, 24, "messages-compact-24"}} {
		width := c.width
		var b strings.Builder
		for _, k := range messageKinds(t) {
			m := k.m
			m.Layout = c.layout
			lines := RenderMessage(&m, width, th)
			b.WriteString("== " + k.name + "\n")
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > width {
					t.Errorf("%s width %d: line %d is %d wide: %q", k.name, width, i, w, ansi.Strip(l))
				}
				b.WriteString(strings.TrimRight(ansi.Strip(l), " ") + "\n")
			}
		}
		golden.Check(t, filepath.Join("testdata", c.file+".golden"), b.String())
	}
}

// TestHostileContentInert: escape and control sequences, bidi overrides,
// very long words and huge messages render inert and within the width.
func TestHostileContentInert(t *testing.T) {
	th := testTheme(t)
	hostile := []string{
		"\x1b[2J\x1b[31mred\x1b[0m clear screen",
		"\x1b]52;c;aGVsbG8=\x07 clipboard write",
		"\x1b]8;;https://evil.example\x07link\x1b]8;;\x07",
		"\x9b31m C1 CSI", "\u009b31m C1 CSI as UTF-8",
		"bidi \u202egnp.exe\u202c override",
		strings.Repeat("W", 5000),
		strings.Repeat("word ", 50000),
		"tabs\tand\rcarriage\x00nul\x7fdel",
		"\x1bP+q544e\x1b\\ DCS",
	}
	bad := []string{"\x1b]", "\x1bP", "\x1b[2J", "\u009b", "\u202e", "\x07", "\x00", "\r"}
	for _, width := range []int{80, 20, 8} {
		for _, h := range hostile {
			for _, kind := range []string{"markdown", "plain"} {
				var body content.NestedPart
				if kind == "markdown" {
					body = content.MarkdownPart(h)
				} else {
					body = content.TextPart(h)
				}
				att := content.ExternalBody(content.Attachment, "text/plain\x1b[31m", content.ExternalPart{URL: "https://x/\x1b]0;t\x07",
					Filename: h, Description: h})
				var rows []Message
				for _, layout := range []Layout{LayoutCozy, LayoutCompact} { // each layout, headed and continued
					rows = append(rows,
						Message{ID: content.MessageID{1}, Sender: "mimi://x/u/\x1b[31m", Name: h, Time: t0, Body: &body,
							Quote: &Quote{Author: h, Text: h}, Reactions: []Chip{{Key: h, Count: 1}}, Layout: layout},
						Message{ID: content.MessageID{1}, Sender: "mimi://x/u/\x1b[31m", Name: h, Time: t0, Body: &body,
							Edited: true, Delivery: DeliveryFailed, Err: h, Continued: true, Layout: layout},
						Message{ID: content.MessageID{1}, Sender: "s", Name: "n", Time: t0, Body: &att, Layout: layout},
						Message{Kind: RowEvent, Text: h, Time: t0, Layout: layout},
						Message{Kind: RowKnock, Name: h, Time: t0, Layout: layout})
				}
				for _, m := range rows {
					lines := RenderMessage(&m, width, th)
					if len(lines) > MaxBodyLines+12 {
						t.Errorf("width %d %q: %d lines for one message", width, h[:min(len(h), 20)], len(lines))
					}
					for _, l := range lines {
						if w := ansi.StringWidth(l); w > width {
							t.Errorf("width %d %q: line %d wide", width, h[:min(len(h), 20)], w)
						}
						plain := ansi.Strip(l)
						for _, b := range bad {
							if strings.Contains(plain, b) || strings.Contains(stripSGR(l), b) {
								t.Errorf("width %d: %q survived in %q", width, b, plain)
							}
						}
					}
				}
			}
		}
	}
}

// stripSGR removes only the SGR colour sequences our styles add, so any
// other escape left in a line is caught.
func stripSGR(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';' || s[j] == ':') {
				j++
			}
			if j < len(s) && s[j] == 'm' {
				i = j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestCacheHitsOnSteadyFrame(t *testing.T) {
	th := testTheme(t)
	c := NewCache(16)
	m := Message{ID: content.MessageID{9}, Sender: "s", Name: "n", Time: t0, Body: md("hi")}
	a := c.Render(&m, 40, th)
	b := c.Render(&m, 40, th)
	if c.Hits != 1 || c.Miss != 1 || &a[0] != &b[0] {
		t.Fatalf("hits %d miss %d", c.Hits, c.Miss)
	}
	m.Reactions = []Chip{{Key: "👍", Count: 1}}
	c.Render(&m, 40, th)
	c.Render(&m, 41, th)
	if c.Miss != 3 {
		t.Fatalf("a changed decoration or width must re-render: miss %d", c.Miss)
	}
	for i := 0; i < 40; i++ {
		m.ID[1] = byte(i)
		c.Render(&m, 40, th)
	}
	if c.Len() > 16 {
		t.Fatalf("cache grew to %d past its limit", c.Len())
	}
}

func BenchmarkRenderMessageMarkdown(b *testing.B) {
	th := testTheme(b)
	m := Message{ID: content.MessageID{1}, Sender: "mimi://x/u/a", Name: "Alice", Time: t0,
		Body: md("Hello **world**, `code`\n\n- one\n- two"), Reactions: []Chip{{Key: "👍", Count: 2}}}
	b.ReportAllocs()
	for b.Loop() {
		RenderMessage(&m, 100, th)
	}
}
