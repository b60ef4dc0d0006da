package ui

import (
	"strings"
	"testing"

	"mimichat/content"
)

// TestReplyBarShowsPlainText: the reply bar (and the delete question, the
// desktop notification, a pending reply's quote) showed the message's
// Markdown source: replying to Alice's greeting in the demo read
// "↩ Replying to Alice: Hey [@You](mimi://demo.mimi.example/u/y…", the
// link syntax and a mimi: URI. They now show its text, as the timeline's
// reply quotes do.
func TestReplyBarShowsPlainText(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	room := openRoom(t, owner, "lobby", "Lobby", you)
	sendText(t, owner, room, "hi "+content.MentionMarkdown("you", you.User())+", **bold** [docs](https://example.org/d) end")
	tm, _, scr := startUI(t, you, 120, 24, Options{Room: room})
	scr.waitText(t, "bold")
	key(tm, "alt+s")
	key(tm, "r")
	s := scr.waitText(t, "Replying to owner")
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, "Replying to owner") {
			continue
		}
		if strings.Contains(l, "mimi://") || strings.Contains(l, "](") || strings.Contains(l, "**") ||
			!strings.Contains(l, "hi @you, bold docs end") {
			t.Errorf("the reply bar shows Markdown source, not its text: %q", l)
		}
	}
}
