package ui

// Boxes at 80 columns show their whole text: long lines wrap inside the
// box instead of being cut with "…" (the walk-through of Dec 6 found the
// help's command texts, a message's versions and the delete question, with
// the keys that answer it, cut at 80x24).

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mimichat/content"
)

// boxText is the text inside the box on screen (between its borders),
// lines joined by spaces with runs of spaces collapsed; "" when no box is
// open.
func boxText(screen string) string {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		left := strings.Index(l, "╭─")
		if left < 0 {
			continue
		}
		x0 := ansi.StringWidth(l[:left])
		x1 := ansi.StringWidth(l[:strings.Index(l, "╮")])
		var body []string
		for _, b := range lines[i+1:] {
			if strings.Contains(b, "╰") {
				break
			}
			body = append(body, ansi.Cut(b, x0+1, x1))
		}
		return strings.Join(strings.Fields(strings.Join(body, " ")), " ")
	}
	return ""
}

// collapse is s with runs of spaces as one space.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestDialogsWrapAt80: at 80x24 the delete question ends with the keys
// that answer it, the versions box shows every version's whole text (a
// wide character at the old 80-byte cut included), and the help box each
// command's whole help text; every line fits the width.
func TestDialogsWrapAt80(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	room := openRoom(t, owner, "plans", "Plans", you)

	first := "The first version of a message long enough to wrap twice in the versions box at eighty columns, ending here."
	edited := "The edited version: also long, with a wide character right where a byte cut fell (状態) and the last words here."
	ob := owner.Builder(room)
	orig, err := ob.Markdown(first)
	if err != nil {
		t.Fatal(err)
	}
	item, err := owner.Send(room, orig)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := ob.Edit(item.ID, orig, content.MarkdownPart(edited))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Send(room, ed); err != nil {
		t.Fatal(err)
	}
	cachedMessage(t, you, room, "The edited version") // the owner's, before mine
	mine := "Mine, a message quoted in the delete question at length so that it does not fit in the title."
	sendAcked(t, you, room, []string{mine})

	tm, _, scr := startUI(t, you, 80, 24, Options{Room: room})
	scr.waitText(t, "(状態)", "Mine, a message")
	fits := func(what, s string) {
		t.Helper()
		for i, l := range strings.Split(s, "\n") {
			if w := ansi.StringWidth(l); w > 80 {
				t.Errorf("%s: line %d is %d wide", what, i, w)
			}
		}
	}

	key(tm, "alt+s") // selects the newest: mine
	tm.Type("d")
	s := scr.waitText(t, "Delete this message?")
	fits("confirm", s)
	if got := boxText(s); !strings.HasSuffix(got, "y/n") || !strings.Contains(got, "Delete this message? “Mine, a message quoted") {
		t.Errorf("the delete question is not whole, with its keys: %q\n%s", got, s)
	}
	tm.Type("n")
	scr.waitFor(t, "confirm closed", func(s string) bool { return !strings.Contains(s, "Delete this message?") })

	key(tm, "up")
	tm.Type("v")
	s = scr.waitText(t, "Versions (oldest first)")
	fits("versions", s)
	got := boxText(s)
	for _, want := range []string{first, edited} {
		if !strings.Contains(got, collapse(want)) {
			t.Errorf("versions box lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(got, "…") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("versions box cuts a text: %q", got)
	}
	key(tm, "esc")

	tm.Type("?")
	scr.waitText(t, "Keys and commands")
	var want string
	for _, c := range slashCommands() {
		if c.slash == "share-history" {
			want = collapse(c.synopsis() + " " + c.helpText())
		}
	}
	for range 20 { // page down until the command shows, then line by line
		s = scr.settle(150 * time.Millisecond)
		fits("help", s)
		if strings.Contains(boxText(s), want) {
			break
		}
		if strings.Contains(boxText(s), "/share-history") {
			tm.Type("j")
		} else {
			key(tm, "pgdown")
		}
	}
	if !strings.Contains(boxText(s), want) {
		t.Errorf("the help never shows %q whole:\n%s", want, s)
	}
}
