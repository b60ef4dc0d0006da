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
	owner, lobby, tm, scr := lobbyReadAwayAndBack(t)
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
