package ui

import (
	"fmt"
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

// words40 wraps at 40 columns onto "hello world this composer wraps long "
// | "messages onto more lines as you type " | "them" (37, 37, 4 columns):
// each line ends with the space the wrap broke at.
const words40 = "hello world this composer wraps long messages onto more lines as you type them"

// putCursor puts the composer's cursor at rune col of row (col -1: the
// row's end), as a click or the textarea's moves could.
func putCursor(c *composer, row, col int) {
	c.ta.MoveToBegin()
	for c.ta.Line() < row {
		c.ta.CursorEnd()
		c.ta.CursorDown()
	}
	if col < 0 {
		c.ta.CursorEnd()
	} else {
		c.ta.SetCursorColumn(col)
	}
	c.fitHeight()
}

// TestComposerHomeEndByDrawnLines: home and end (and ctrl+a, ctrl+e, the
// textarea's LineStart and LineEnd keys) go to the start and end of the
// drawn line the cursor is on, not of the value's row. End on a line that
// continues stops on its last cluster, where a character typed goes on to
// that line: the space the wrap broke at, the last character of a word the
// wrap cuts (after it is the next line's start: the cursor would be drawn
// there and a character typed would go there), the first part of a family
// the wrap splits. Home goes to the line's
// first cluster (after the rest of a family begun on the line above).
// They reset the column up and down aim for. A step typing one character
// checks where that character is drawn; the others where the cursor is.
// The textarea's keys went to the row's start and end, lines away.
func TestComposerHomeEndByDrawnLines(t *testing.T) {
	type at struct{ line, col int } // drawn line, column on it
	type step struct {
		key  string
		want at
	}
	for _, tc := range []struct {
		name     string
		text     string
		w        int
		row, col int // the cursor before the keys: rune col of row
		steps    []step
		value    string // the text after the keys, if they type
	}{
		{
			name: "wrapped ascii", text: words40, w: 40, col: -1,
			steps: []step{{"up", at{1, 4}}, {"end", at{1, 36}}, {"ctrl+a", at{1, 0}}, {"ctrl+e", at{1, 36}},
				{"home", at{1, 0}}, {"up", at{0, 0}}, {"end", at{0, 36}},
				{"down", at{1, 36}}, // the column end left, not the one up began at
				{"end", at{1, 36}}, {"down", at{2, 4}}, {"home", at{2, 0}}, {"end", at{2, 4}}},
		},
		{
			name: "home then typing", text: words40, w: 40, col: 50,
			steps: []step{{"home", at{1, 0}}, {"X", at{1, 0}}},
			value: "hello world this composer wraps long Xmessages onto more lines as you type them",
		},
		{
			name: "end then typing", text: words40, w: 40, col: 50,
			steps: []step{{"end", at{1, 36}}, {"X", at{1, 36}}, {"Y", at{1, 37}}},
			value: "hello world this composer wraps long messages onto more lines as you typeXY them",
		},
		{
			// "first line" | 96 columns ending "hello world this " | 62 ending
			// "type them " | "end"
			name: "hard newlines and wrapping", w: 100, row: 0, col: 3,
			text: "first line\n" + strings.Repeat(words40+" ", 2) + "\nend",
			steps: []step{{"end", at{0, 10}}, {"down", at{1, 10}}, {"end", at{1, 95}}, {"home", at{1, 0}},
				{"down", at{2, 0}}, {"end", at{2, 62}}, {"down", at{3, 3}}, {"up", at{2, 62}}, {"home", at{2, 0}},
				{"X", at{2, 0}}},
			value: "first line\n" + words40 + " hello world this Xcomposer wraps long messages onto more lines as you type them \nend",
		},
		{
			// "see " | 40 x | 40 x | "xxxxxxxxxx ok": the cut lines are full,
			// so end stays on the last x (the next character takes its cell)
			name: "cut long word", text: "see " + strings.Repeat("x", 90) + " ok", w: 40, col: -1,
			steps: []step{{"up", at{2, 13}}, {"end", at{2, 39}}, {"home", at{2, 0}}, {"up", at{1, 0}},
				{"end", at{1, 39}}, {"X", at{1, 39}}},
			value: "see " + strings.Repeat("x", 39) + "X" + strings.Repeat("x", 51) + " ok",
		},
		{
			name: "before a cut word", text: "see " + strings.Repeat("x", 90) + " ok", w: 40, col: 1,
			steps: []step{{"end", at{0, 3}}, {"X", at{0, 3}}},
			value: "seeX " + strings.Repeat("x", 90) + " ok",
		},
		{
			name: "cut long word at 100", text: "see " + strings.Repeat("x", 150) + " ok", w: 100, col: 10,
			steps: []step{{"end", at{1, 99}}, {"home", at{1, 0}}, {"X", at{1, 0}}},
			value: "see X" + strings.Repeat("x", 150) + " ok",
		},
		{
			// "a" and 19 characters of 2 columns: 39 of 40, the wrap cuts
			// after the 19th as the next does not fit; a character typed
			// after it would go to the next line, one typed before it stays
			name: "wide", text: "a" + strings.Repeat("漢字", 30), w: 40, col: 1,
			steps: []step{{"end", at{0, 37}}, {"end", at{0, 37}}, {"home", at{0, 0}}, {"ctrl+e", at{0, 37}},
				{"down", at{1, 36}}, {"up", at{0, 37}}, {"end", at{0, 37}}, {"X", at{0, 37}}},
			value: "a" + strings.Repeat("漢字", 9) + "X" + strings.Repeat("漢字", 21),
		},
		{
			// rune 20 begins line 1 and ends line 0: the cursor there is
			// drawn at line 1's start, so home stays and end goes to line
			// 1's end (full: on its last character)
			name: "wide, at a wrap boundary", text: "a" + strings.Repeat("漢字", 30), w: 40, col: 20,
			steps: []step{{"home", at{1, 0}}, {"end", at{1, 38}}, {"home", at{1, 0}}, {"up", at{0, 0}}, {"end", at{0, 37}},
				{"home", at{0, 0}}},
		},
		{
			name: "wide at 100", text: "a" + strings.Repeat("漢字", 60), w: 100, col: 7,
			steps: []step{{"end", at{0, 97}}, {"X", at{0, 97}}},
			value: "a" + strings.Repeat("漢字", 24) + "X" + strings.Repeat("漢字", 36),
		},
		{
			// "hi " | 6 families and 2 parts of the 7th | its last part, 6
			// families, the first part of the 14th | its last 2 parts, 6
			// families | " end"
			name: "families", text: "hi " + strings.Repeat(fam, 20) + " end", w: 40, col: 48,
			steps: []step{{"home", at{2, 2}}, {"end", at{2, 38}}, {"home", at{2, 2}}, {"up", at{1, 0}},
				{"end", at{1, 36}}, {"X", at{1, 36}}},
			value: "hi " + strings.Repeat(fam, 6) + "X" + strings.Repeat(fam, 14) + " end",
		},
		{
			name: "families, a line begun by a family's end", text: "hi " + strings.Repeat(fam, 20) + " end", w: 40, col: 83,
			steps: []step{{"end", at{3, 34}}, {"home", at{3, 4}}, {"X", at{3, 4}}},
			value: "hi " + strings.Repeat(fam, 14) + "X" + strings.Repeat(fam, 6) + " end",
		},
		{
			// "abc " | 16 families and 2 parts of the 17th | its last part, 3
			// families
			name: "families at 100", text: "abc " + strings.Repeat(fam, 20), w: 100, col: -1,
			steps: []step{{"home", at{2, 2}}, {"up", at{1, 0}}, {"end", at{1, 96}}, {"home", at{1, 0}}, {"X", at{1, 0}}},
			value: "abc X" + strings.Repeat(fam, 20),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fittedComposer(t, tc.text, tc.w)
			putCursor(c, tc.row, tc.col)
			typed := ""
			for i, s := range tc.steps {
				keys := tc.steps[:i+1]
				c.update(keyMsg(s.key))
				l := c.layout(tc.w)
				got := at{l.cy, cellsWidth(l.lines[l.cy][:l.cx])}
				if r := []rune(s.key); len(r) == 1 {
					typed += s.key
					got = drawnAt(l, s.key)
				}
				if got != s.want {
					t.Fatalf("after %v: at %v, want %v", keys, got, s.want)
				}
				// the cursor drawn where the layout has it, in the window
				lines := c.lines(tc.w)
				if y, x := cursorAt(lines); y != l.cy-c.top || x != cellsWidth(l.lines[l.cy][:l.cx]) {
					t.Errorf("after %v: cursor drawn at line %d column %d, the layout has %d, %d", keys, y+c.top, x, l.cy, cellsWidth(l.lines[l.cy][:l.cx]))
				}
			}
			want := tc.text
			if typed != "" {
				want = tc.value
			}
			if c.value() != want {
				t.Errorf("the text is %q, want %q", c.value(), want)
			}
		})
	}
}

// drawnAt is the drawn line and column of the cell showing s.
func drawnAt(l compLayout, s string) (pos struct{ line, col int }) {
	for y, line := range l.lines {
		for x, cell := range line {
			if cell.Shown == s {
				pos.line, pos.col = y, cellsWidth(line[:x])
				return pos
			}
		}
	}
	return struct{ line, col int }{-1, -1}
}

// TestComposerHomeEndUnwrapped: on rows drawn as one line home and end go
// to the row's start and end, as the textarea's keys did (this passes on
// the code before too); a row that fills its line exactly draws the cursor
// at its end on a line of its own, where end leaves it and from where home
// goes to the row's start.
func TestComposerHomeEndUnwrapped(t *testing.T) {
	type at struct{ line, col int }
	for _, tc := range []struct {
		name     string
		text     string
		w        int
		row, col int
		keys     []string
		want     []at
	}{
		{"one line", "hello world", 40, 0, 5, []string{"home", "end", "ctrl+a", "ctrl+e"}, []at{{0, 0}, {0, 11}, {0, 0}, {0, 11}}},
		{"rows", "one\ntwo three\nfour", 40, 1, 4, []string{"end", "home", "end"}, []at{{1, 9}, {1, 0}, {1, 9}}},
		{"families", "hi " + fam + fam, 40, 0, 3, []string{"end", "home"}, []at{{0, 15}, {0, 0}}},
		{"a full line", strings.Repeat("abcd ", 8), 40, 0, -1, []string{"end", "home", "end"}, []at{{1, 0}, {0, 0}, {1, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fittedComposer(t, tc.text, tc.w)
			putCursor(c, tc.row, tc.col)
			for i, k := range tc.keys {
				c.update(keyMsg(k))
				l := c.layout(tc.w)
				if got := (at{l.cy, cellsWidth(l.lines[l.cy][:l.cx])}); got != tc.want[i] {
					t.Fatalf("after %v: cursor at %v, want %v", tc.keys[:i+1], got, tc.want[i])
				}
			}
		})
	}
}

// TestComposerHomeEndOnScreen: alice types a line of words wrapping onto
// three drawn lines at 80x24 and 160x48 on a real relay, goes up one line
// and presses home, end, ctrl+a and ctrl+e (through the app's keys, which
// leave them to the composer): the cursor goes to the start and end of
// that drawn line, "X" typed after end ends the line's last word there,
// "Y" typed after ctrl+a begins its first word there, and enter sends the
// text with both where they were drawn.
func TestComposerHomeEndOnScreen(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {160, 48}} {
		t.Run(fmtSize(size.w, size.h), func(t *testing.T) {
			rl := startRelay(t)
			alice, bob := rl.session("alice"), rl.session("bob")
			in := collect(bob)
			room := openRoom(t, alice, "homeend", "HomeEnd", bob)
			tm, _, scr := startUI(t, alice, size.w, size.h, Options{Room: room})
			f := scr.waitRaw(t, "the empty composer", func(f string) bool {
				return strings.Contains(ansi.Strip(f), "HomeEnd") && strings.Contains(ansi.Strip(f), "Write a message")
			})
			cw := render.Width(ansi.Strip(composerArea(f)[0])) // the composer's width

			typed := "w1" // words of lengths that vary, so that no line is full
			for i := 2; render.Width(typed) < 2*cw+cw/2; i++ {
				word := fmt.Sprintf(" %s%d", strings.Repeat("w", 1+i%4), i)
				if i%3 == 0 {
					word = fmt.Sprintf(" 漢字%d", i)
				}
				typed += word
			}
			typeText(tm, typed)
			var n int // the composer's lines
			scr.waitRaw(t, "the typed text on 3 lines, the cursor after it", func(f string) bool {
				a := composerArea(f)
				y, x := cursorAt(a)
				n = len(a)
				end := strings.TrimRight(ansi.Strip(a[n-1]), " ")
				return n == 3 && y == n-1 && x == render.Width(end) && shownText(strings.Join(a, "")) == shownText(typed)
			})
			cursorAfter := func(what string, key tea.Msg, want func(line string, x int) bool) string {
				t.Helper()
				tm.Send(key)
				f := scr.waitRaw(t, what, func(f string) bool {
					a := composerArea(f)
					y, x := cursorAt(a)
					return y == n-2 && want(strings.TrimRight(ansi.Strip(a[y]), " "), x)
				})
				return strings.TrimRight(ansi.Strip(composerArea(f)[n-2]), " ")
			}
			key(tm, "up")
			line := cursorAfter("home: the cursor at the line's start", tea.KeyPressMsg{Code: tea.KeyHome},
				func(_ string, x int) bool { return x == 0 })
			fields := strings.Fields(line)
			first, last := fields[0], fields[len(fields)-1]
			if render.Width(line)+2 > cw {
				t.Fatalf("line %q leaves no column for X in %d", line, cw)
			}
			cursorAfter("end: the cursor after the line's last word", tea.KeyPressMsg{Code: tea.KeyEnd},
				func(l string, x int) bool { return l == line && x == render.Width(line) })
			cursorAfter("X typed at the line's end", tea.KeyPressMsg{Code: 'X', Text: "X"},
				func(l string, x int) bool { return strings.HasSuffix(l, last+"X") && x == render.Width(l) })
			cursorAfter("ctrl+a: the line's start", keyMsg("ctrl+a"), func(_ string, x int) bool { return x == 0 })
			cursorAfter("Y typed at the line's start", tea.KeyPressMsg{Code: 'Y', Text: "Y"},
				func(l string, x int) bool { return strings.HasPrefix(l, "Y"+first) && x == 1 })
			cursorAfter("ctrl+e: the line's end", keyMsg("ctrl+e"),
				func(l string, x int) bool { return x == render.Width(l) })

			want := strings.Replace(strings.Replace(typed, " "+last+" ", " "+last+"X ", 1), " "+first+" ", " Y"+first+" ", 1)
			if want == typed {
				t.Fatalf("%q or %q not found in %q", first, last, typed)
			}
			key(tm, "enter")
			in.wait(t, "the text with X and Y", alice.User(), func(r received) bool {
				return string(r.msg.Body.Content) == want
			})
		})
	}
}
