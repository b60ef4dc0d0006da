package ui

// Composer input history (issue 14, features).

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestComposerHistory: ctrl+p recalls earlier input (messages and
// commands), ctrl+n goes back down to the draft being typed.
func TestComposerHistory(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	room := openRoom(t, owner, "solo", "Solo")
	tm, _, scr := startUI(t, owner, 80, 24, Options{Room: room})
	scr.waitText(t, "│Solo")
	composer := func(want string) {
		t.Helper()
		scr.waitFor(t, "composer "+want, func(s string) bool {
			ls := strings.Split(s, "\n")
			line := strings.TrimSpace(strings.SplitN(ls[len(ls)-3], "│", 2)[1])
			return line == want
		})
	}
	for _, msg := range []string{"first words", "second words"} {
		typeText(tm, msg)
		key(tm, "enter")
		scr.waitText(t, msg+" ✓") // acked
	}
	typeText(tm, "a draft")
	key(tm, "ctrl+p")
	composer("second words")
	key(tm, "ctrl+p")
	composer("first words")
	key(tm, "ctrl+p")
	composer("first words")
	key(tm, "ctrl+n")
	composer("second words")
	key(tm, "ctrl+n")
	composer("a draft")
	for range len("a draft") {
		tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	composer("Write a message · / for commands")
}
