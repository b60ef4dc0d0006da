package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"mimichat/render"
)

// fam is a ZWJ family: 2 columns to the textarea (uniseg), 6 on the screen
// (three parts of 2, render.Cells).
const fam = "👩\u200d👩\u200d👧"

// fittedComposer is a focused composer at width w holding text, the cursor
// at its end, its height as fitHeight sets it.
func fittedComposer(t *testing.T, text string, w int) *composer {
	t.Helper()
	th, err := render.NewTheme("dark", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newComposer(th)
	c.focus()
	c.setWidth(w)
	c.setValue(text)
	return &c
}

// checkFitted checks the composer at width w is want lines high (at most
// maxComposerLines), its lines show the whole text when it fits, and the
// cursor is drawn on one of them.
func checkFitted(t *testing.T, c *composer, text string, w, want int) {
	t.Helper()
	if h := c.ta.Height(); h != min(want, maxComposerLines) {
		t.Errorf("%d lines high, want %d (%d drawn)", h, min(want, maxComposerLines), want)
	}
	lines := c.lines(w)
	if len(lines) != c.ta.Height() {
		t.Errorf("drew %d lines at height %d", len(lines), c.ta.Height())
	}
	if want <= maxComposerLines {
		if got, all := shownText(strings.Join(lines, "")), shownText(render.DisplayClusters(strings.ReplaceAll(text, "\n", ""))); got != all {
			t.Errorf("lines show %q, not the whole text %q", got, all)
		}
	}
	if y, _ := cursorAt(lines); y < 0 {
		t.Errorf("no cursor drawn in %q", ansi.Strip(strings.Join(lines, "|")))
	}
}

// TestComposerHeightFollowsDrawnLines: the composer is as high as the
// lines it draws at its width, wrapped lines counted as the screen shows
// them (a family 6 columns, a CJK character 2), at most 6, the cursor's
// line in view when there are more.
func TestComposerHeightFollowsDrawnLines(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		w, lines   int
	}{
		{"empty", "", 20, 1},
		{"short", "hello", 20, 1},
		// "abcd abcd abcd abcd " twice; the last line is full, so the cursor
		// takes a line of its own (as the textarea's wrap does)
		{"long unwrapped", strings.Repeat("abcd ", 8), 20, 3},
		{"long unwrapped, no cursor line", strings.Repeat("abcd ", 7) + "ab", 20, 2},
		{"hard newlines", "one\ntwo\nthree", 20, 3},
		{"newlines and wrapping", "first line\n" + strings.Repeat("abcd ", 6) + "\nend", 20, 4},
		{"one long word is cut", strings.Repeat("x", 45), 20, 3},
		// 30 CJK characters, 60 columns: three full lines and the cursor's
		{"wide", strings.Repeat("漢字", 15), 20, 4},
		// 10 families: 60 columns drawn, 20 to the textarea
		{"zwj families", strings.Repeat(fam, 10), 20, 4},
		{"zwj after words", "abc " + strings.Repeat(fam, 8), 20, 4},
		{"skin tones and newline", strings.Repeat("👍🏽", 6) + "\nok", 20, 3},
		{"more than six", strings.Repeat("abcd ", 40), 20, 11},
		{"more than six of families", strings.Repeat(fam+" ", 20), 20, 10},
		{"wide pane", strings.Repeat("abcd ", 40), 160, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fittedComposer(t, tc.text, tc.w)
			if n := len(c.layout(tc.w).lines); n != tc.lines {
				t.Fatalf("%d lines drawn, want %d", n, tc.lines)
			}
			checkFitted(t, c, tc.text, tc.w, tc.lines)
			if tc.lines > maxComposerLines {
				// the window shows the cursor's (last) line at its foot
				if y, _ := cursorAt(c.lines(tc.w)); y != maxComposerLines-1 {
					t.Errorf("cursor on line %d of the window, want the last", y)
				}
			}
		})
	}
}

// TestComposerHeightTypedAndDeleted: typed one key at a time, a line
// without newlines grows the composer line by line as it wraps, up to 6;
// backspace shrinks it back line by line; sending (reset) leaves one line.
func TestComposerHeightTypedAndDeleted(t *testing.T) {
	for _, tc := range []struct {
		name, word string
		w          int
	}{
		{"ascii", "word ", 24},
		{"families", fam + fam + " ", 24},
		{"wide", "漢字かな ", 24},
		{"narrow pane", "ab ", 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fittedComposer(t, "", tc.w)
			typed := ""
			grew := 0
			for len(c.layout(tc.w).lines) <= maxComposerLines+2 {
				before := c.ta.Height()
				typeText(c, tc.word)
				typed += tc.word
				checkFitted(t, c, typed, tc.w, len(c.layout(tc.w).lines))
				if c.ta.Height() > before {
					grew++
				}
				if t.Failed() {
					t.FailNow()
				}
			}
			if grew < maxComposerLines-1 {
				t.Errorf("grew %d times typing %q", grew, typed)
			}
			for c.value() != "" {
				before := c.ta.Height()
				c.update(tea.KeyPressMsg{Code: tea.KeyBackspace})
				checkFitted(t, c, c.value(), tc.w, len(c.layout(tc.w).lines))
				if c.ta.Height() > before {
					t.Fatalf("backspace grew the composer from %d to %d", before, c.ta.Height())
				}
				if t.Failed() {
					t.FailNow()
				}
			}
			if c.ta.Height() != 1 {
				t.Errorf("empty composer %d lines high", c.ta.Height())
			}
			typeText(c, strings.Repeat(tc.word, 12))
			c.reset()
			if c.ta.Height() != 1 {
				t.Errorf("composer %d lines high after reset", c.ta.Height())
			}
		})
	}
}

// Send lets typeText type into a composer.
func (c *composer) Send(msg tea.Msg) { c.update(msg) }

// TestComposerHeightOnResize: a new width lays the text out again: fewer
// lines when wider, more when narrower, back where it was when the width
// comes back (the centre pane at 80 and 160 columns and back).
func TestComposerHeightOnResize(t *testing.T) {
	for _, tc := range []struct {
		name   string
		text   string
		widths []int
		lines  []int
	}{
		{"ascii", strings.Repeat("abcd ", 16), []int{40, 100, 40, 20}, []int{3, 1, 3, 5}},
		{"families", strings.Repeat(fam+" ", 10), []int{40, 100, 40}, []int{2, 1, 2}},
		{"newlines and wrapping", "hi\n" + strings.Repeat("abcd ", 16) + "\nbye", []int{40, 100, 40}, []int{5, 3, 5}},
		{"past six and back", strings.Repeat("abcd ", 40), []int{61, 136, 61}, []int{4, 2, 4}},
		{"past six when narrow", strings.Repeat("abcd ", 40), []int{30, 136, 30}, []int{7, 2, 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fittedComposer(t, tc.text, tc.widths[0])
			for i, w := range tc.widths {
				c.setWidth(w)
				if n := len(c.layout(w).lines); n != tc.lines[i] {
					t.Fatalf("at %d: %d lines drawn, want %d", w, n, tc.lines[i])
				}
				checkFitted(t, c, tc.text, w, tc.lines[i])
			}
		})
	}
}

// TestComposerUpDownByDrawnLines: up and down move the cursor one drawn
// line, to the column it aimed for when they began (not past it), to a
// place where a character can go (never between the parts of a family);
// up on the first line goes to the start, down on the last to the end.
// The textarea's own wrap puts the families of a row on fewer lines than
// the screen, so its up/down skipped the lines drawn.
func TestComposerUpDownByDrawnLines(t *testing.T) {
	type at struct{ line, col int } // drawn line, column on it
	for _, tc := range []struct {
		name  string
		text  string
		w     int
		start at // the cursor at the end of the text
		keys  []string
		want  []at
	}{
		{
			// "abc " | 10 parts | 10 parts | 4 parts: families start at
			// columns 0, 6, 12, 18 of the second line, 4, 10, 16 of the third
			name: "families", text: "abc " + strings.Repeat(fam, 8), w: 20, start: at{3, 8},
			keys: []string{"up", "up", "up", "up", "down", "down", "down", "down"},
			want: []at{{2, 4}, {1, 6}, {0, 3}, {0, 0}, {1, 0}, {2, 4}, {3, 2}, {3, 8}},
		},
		{
			name: "newlines and wrapping", text: "first line\n" + strings.Repeat("abcd ", 6) + "\nend", w: 20, start: at{3, 3},
			keys: []string{"up", "up", "up", "down", "down", "down", "down"},
			want: []at{{2, 3}, {1, 3}, {0, 3}, {1, 3}, {2, 3}, {3, 3}, {3, 3}},
		},
		{
			name: "goal column past a short line", text: "abcdefghij\nab\nabcdefghij", w: 20, start: at{2, 10},
			keys: []string{"up", "up", "down", "down"},
			want: []at{{1, 2}, {0, 10}, {1, 2}, {2, 10}},
		},
		{
			// 10 characters of 2 columns a line: column 7 falls inside one
			name: "wide", text: strings.Repeat("漢字", 10) + "abcdefg", w: 20, start: at{2, 7},
			keys: []string{"up", "up", "down", "left", "down"},
			want: []at{{1, 6}, {0, 6}, {1, 6}, {1, 4}, {2, 4}},
		},
		{
			name: "skin tones", text: strings.Repeat("👍🏽", 8) + "xyz", w: 20, start: at{1, 15},
			keys: []string{"up", "down"},
			want: []at{{0, 12}, {1, 15}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fittedComposer(t, tc.text, tc.w)
			cursor := func() at {
				l := c.layout(tc.w)
				return at{l.cy, cellsWidth(l.lines[l.cy][:l.cx])}
			}
			if got := cursor(); got != tc.start {
				t.Fatalf("cursor at %v, want %v", got, tc.start)
			}
			for i, k := range tc.keys {
				msg := keyMsg(k)
				if k == "left" {
					msg = tea.KeyPressMsg{Code: tea.KeyLeft}
				}
				c.update(msg)
				got := cursor()
				if got != tc.want[i] {
					t.Fatalf("after %v: cursor at %v, want %v", tc.keys[:i+1], got, tc.want[i])
				}
				// drawn where the layout has it, in the window
				lines := c.lines(tc.w)
				if y, x := cursorAt(lines); y != got.line-c.top || x != got.col {
					t.Errorf("after %v: cursor drawn at line %d column %d, want %v", tc.keys[:i+1], y+c.top, x, got)
				}
			}
			if c.value() != tc.text {
				t.Errorf("moving changed the text to %q", c.value())
			}
		})
	}
}

// TestComposerGrowsOnScreen: alice types a long line without newlines
// (words, families, skin tones, CJK) at 80x24 and 160x48 on a real relay.
// The composer grows to show every line it draws and the timeline above it
// shrinks (bob's last message stays on screen above the composer's rule,
// the frame keeps its height); a resize to the other size and back lays
// the text out again; past 6 lines the composer scrolls with the cursor on
// its last line; up moves the cursor one drawn line; enter sends exactly
// the text typed (without the trailing space, as every message is trimmed)
// and the composer is one line again.
func TestComposerGrowsOnScreen(t *testing.T) {
	words := []string{"hello", fam + fam, "漢字かな", "👍🏽", "world"}
	for _, size := range []struct{ w, h, w2, h2 int }{{80, 24, 160, 48}, {160, 48, 80, 24}} {
		t.Run(fmtSize(size.w, size.h), func(t *testing.T) {
			rl := startRelay(t)
			alice, bob := rl.session("alice"), rl.session("bob")
			in := collect(bob)
			room := openRoom(t, alice, "grow", "Grow", bob)
			tm, _, scr := startUI(t, alice, size.w, size.h, Options{Room: room})
			scr.waitText(t, "Grow", "Write a message")
			sendText(t, bob, room, "newest from bob")
			scr.waitText(t, "newest from bob")

			typed, last := "", ""
			typeUntil := func(cols int) {
				for i := 0; render.Width(render.DisplayClusters(typed)) < cols; i++ {
					last = words[i%len(words)]
					typeText(tm, last+" ")
					typed += last + " "
				}
			}
			// shown whole: every drawn line in the composer
			whole := func(w, h int) (frame string, area []string) {
				t.Helper()
				want := shownText(render.DisplayClusters(typed))
				frame = scr.waitRaw(t, "the whole text in the composer", func(f string) bool {
					return shownText(strings.Join(composerArea(f), "")) == want && len(strings.Split(f, "\n")) == h
				})
				area = composerArea(frame)
				checkComposerFrame(t, frame, w, h, len(area))
				return frame, area
			}

			typeUntil(2*size.w + 10) // 3 or 4 lines at either width
			_, area := whole(size.w, size.h)
			grown := len(area)
			if grown < 3 || grown > maxComposerLines {
				t.Fatalf("%d composer lines for %d columns typed", grown, render.Width(render.DisplayClusters(typed)))
			}

			tm.Send(tea.WindowSizeMsg{Width: size.w2, Height: size.h2})
			_, area = whole(size.w2, size.h2)
			if (size.w2 > size.w) != (len(area) < grown) {
				t.Errorf("resized from %d to %d columns: %d lines, %d before", size.w, size.w2, len(area), grown)
			}
			tm.Send(tea.WindowSizeMsg{Width: size.w, Height: size.h})
			if _, area = whole(size.w, size.h); len(area) != grown {
				t.Errorf("resized back: %d lines, %d before", len(area), grown)
			}

			typeUntil(8 * size.w) // past 6 lines
			end := shownText(render.DisplayClusters(last))
			frame := scr.waitRaw(t, "the composer at 6 lines, the cursor after the last word", func(f string) bool {
				a := composerArea(f)
				y, _ := cursorAt(a)
				return len(a) == maxComposerLines && y == maxComposerLines-1 && strings.HasSuffix(shownText(strings.Join(a, "")), end)
			})
			checkComposerFrame(t, frame, size.w, size.h, maxComposerLines)

			key(tm, "up")
			scr.waitRaw(t, "the cursor a drawn line up", func(f string) bool {
				y, _ := cursorAt(composerArea(f))
				return y == maxComposerLines-2
			})

			key(tm, "enter")
			in.wait(t, "the typed text", alice.User(), func(r received) bool { return string(r.msg.Body.Content) == strings.TrimSpace(typed) })
			frame = scr.waitRaw(t, "the composer back to one line", func(f string) bool {
				a := composerArea(f)
				return len(a) == 1 && strings.Contains(ansi.Strip(a[0]), "Write a message")
			})
			checkComposerFrame(t, frame, size.w, size.h, 1)
		})
	}
}

// checkComposerFrame checks a frame at w x h with the composer n lines
// high: h lines fitting the screen, bob's message above the composer's
// rule, the rule at the foot of the timeline (n lines above the status
// and help lines), nothing drawn over.
func checkComposerFrame(t *testing.T, frame string, w, h, n int) {
	t.Helper()
	plain := ansi.Strip(frame)
	checkClusterScreen(t, plain, w, h)
	lines := strings.Split(plain, "\n")
	if len(lines) != h {
		t.Fatalf("%d lines, screen has %d", len(lines), h)
	}
	rule := len(lines) - 2 - n - 1
	if !strings.HasPrefix(inPane(lines[rule]), "───") {
		t.Errorf("line %d is not the composer's rule %d lines above the status line: %q", rule, n, lines[rule])
	}
	bob := -1
	for i, l := range lines {
		if strings.Contains(l, "newest from bob") {
			bob = i
		}
	}
	if bob < 0 || bob >= rule {
		t.Errorf("bob's message at line %d, the composer's rule at %d:\n%s", bob, rule, plain)
	}
}
