package ui

// The member list at any width (issue 14 #7).

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestMemberOverlay: at 80 columns /members and f3 open a member overlay
// (there is no pane); at 160 alt+w opens it too instead of hiding the pane,
// and f3 hides and shows the pane.
func TestMemberOverlay(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	bob := rl.session("bob")
	room := openRoom(t, owner, "plans", "Plans", bob)
	tm, _, scr := startUI(t, owner, 80, 24, Options{Room: room})
	scr.waitText(t, "│Plans")
	typeText(tm, "/members")
	key(tm, "esc")
	key(tm, "enter")
	scr.waitText(t, "Members 2 · Plans", "owner ★ owner  mimi://test.example/u/owner", "bob  mimi://test.example/u/bob")
	key(tm, "esc")
	scr.waitFor(t, "overlay closed", func(s string) bool { return !strings.Contains(s, "Members 2") })
	tm.Send(tea.KeyPressMsg{Code: tea.KeyF3})
	scr.waitText(t, "Members 2 · Plans")
	key(tm, "esc")

	resizeTo(t, tm, scr, 160, 30, func(s string) bool { return strings.Contains(s, "│Members 2") })
	tm.Send(keyMsg("alt+w"))
	txt := scr.waitText(t, "Members 2 · Plans")
	if !strings.Contains(txt, "│Members 2") {
		t.Fatalf("alt+w hid the member pane:\n%s", txt)
	}
	key(tm, "esc")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyF3})
	scr.waitFor(t, "pane hidden", func(s string) bool { return !strings.Contains(s, "Members 2") })
	tm.Send(tea.KeyPressMsg{Code: tea.KeyF3})
	scr.waitText(t, "│Members 2")
}
