package render

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestEventLinesWrap: a quiet system line longer than the width wraps under
// its text column in both layouts instead of being cut (at 80 columns the
// history offer's "/import-history" was cut to "/import-h…"); a huge one
// (a topic is network text) stops at three lines, the last ending in "…".
func TestEventLinesWrap(t *testing.T) {
	th := testTheme(t)
	offer := "Alice shared 5 messages of history with you · /import-history merges it"
	huge := "Alice set the topic: " + strings.Repeat("a very long topic ", 40) + "END"
	for _, layout := range []Layout{LayoutCozy, LayoutCompact} {
		for _, width := range []int{61, 40, 24} {
			ls := RenderMessage(&Message{Kind: RowEvent, Text: offer, Time: t0, Layout: layout}, width, th)
			plain := make([]string, len(ls))
			for i, l := range ls {
				plain[i] = ansi.Strip(l)
				if w := ansi.StringWidth(l); w > width {
					t.Errorf("%v at %d: line %d is %d wide", layout, width, i, w)
				}
			}
			if got := strings.Join(strings.Fields(strings.Join(plain, " ")), " "); width >= 40 && !strings.Contains(got, offer) {
				t.Errorf("%v at %d: the offer is not whole: %q", layout, width, plain)
			}
			ls = RenderMessage(&Message{Kind: RowEvent, Text: huge, Time: t0, Layout: layout}, width, th)
			if len(ls) != 3 || !strings.HasSuffix(strings.TrimRight(ansi.Strip(ls[len(ls)-1]), " "), "…") {
				t.Errorf("%v at %d: a huge event is %d lines, last %q", layout, width, len(ls), ansi.Strip(ls[len(ls)-1]))
			}
		}
	}
}
