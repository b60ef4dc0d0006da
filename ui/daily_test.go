package ui

// Defects of issue 14, "The client as a daily driver": each test drives the
// real model on a real relay the way a user would and failed before its fix.

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// typeText types s one key at a time, as a user would.
func typeText(tm interface{ Send(tea.Msg) }, s string) {
	for _, r := range s {
		if r == ' ' {
			tm.Send(keyMsg("space"))
			continue
		}
		tm.Send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// TestNoRoomsComposer: a new user with no rooms sees the composer, sees
// what they type, gets told why plain text is not sent, can open f1, and
// can /join a room by typing it.
func TestNoRoomsComposer(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	room := openRoom(t, owner, "lobby", "Lobby")
	tm, _, scr := startUI(t, you, 100, 24, Options{})
	scr.waitText(t, "No rooms yet", "Write a message")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyF1})
	scr.waitText(t, "Keys and commands")
	key(tm, "esc")
	scr.waitFor(t, "help closed", func(s string) bool { return !strings.Contains(s, "Keys and commands") })
	typeText(tm, "hi")
	scr.waitText(t, "No rooms yet", "hi")
	key(tm, "enter")
	scr.waitText(t, "no room to send to", "hi")
	for range 2 {
		tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	typeText(tm, "/join "+room)
	scr.waitText(t, "/join "+room)
	key(tm, "enter")
	scr.waitText(t, "│Lobby", "joined")
}
