package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"mimichat/session"
)

// lobbyReadAwayAndBack opens the UI of "you" on owner's room "A lobby"
// (one message, read to its end), goes to "B other" and back: the
// "new messages" line then marks what is new since this visit.
func lobbyReadAwayAndBack(t *testing.T) (owner *session.Session, lobby string, tm *teatest.TestModel, scr *screen) {
	t.Helper()
	rl := startRelay(t)
	owner = rl.session("owner")
	you := rl.session("you")
	lobby = openRoom(t, owner, "lobby", "A lobby", you)
	openRoom(t, owner, "other", "B other", you)
	sendText(t, owner, lobby, "read before")
	tm, _, scr = startUI(t, you, 100, 24, Options{Room: lobby})
	scr.waitText(t, "A lobby", "B other", "read before")
	key(tm, "esc") // a key while the room is on screen: it is read to its end
	key(tm, "alt+2")
	scr.waitFor(t, "B other open", func(s string) bool { return strings.Contains(strings.Split(s, "\n")[0], "B other") })
	key(tm, "alt+1")
	scr.waitFor(t, "A lobby open", func(s string) bool { return strings.Contains(strings.Split(s, "\n")[0], "A lobby") })
	return owner, lobby, tm, scr
}

// TestNoNewLineAboveOwnMessage: opening a room read to its end and sending
// a message drew the "new messages" line right above that message: the
// line goes above the first row after the position the room was read to on
// opening, and the user's own message was that row. Nothing of anyone else
// was new. The user's own rows are never new: the line goes above the
// first row of someone else after the read position, or nowhere.
func TestNoNewLineAboveOwnMessage(t *testing.T) {
	owner, lobby, tm, scr := lobbyReadAwayAndBack(t)
	typeText(tm, "only me talking")
	key(tm, "enter")
	scr.waitText(t, "only me talking ✓")
	if s := scr.settle(300 * time.Millisecond); strings.Contains(s, "new messages") {
		t.Fatalf("a \"new messages\" line over the user's own message:\n%s", s)
	}
	// someone else's message after it is new: the line goes above it, not above the user's
	sendText(t, owner, lobby, "owner answers")
	s := scr.waitText(t, "owner answers")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.Contains(l, "new messages") && (i+1 >= len(lines) || !strings.Contains(lines[i+1], "owner")) {
			t.Fatalf("the \"new messages\" line is not above the owner's message:\n%s", s)
		}
	}
}
