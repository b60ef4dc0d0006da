package ui

import (
	"strings"
	"testing"
)

// TestEditOfDeletedMessageKeepsText: the user began editing a message (up),
// deleted it meanwhile (alt+s, d, y) and pressed enter: the edit was sent,
// the timeline ignored it (the message is deleted) and the composer was
// emptied, so the typed text was lost without a word. Now enter says the
// message is gone, leaves edit mode and keeps the text; enter again sends
// it as a new message.
func TestEditOfDeletedMessageKeepsText(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	room := openRoom(t, owner, "lobby", "Lobby", you)
	sendText(t, you, room, "soon deleted")
	tm, _, scr := startUI(t, you, 100, 24, Options{Room: room})
	scr.waitText(t, "soon deleted")
	key(tm, "up") // edit the last message
	typeText(tm, " and more")
	scr.waitText(t, "Editing your message", "soon deleted and more")
	key(tm, "alt+s") // the newest: that message
	key(tm, "d")
	scr.waitText(t, "Delete this message?")
	key(tm, "y")
	scr.waitText(t, "message deleted")
	key(tm, "enter")
	s := scr.waitText(t, "is gone")
	if strings.Contains(s, "Editing your message") || !strings.Contains(s, "soon deleted and more") {
		t.Fatalf("enter on the edit of a deleted message did not keep the text as a new draft:\n%s", s)
	}
	key(tm, "enter")
	scr.waitFor(t, "sent as a new message", func(s string) bool {
		return strings.Contains(s, "soon deleted and more ✓") && strings.Contains(s, "Write a message")
	})
}
