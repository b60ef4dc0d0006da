package ui

// Who reacted (issue 14, features).

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/session"
)

// TestWhoReacted: = on a selected message, and a click on its reaction
// chips, list each reaction with who made it, by display name.
func TestWhoReacted(t *testing.T) {
	rl := startRelay(t)
	alice, bob, carol := rl.session("alice"), rl.session("bob"), rl.session("carol")
	room := openRoom(t, alice, "reacts", "Reacts", bob, carol)
	msg := sendText(t, bob, room, "react to me")
	for _, r := range []struct {
		who   interface{ Builder(string) *content.Builder }
		emoji string
	}{{alice, "👍"}, {carol, "👍"}, {bob, "🎉"}} {
		m, err := r.who.Builder(room).Reaction(msg.ID, r.emoji)
		if err != nil {
			t.Fatal(err)
		}
		switch r.who {
		case alice:
			sendMsgAcked(t, alice, room, m)
		case carol:
			sendMsgAcked(t, carol, room, m)
		default:
			sendMsgAcked(t, bob, room, m)
		}
	}
	waitReactions(t, alice, room, 3)
	names := map[string]string{carol.User(): "Carol Q. Public"}
	tm, _, scr := startUI(t, alice, 100, 30, Options{Room: room, Names: names})
	scr.waitText(t, "react to me", "👍 2", "🎉 1")
	key(tm, "alt+s")
	tm.Type("=")
	txt := scr.waitText(t, "Reactions: 3 people")
	want := []string{"👍  2", "alice (you)", "Carol Q. Public  " + carol.User(), "🎉  1", "    bob"}
	for _, w := range want {
		if !strings.Contains(txt, w) {
			t.Errorf("who reacted lacks %q:\n%s", w, txt)
		}
	}
	if strings.Contains(txt, "alice (you)  mimi:") {
		t.Errorf("a name that is the address's last segment repeats the address:\n%s", txt)
	}
	key(tm, "esc")
	scr.waitFor(t, "the box to close", func(s string) bool { return !strings.Contains(s, "Reactions:") })

	// a click on the chips
	x, y := -1, -1
	for i, l := range strings.Split(scr.text(), "\n") {
		if j := strings.Index(l, "👍 2"); j >= 0 && strings.Contains(l, "│") {
			x, y = len([]rune(l[:j])), i
		}
	}
	if y < 0 {
		t.Fatal("no chips line on screen")
	}
	tm.Send(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	scr.waitText(t, "Reactions: 3 people")
	key(tm, "esc")
	scr.waitFor(t, "the box to close", func(s string) bool { return !strings.Contains(s, "Reactions:") })
	// a click on the message's text selects it and opens nothing
	for i, l := range strings.Split(scr.text(), "\n") {
		if j := strings.Index(l, "react to me"); j >= 0 {
			tm.Send(tea.MouseClickMsg{X: len([]rune(l[:j])), Y: i, Button: tea.MouseLeft})
		}
	}
	time.Sleep(300 * time.Millisecond)
	if txt := scr.text(); strings.Contains(txt, "Reactions:") {
		t.Errorf("a click on the text opened who reacted:\n%s", txt)
	}
}

// waitReactions waits until s's cache holds n reactions of room, readable
// (an encrypted room's own messages echo back and others' are opened in
// log order): a UI started before would load the room without them.
func waitReactions(t *testing.T, s *session.Session, room string, n int) {
	t.Helper()
	waitCache(t, s, room, func([]session.Entry) string { return fmt.Sprintf("%d reactions in the cache", n) },
		func(es []session.Entry) bool {
			got := 0
			for _, e := range es {
				if !e.IsMessage() || len(e.Raw) == 0 {
					continue
				}
				if m, err := content.Decode(e.Raw); err == nil && m.Body.Disposition == content.Reaction {
					got++
				}
			}
			return got >= n
		})
}

// TestWhoReactedGolden: the box at 160x48 and 80x24.
func TestWhoReactedGolden(t *testing.T) {
	for _, size := range []struct{ w, h int }{{160, 48}, {80, 24}} {
		t.Run(fmtSize(size.w, size.h), func(t *testing.T) {
			rl := startRelay(t)
			alice, bob := rl.session("alice"), rl.session("bob")
			room := openRoom(t, alice, "reacts", "Reacts", bob)
			msg := sendText(t, bob, room, "react to me")
			for _, e := range []string{"👍", "❤️"} {
				s := alice
				if e == "❤️" {
					s = bob
				}
				m, err := s.Builder(room).Reaction(msg.ID, e)
				if err != nil {
					t.Fatal(err)
				}
				sendMsgAcked(t, s, room, m)
			}
			waitReactions(t, alice, room, 2)
			tm, _, scr := startUI(t, alice, size.w, size.h, Options{Room: room, Names: map[string]string{bob.User(): "Bob B."}})
			// ❤️ shows without VS16: one width on every terminal (render/width.go).
			scr.waitText(t, "react to me", "👍 1", "❤ 1")
			key(tm, "alt+s")
			tm.Type("=")
			scr.waitText(t, "Reactions: 2 people")
			checkGolden(t, fmtSize(size.w, size.h)+"-who-reacted", normalize(scr.settle(300*time.Millisecond)))
		})
	}
}
