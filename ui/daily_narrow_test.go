package ui

// Other rooms' activity below 70 columns (issue 14 #9).

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestNarrowOtherRooms: at 60x20 (no room list) the status line counts the
// other rooms' new messages and mentions, and f4 opens the room switcher.
func TestNarrowOtherRooms(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	lobby := openRoom(t, owner, "lobby", "Lobby", you)
	plans := openRoom(t, owner, "plans", "Plans", you)
	tm, _, scr := startUI(t, you, 60, 20, Options{Room: lobby})
	scr.waitText(t, "Lobby")
	sendAcked(t, owner, plans, []string{"one", "two", "hey [you](mimi://test.example/u/you)"})
	txt := scr.waitText(t, "1 room: 3 new @1")
	status := strings.Split(txt, "\n")[18]
	if !strings.Contains(status, "1 room: 3 new @1") {
		t.Fatalf("the count is not on the status line:\n%s", txt)
	}
	tm.Send(tea.KeyPressMsg{Code: tea.KeyF4})
	scr.waitText(t, "Go to room", "Plans  (3)")
	key(tm, "esc")
	resizeTo(t, tm, scr, 100, 20, func(s string) bool { return strings.HasPrefix(s, "Rooms") })
	if strings.Contains(scr.text(), "3 new") {
		t.Fatalf("the count shows beside the room list:\n%s", scr.text())
	}
}
