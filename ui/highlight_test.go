package ui

import (
	"strings"
	"testing"
)

// TestHighlightWordsColoured: a [notify] highlight word in another user's
// message is drawn in the style of the user's own mentions (the row the
// word alerted for shows why), a word inside another is not, and the URL
// after it stays one hyperlink.
func TestHighlightWordsColoured(t *testing.T) {
	rl := startRelay(t)
	bob := rl.session("bob")
	you := rl.session("you")
	room := openRoom(t, bob, "ops", "Ops", you)
	sendAcked(t, bob, room, []string{"we deploy at five, redeployed later: https://ops.example/deploy"})
	cachedMessage(t, you, room, "we deploy at five")
	_, m, scr := startUI(t, you, 120, 30, Options{Room: room, Highlight: []string{"Deploy"}})
	scr.waitText(t, "we deploy at five")
	th := m.th
	own := strings.TrimSuffix(th.Styles.Mention.Bold(true).Render("\x01"), "\x01\x1b[m")
	scr.mu.Lock()
	frame := scr.frame
	scr.mu.Unlock()
	if n := strings.Count(frame, own+"deploy"); n != 1 {
		t.Errorf("%d highlighted \"deploy\" in the frame, want 1 (not in redeployed or the URL):\n%q", n, frame)
	}
	if !strings.Contains(frame, "https://ops.example/deploy\x1b]8;;\x1b\\") && !strings.Contains(frame, "https://ops.example/deploy\x1b]8;;\a") {
		t.Errorf("the URL is not one whole hyperlink:\n%q", frame)
	}
}
