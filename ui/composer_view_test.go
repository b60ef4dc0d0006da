package ui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"mimichat/render"
	"mimichat/session"
)

// testComposer is a focused composer holding text, the cursor at its end,
// height lines high, at width w.
func testComposer(t *testing.T, text string, w, height int) *composer {
	t.Helper()
	c := fittedComposer(t, text, w)
	c.ta.SetHeight(height)
	return c
}

// TestComposerLinesAsTextarea: text every width rule measures alike
// (ASCII, Latin, CJK) is wrapped as the textarea wraps it, at every width.
func TestComposerLinesAsTextarea(t *testing.T) {
	texts := []string{
		"hello",
		"the quick brown fox jumps over the lazy dog",
		"a  b   c    d",
		"supercalifragilisticexpialidocious and more",
		"漢字かな交じり文 テスト 漢字漢字漢字漢字漢字漢字",
		"éàü ça va très bien, merci beaucoup",
		"x",
		"ab cd ef gh ij kl mn op",
	}
	for _, text := range texts {
		for w := 6; w <= 30; w++ {
			c := testComposer(t, text, w, 12)
			want := strings.Split(strings.TrimSuffix(ansi.Strip(c.ta.View()), "\n"), "\n")
			got := c.lines(w)
			for i := range got {
				g := ansi.Strip(got[i])
				if i >= len(want) {
					t.Fatalf("%q at %d: line %d %q beyond the textarea's %d lines", text, w, i, g, len(want))
				}
				if strings.TrimRight(g, " ") != strings.TrimRight(want[i], " ") {
					t.Errorf("%q at %d: line %d\n got %q\nwant %q", text, w, i, g, want[i])
				}
				if render.Width(g) != w {
					t.Errorf("%q at %d: line %d is %d columns: %q", text, w, i, render.Width(g), g)
				}
			}
		}
	}
}

// TestComposerCursorAsTextarea: on such text the cursor is drawn on the
// cell the textarea draws it on, at every position and width.
func TestComposerCursorAsTextarea(t *testing.T) {
	for _, text := range []string{"the quick brown fox jumps over the lazy dog", "漢字 かな abc 漢字漢字漢字"} {
		for w := 6; w <= 20; w++ {
			for col := 0; col <= len([]rune(text)); col++ {
				c := testComposer(t, text, w, 12)
				c.ta.SetCursorColumn(col)
				wy, wx := cursorAt(strings.Split(c.ta.View(), "\n"))
				gy, gx := cursorAt(c.lines(w))
				if gy < 0 || wy != gy || wx != gx {
					t.Errorf("%q at %d, rune %d: cursor at line %d column %d, textarea %d, %d", text, w, col, gy, gx, wy, wx)
				}
			}
		}
	}
}

// reverse is an SGR sequence turning reverse video on: the drawn cursor.
var reverse = regexp.MustCompile(`\x1b\[(?:[0-9:;]*;)?7(?:;[0-9:;]*)?m`)

// cursorAt is the line and column of the drawn cursor (-1, -1: none).
func cursorAt(lines []string) (y, x int) {
	for i, l := range lines {
		if loc := reverse.FindStringIndex(l); loc != nil {
			return i, render.Width(ansi.Strip(l[:loc[0]]))
		}
	}
	return -1, -1
}

// composerArea is the composer's lines of a frame (colours kept): the lines
// between the rule above it and the status line, without the panes'
// borders beside it.
func composerArea(frame string) []string {
	lines := strings.Split(strings.TrimSuffix(frame, "\n"), "\n")
	var area []string
	for i := len(lines) - 3; i >= 0; i-- {
		l := inPane(lines[i])
		if strings.HasPrefix(ansi.Strip(l), "───") {
			break
		}
		area = append([]string{l}, area...)
	}
	return area
}

// inPane is a line without the rooms pane on its left and the members
// pane's border on its right.
func inPane(l string) string {
	if i := strings.Index(l, "│"); i >= 0 {
		l = l[i+len("│"):]
	}
	if i := strings.LastIndex(l, "│"); i >= 0 {
		l = l[:i]
	}
	return l
}

// shownText is text as drawn, for comparing: without spaces and the
// zero-width spaces that keep parts apart.
func shownText(s string) string {
	return strings.NewReplacer(" ", "", "\u200b", "").Replace(ansi.Strip(s))
}

// composerRoom opens a room of alice's with bob on a real relay and alice's
// UI at w x h on it, its composer empty; in collects what bob receives.
func composerRoom(t *testing.T, slug, name string, w, h int) (*session.Session, *inbox, *teatest.TestModel, *screen) {
	t.Helper()
	rl := startRelay(t)
	alice, bob := rl.session("alice"), rl.session("bob")
	in := collect(bob)
	room := openRoom(t, alice, slug, name, bob)
	tm, _, scr := startUI(t, alice, w, h, Options{Room: room})
	scr.waitText(t, name, "Write a message")
	return alice, in, tm, scr
}

// TestComposerTypedClusters: typing words of ZWJ families, flags, skin
// tones, VS16 and keycap emoji into the composer at 80x24 and 160x48,
// past the pane's width. After each word the line with the cursor ends
// with the word as the timeline shows it and then the cursor; every line
// of the screen fits it with the borders in one column; the message sent
// is exactly the text typed.
func TestComposerTypedClusters(t *testing.T) {
	words := []string{"family", "👩\u200d👩\u200d👧", "flag", "🇫🇷", "thumbs", "👍🏽", "heart", "❤️", "key", "1️⃣"}
	for i := range 16 {
		words = append(words, strings.Repeat(clusterKinds[i%5].cl, 3+i%4), "w"+fmt.Sprint(i))
	}
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 48}} {
		t.Run(fmtSize(size.w, size.h), func(t *testing.T) {
			alice, in, tm, scr := composerRoom(t, "typed", "Typed", size.w, size.h)
			typed := ""
			for i, word := range words {
				if i > 0 {
					word = " " + word
				}
				typed += word
				typeText(tm, word)
				want := shownText(render.DisplayClusters(word))
				frame := scr.waitRaw(t, fmt.Sprintf("%q before the cursor", word), func(f string) bool {
					for _, l := range composerArea(f) {
						if loc := reverse.FindStringIndex(l); loc != nil {
							return strings.HasSuffix(shownText(l[:loc[0]]), want) && shownText(l[loc[1]:]) == ""
						}
					}
					return false
				})
				checkClusterScreen(t, ansi.Strip(frame), size.w, size.h)
				if t.Failed() {
					t.FailNow()
				}
			}
			if render.Width(render.DisplayClusters(typed)) < 2*size.w {
				t.Fatalf("typed %d columns: not past the pane", render.Width(render.DisplayClusters(typed)))
			}
			key(tm, "enter")
			in.wait(t, "the typed text", alice.User(), func(r received) bool { return string(r.msg.Body.Content) == typed })
		})
	}
}

// TestComposerPastedClusters: pasted rows of ZWJ families and skin tones,
// the last one wider than the pane once its clusters are shown as parts,
// at 80x24 and 160x48: the composer grows to the four lines it draws and
// shows every row whole, inside the pane, the cursor after the end; the
// message sent is exactly the text pasted.
func TestComposerPastedClusters(t *testing.T) {
	for _, size := range []struct{ w, h, n int }{{80, 24, 8}, {160, 48, 14}} {
		t.Run(fmtSize(size.w, size.h), func(t *testing.T) {
			alice, in, tm, scr := composerRoom(t, "pasted", "Pasted", size.w, size.h)
			rows := []string{"first ❤️ 1️⃣ 🇫🇷", "second 👍🏽 👩\u200d👩\u200d👧", strings.Repeat("👩\u200d👩\u200d👧👍🏽", size.n) + " end"}
			pasted := strings.Join(rows, "\n")
			tm.Send(tea.PasteMsg{Content: pasted})
			want := shownText(render.DisplayClusters(rows[0] + rows[1] + rows[2]))
			frame := scr.waitRaw(t, "the pasted rows", func(f string) bool {
				area := composerArea(f)
				return len(area) == 4 && shownText(strings.Join(area, "")) == want
			})
			area := composerArea(frame)
			if y, x := cursorAt(area); y != 3 || x != render.Width(strings.TrimRight(ansi.Strip(area[3]), " ")) {
				t.Errorf("cursor at line %d column %d, not after the text: %q", y, x, ansi.Strip(area[3]))
			}
			checkClusterScreen(t, ansi.Strip(frame), size.w, size.h)
			key(tm, "enter")
			in.wait(t, "the pasted text", alice.User(), func(r received) bool { return string(r.msg.Body.Content) == pasted })
		})
	}
}

// TestComposerClusterLines: a row of every cluster kind after letters and
// spaces, at widths from 4 to 40 with the cursor before every rune: every line
// is exactly the width by both of Bubble Tea's measures, the lines hold the
// whole text as the timeline shows it, and the cursor is drawn after the
// text before it.
func TestComposerClusterLines(t *testing.T) {
	var row strings.Builder
	for i, k := range clusterKinds {
		row.WriteString(strings.Repeat("x", i%3) + k.cl + k.cl + " ")
	}
	text := row.String() + "end"
	runes := []rune(text)
	for _, w := range []int{4, 5, 6, 7, 8, 9, 11, 13, 17, 23, 31, 40} {
		for col := 0; col <= len(runes); col++ {
			c := testComposer(t, text, w, 60)
			c.ta.SetCursorColumn(col)
			lines := c.lines(w)
			for i, l := range lines {
				if wc, gr := ansi.StringWidthWc(l), ansi.StringWidth(l); wc != w || gr != w {
					t.Fatalf("width %d, rune %d: line %d is %d columns by wcwidth, %d by grapheme: %q", w, col, i, wc, gr, ansi.Strip(l))
				}
			}
			before := shownText(render.DisplayClusters(string(runes[:col])))
			after := shownText(render.DisplayClusters(string(runes[col:])))
			if got := shownText(strings.Join(lines, "")); got != before+after {
				t.Fatalf("width %d, rune %d: lines show\n%q\nnot\n%q", w, col, got, before+after)
			}
			y, x := cursorAt(lines)
			if y < 0 {
				t.Fatalf("width %d, rune %d: no cursor", w, col)
			}
			drawn := shownText(strings.Join(lines[:y], "") + render.Truncate(lines[y], x, ""))
			// a mark of no width after the cursor's place is drawn before
			// the cursor: no cell to draw it on
			if rest, ok := strings.CutPrefix(drawn, before); !ok || render.Width(rest) != 0 {
				t.Fatalf("width %d, rune %d: before the cursor %q, want %q", w, col, drawn, before)
			}
		}
	}
}
