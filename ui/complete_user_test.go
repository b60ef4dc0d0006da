package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestUserArgCompletesURI: @ completion in the USER argument of /dm and
// /invite inserts the user's URI, as it does for /kick: it inserted a
// Markdown mention ("[@Bob](mimi://…)"), which /dm then refused with its
// usage line. Typed text after a command taking no user still gets a
// mention.
func TestUserArgCompletesURI(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	bob := rl.session("bob")
	you := rl.session("you")
	room := openRoom(t, owner, "lobby", "Lobby", bob, you)
	tm, _, scr := startUI(t, you, 120, 30, Options{Room: room})
	scr.waitFor(t, "3 members", func(s string) bool { return strings.Contains(s, "Members 3") })
	for _, cmd := range []string{"/dm", "/invite"} {
		typeText(tm, cmd+" @bo")
		scr.waitText(t, "@bob  "+bob.User())
		key(tm, "tab")
		s := scr.waitFor(t, cmd+" completed", func(s string) bool { return !strings.Contains(s, "@bob  "+bob.User()) })
		if !strings.Contains(s, cmd+" "+bob.User()) || strings.Contains(s, "[@bob]") {
			t.Errorf("%s @bo + tab does not give the URI:\n%s", cmd, s)
		}
		for range len(cmd+" "+bob.User()) + 3 { // and the space after it
			tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
		}
		key(tm, "esc") // the completion list the empty "/" left open
		scr.waitFor(t, "composer empty", func(s string) bool { return strings.Contains(s, "Write a message") })
	}
	if completesUserArg("/react ") || !completesUserArg("/dm ") || !completesUserArg("/invite ") {
		t.Errorf("completesUserArg: /react %v, /dm %v, /invite %v", completesUserArg("/react "), completesUserArg("/dm "), completesUserArg("/invite "))
	}
}
