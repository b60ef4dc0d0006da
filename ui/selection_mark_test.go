package ui

import (
	"strings"
	"testing"
)

// TestSelectionBarSkipsSeparators: the selection bar (▌) was drawn on the
// "new messages" line (and a day separator) above the selected message, as
// if they were part of it (they are drawn with its row). It now marks only
// the message's own lines.
func TestSelectionBarSkipsSeparators(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	lobby := openRoom(t, owner, "lobby", "A lobby", you)
	openRoom(t, owner, "other", "B other", you)
	sendText(t, owner, lobby, "read before")
	tm, _, scr := startUI(t, you, 100, 24, Options{Room: lobby})
	scr.waitText(t, "A lobby", "B other", "read before")
	key(tm, "esc") // a key while the room is on screen: it is read to its end
	key(tm, "alt+2")
	scr.waitFor(t, "B other open", func(s string) bool { return strings.Contains(strings.Split(s, "\n")[0], "B other") })
	key(tm, "alt+1")
	scr.waitFor(t, "A lobby open", func(s string) bool { return strings.Contains(strings.Split(s, "\n")[0], "A lobby") })
	sendText(t, owner, lobby, "new since the visit")
	scr.waitText(t, "new messages", "new since the visit")

	key(tm, "alt+s") // selects the newest: the owner's, under the line
	s := scr.waitFor(t, "the owner's message selected", func(s string) bool {
		return strings.Contains(s, "r reply") && barOn(s, "new since the visit")
	})
	if barOn(s, "new messages") {
		t.Errorf("the selection bar is drawn on the \"new messages\" line:\n%s", s)
	}
}

// barOn reports whether the first line of s holding what has the
// selection bar at the pane's edge.
func barOn(s, what string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, what) {
			return strings.Contains(l, "│▌")
		}
	}
	return false
}
