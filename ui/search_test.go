package ui

// /search (issue 14, features).

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/session"
)

// sendText sends a Markdown message from s to room and waits for its ack.
func sendText(t *testing.T, s *session.Session, room, text string) session.OutboxItem {
	t.Helper()
	m, err := s.Builder(room).Markdown(text)
	if err != nil {
		t.Fatal(err)
	}
	return sendMsgAcked(t, s, room, m)
}

// sendMsgAcked sends m and waits until the relay acknowledged it (the
// outbox row Acked, with its seq): the next message then comes after it in
// the room's log.
func sendMsgAcked(t *testing.T, s *session.Session, room string, m *content.Message) session.OutboxItem {
	t.Helper()
	q, err := s.SendQueued(room, m)
	if err != nil {
		t.Fatal(err)
	}
	it, err := q.Wait()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for it.State != session.Acked {
		if time.Now().After(deadline) {
			t.Fatalf("message %s not acked: %+v", it.ID, it)
		}
		time.Sleep(10 * time.Millisecond)
		if it, err = s.Store().OutboxItem(it.ID); err != nil {
			t.Fatal(err)
		}
	}
	return it
}

// TestSearchDialog: /search finds cached messages by their current text
// (an edit by its new words, a deleted message not at all), updates as the
// query is typed, shows network text sanitized with the match marked, and
// enter shows an old message, not loaded at start, selected in its room.
func TestSearchDialog(t *testing.T) {
	rl := startRelay(t)
	alice, bob := rl.session("alice"), rl.session("bob")
	room := openRoom(t, alice, "lobby", "Lobby", bob)
	other := openRoom(t, alice, "other", "Other", bob)
	sendText(t, bob, room, "the old haystack needle \x1b]0;pwned\x07 is here")
	for i := range 60 {
		sendText(t, bob, room, fmt.Sprintf("filler %d", i))
	}
	typo := sendText(t, bob, room, "a neeedle with a typo")
	edit, err := bob.Builder(room).Edit(typo.ID, &content.Message{}, content.MarkdownPart("a needle fixed"))
	if err != nil {
		t.Fatal(err)
	}
	sendMsgAcked(t, bob, room, edit)
	gone := sendText(t, bob, room, "a needle to delete")
	del, err := bob.Builder(room).Delete(gone.ID, &content.Message{})
	if err != nil {
		t.Fatal(err)
	}
	delAck := sendMsgAcked(t, bob, room, del)
	last := sendText(t, bob, other, "needles elsewhere")
	waitCache(t, alice, other, func([]session.Entry) string { return "bob's message in Other" },
		func(es []session.Entry) bool { return len(es) > 0 && es[len(es)-1].Seq >= last.Seq })
	waitCache(t, alice, room, func([]session.Entry) string { return "bob's delete" },
		func(es []session.Entry) bool { return len(es) > 0 && es[len(es)-1].Seq >= delAck.Seq })

	tm, _, scr := startUI(t, alice, 100, 30, Options{Room: other, History: 20})
	scr.waitText(t, "needles elsewhere")
	typeText(tm, "/search neeedle")
	key(tm, "enter")
	scr.waitText(t, "╭─ Search", "no message found") // the typo was edited away
	for range len("eedle") {
		tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	typeText(tm, "edle")
	txt := scr.waitText(t, "Search: 3 messages")
	for _, want := range []string{"Other · bob", "needles elsewhere", "a needle fixed", "haystack needle ␛ is here"} {
		if !strings.Contains(txt, want) {
			t.Errorf("results lack %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "to delete") {
		t.Errorf("a deleted message was found:\n%s", txt)
	}
	scr.mu.Lock()
	raw := scr.frame
	scr.mu.Unlock()
	if strings.Contains(raw, "pwned") || strings.Contains(raw, "\x1b]0;") {
		t.Errorf("network text reached the terminal raw: %q", raw)
	}
	if !underlined.MatchString(raw) {
		t.Errorf("the match is not marked (bold, underlined): %q", raw)
	}
	typeText(tm, "s")
	scr.waitText(t, "Search: 1 message", "needles elsewhere")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	scr.waitText(t, "Search: 3 messages")
	// the oldest result is last (newest first); its message is not loaded
	key(tm, "down")
	key(tm, "down")
	key(tm, "enter")
	txt = scr.waitText(t, "▌", "haystack needle")
	if strings.Contains(txt, "╭─ Search") {
		t.Errorf("the dialog stayed open:\n%s", txt)
	}
	done := make(chan string, 1)
	tm.Send(funcMsg(func(m *Model) tea.Cmd {
		r := m.current()
		_, it, ok := m.selected()
		switch {
		case r == nil || r.id != room:
			done <- "not in Lobby"
		case !ok:
			done <- "nothing selected"
		default:
			done <- content.PlainText(&content.Message{Body: it.Body})
		}
		return nil
	}))
	select {
	case got := <-done:
		if !strings.Contains(got, "haystack needle") {
			t.Errorf("selected %q, want the haystack message", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer from the model")
	}
}

// underlined is "needle" drawn bold and underlined (lipgloss styles each
// character of an underlined run).
var underlined = regexp.MustCompile(`(?:\x1b\[1;4[;0-9]*m[needl]\x1b\[m){6}`)

var readRandom = regexp.MustCompile(`3 Random +│`)

// TestSearchGolden: the search dialog and the message it jumps to, at
// 160x48 and 80x24, in the demo.
func TestSearchGolden(t *testing.T) {
	for _, size := range []struct{ w, h int }{{160, 48}, {80, 24}} {
		t.Run(fmtSize(size.w, size.h), func(t *testing.T) {
			d, s := startDemo(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := s.Store().IndexPending(ctx); err != nil {
				t.Fatal(err)
			}
			tm, _, scr := startUI(t, s, size.w, size.h, Options{Room: d.Rooms[0], Names: d.Names, Languages: []string{"en"}})
			scr.waitText(t, "Type / for commands", "You joined")
			typeText(tm, "/search the")
			key(tm, "enter")
			scr.waitText(t, "Search: ")
			checkGolden(t, fmtSize(size.w, size.h)+"-search", normalize(scr.settle(300*time.Millisecond)))
			key(tm, "enter")
			// the jump shows the room's newest rows: they count as read
			// at the next frame that marks what is seen
			scr.waitFor(t, "the dialog to close and Random read", func(s string) bool {
				return !strings.Contains(s, "╭─ Search") && readRandom.MatchString(s)
			})
			checkGolden(t, fmtSize(size.w, size.h)+"-search-jump", normalize(scr.settle(300*time.Millisecond)))
		})
	}
}
