package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"mimichat/render"
)

// clusterKinds are the grapheme clusters terminals lay out differently, and
// the ones they agree on, that a peer can send.
var clusterKinds = []struct{ name, cl string }{
	{"zwj", "👩\u200d👩\u200d👧"},
	{"flag", "🇫🇷"},
	{"skin", "👍🏽"},
	{"vs16", "❤️"},
	{"keycap", "1️⃣"},
	{"combining", "e\u0301"},
	{"wide", "漢"},
	{"zerowidth", "a\u200bb"},
	{"indic", "स्ते"},
	{"rainbow", "🏳️\u200d🌈"},
	{"tag", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"},
}

// TestClusterLayout: a room whose name, sender and messages are made of
// every cluster kind, each repeated so that it lands on every wrap and cut
// boundary, at 80x24 and 160x48. No line is wider than the screen, every
// line measures the same by wcwidth and by grapheme (Bubble Tea's two
// placement modes), and the pane borders stay in one column on every row.
func TestClusterLayout(t *testing.T) {
	var all strings.Builder
	for _, k := range clusterKinds {
		all.WriteString(k.cl)
	}
	for _, size := range []struct {
		w, h   int
		layout string
	}{{80, 24, "cozy"}, {160, 48, "cozy"}, {80, 24, "compact"}, {160, 48, "compact"}} {
		t.Run(fmtSize(size.w, size.h)+"-"+size.layout, func(t *testing.T) {
			rl := startRelay(t)
			alice, bob := rl.session("alice"), rl.session("bob")
			room := openRoom(t, alice, "clusters", "Fam "+all.String(), bob)
			for _, k := range clusterKinds {
				sendText(t, bob, room, k.name+": "+strings.Repeat(k.cl+"a", 40))
			}
			last := sendText(t, bob, room, "mixed "+strings.Repeat(all.String()+" ", 6)+"the end")
			for _, e := range []string{"👍🏽", "❤️", "👩\u200d👩\u200d👧"} {
				m, err := alice.Builder(room).Reaction(last.ID, e)
				if err != nil {
					t.Fatal(err)
				}
				sendMsgAcked(t, alice, room, m)
			}
			waitReactions(t, alice, room, 3)
			// The compact layout cuts the sender's name in its column.
			tm, _, scr := startUI(t, alice, size.w, size.h, Options{Room: room, Layout: size.layout,
				Names: map[string]string{bob.User(): "Bob" + all.String()}})
			checkClusterScreen(t, scr.waitText(t, "the end", "🏽 1", "❤"), size.w, size.h)

			// Who reacted: the chips' emoji and the sender in a box.
			key(tm, "alt+s")
			tm.Type("=")
			checkClusterScreen(t, scr.waitText(t, "Reactions: 3 people"), size.w, size.h)
			key(tm, "esc")
			key(tm, "esc")
			scr.waitFor(t, "the box closed", func(s string) bool { return !strings.Contains(s, "Reactions:") })

			// The user's own text in the composer, wrapped in the pane.
			tm.Type(strings.Repeat(all.String(), 8) + " typed")
			checkClusterScreen(t, scr.waitText(t, "typed"), size.w, size.h)
		})
	}
}

// checkClusterScreen checks a frame (colours stripped) at w x h.
func checkClusterScreen(t *testing.T, frame string, w, h int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(frame, "\n"), "\n")
	if len(lines) > h {
		t.Errorf("%d lines, screen has %d", len(lines), h)
	}
	borders := map[int]int{} // column of a pane border → rows with it
	for i, l := range lines {
		if got := render.Width(l); got > w {
			t.Errorf("line %d is %d columns wide, screen %d: %q", i, got, w, l)
		}
		if wc, gr := ansi.StringWidthWc(l), ansi.StringWidth(l); wc != gr {
			t.Errorf("line %d measures %d by wcwidth and %d by grapheme: %q", i, wc, gr, l)
		}
		if i >= len(lines)-2 { // status and help lines
			continue
		}
		if j := strings.Index(l, "│"); j >= 0 {
			borders[render.Width(l[:j])]++
		}
	}
	// A box over the timeline: its right edge in one column on every row.
	box := map[int]int{}
	for _, l := range lines {
		edge := -1
		switch {
		case strings.Contains(l, "╭"):
			edge = strings.Index(l, "╮")
		case strings.Contains(l, "╰"):
			edge = strings.Index(l, "╯")
		case strings.Contains(l, "││"):
			in := strings.Index(l, "││") + len("││")
			if j := strings.Index(l[in:], "│"); j >= 0 {
				edge = in + j
			}
		default:
			continue
		}
		box[render.Width(l[:max(edge, 0)])]++
	}
	if len(box) > 1 {
		t.Errorf("the box's right edge in columns %v (column: rows), want one column:\n%s", box, frame)
	}
	// Every row but the status lines shows the room list's border, in one
	// column.
	if len(borders) != 1 {
		t.Errorf("room list border in columns %v (column: rows), want one column:\n%s", borders, frame)
	}
	if w < 120 {
		return
	}
	right := map[int]int{}
	for _, l := range lines[:len(lines)-2] {
		if j := strings.LastIndex(l, "│"); j >= 0 && strings.Count(l, "│") >= 2 {
			right[render.Width(l[:j])]++
		}
	}
	if len(right) != 1 {
		t.Errorf("members pane border in columns %v (column: rows), want one column:\n%s", right, frame)
	}
}
