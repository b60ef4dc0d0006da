package render

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"mimichat/content"
)

// FuzzRenderMessage: any text from the network, as a Markdown or plain
// body, a sender name, a quote, a reaction key or a filename, renders
// within the width and with no escape sequence but colours.
func FuzzRenderMessage(f *testing.F) {
	for _, s := range []string{"hello **x**", "\x1b]52;c;AA==\x07", "\u202eabc", strings.Repeat("é", 300), "`a`\n\n- b\n> c", "\x9b2J"} {
		f.Add(s, uint8(40), false)
		f.Add(s, uint8(7), true)
	}
	th, err := NewTheme("dark", true, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string, w uint8, plain bool) {
		width := []int{8, 13, 24, 40, 80, 160}[int(w)%6] // few widths: one glamour renderer each
		body := content.MarkdownPart(s)
		if plain {
			body = content.TextPart(s)
		}
		att := content.ExternalBody(content.Attachment, s, content.ExternalPart{URL: s, Filename: s, Description: s, Size: uint64(len(s))})
		for _, m := range []Message{
			{ID: content.MessageID{1}, Sender: s, Name: s, Body: &body, Quote: &Quote{Author: s, Text: s},
				Reactions: []Chip{{Key: s, Count: 2}}, Err: s, Delivery: DeliveryFailed},
			{ID: content.MessageID{1}, Sender: s, Name: s, Body: &att},
			{Kind: RowEvent, Text: s},
			{Kind: RowKnock, Name: s},
			{Kind: RowDay, Text: s},
		} {
			for _, l := range RenderMessage(&m, width, th) {
				lw := ansi.StringWidth(l)
				if lw > max(width, 8) {
					t.Fatalf("width %d: line is %d wide: %q", width, lw, l)
				}
				if rest := stripSGR(l); strings.ContainsAny(rest, "\x1b\x07\u009b\u202e\x00") {
					t.Fatalf("escape or control survived: %q", rest)
				}
			}
		}
	})
}
