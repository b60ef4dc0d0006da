package ui

import (
	"strings"
	"testing"
	"time"
)

// TestDraftStaysWithItsRoom: a reply (or an edit) begun in one room and
// then a switch to another room kept the reply bar and the text, so enter
// sent, in the second room, a reply to a message of the first (shown there
// as "↩ earlier message", the first room's message ID handed to the second
// room's members), and an edit of a message the second room does not hold.
// Each room now keeps its own draft: the text, the reply or the edit.
func TestDraftStaysWithItsRoom(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	lobby := openRoom(t, owner, "lobby", "A lobby", you)
	openRoom(t, owner, "other", "B other", you)
	sendText(t, owner, lobby, "hello from the lobby")
	sendText(t, you, lobby, "my own words")
	tm, _, scr := startUI(t, you, 100, 24, Options{Room: lobby})
	scr.waitText(t, "A lobby", "B other", "hello from the lobby", "my own words")

	cases := []struct {
		name  string
		start func()
		bar   string
		draft string
	}{
		{"reply", func() {
			key(tm, "alt+s")
			key(tm, "up") // the newest is the user's own; the owner's is above it
			scr.waitFor(t, "owner's message selected", func(s string) bool { return strings.Contains(s, "r reply") })
			key(tm, "r")
			typeText(tm, "reply draft")
		}, "Replying to owner", "reply draft"},
		{"edit", func() {
			key(tm, "up") // empty composer: edit the user's last message
			typeText(tm, " edited")
		}, "Editing your message", "my own words edited"},
	}
	for _, c := range cases {
		c.start()
		scr.waitText(t, c.bar, c.draft)
		key(tm, "alt+2")
		scr.waitFor(t, "B other open", func(s string) bool {
			return strings.HasPrefix(strings.Split(s, "\n")[0], "Rooms") && strings.Contains(strings.Split(s, "\n")[0], "B other")
		})
		s := scr.settle(200 * time.Millisecond)
		if strings.Contains(s, c.bar) || strings.Contains(s, c.draft) || !strings.Contains(s, "Write a message") {
			t.Fatalf("%s: the draft of A lobby followed to B other:\n%s", c.name, s)
		}
		key(tm, "enter") // nothing to send here
		key(tm, "alt+1")
		scr.waitText(t, c.bar, c.draft) // back where it was begun
		key(tm, "esc")                  // cancel it: the composer empties
		scr.waitFor(t, c.name+" cancelled", func(s string) bool {
			return !strings.Contains(s, c.bar) && strings.Contains(s, "Write a message")
		})
	}
	// nothing reached B other
	key(tm, "alt+2")
	scr.waitFor(t, "B other open", func(s string) bool { return strings.Contains(strings.Split(s, "\n")[0], "B other") })
	s := scr.settle(300 * time.Millisecond)
	if strings.Contains(s, "draft") || strings.Contains(s, "edited") || strings.Contains(s, "earlier message") {
		t.Errorf("B other got a message:\n%s", s)
	}
}
