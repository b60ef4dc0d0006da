package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"mimichat/content"
)

// TestSearchJumpsIntoThread: enter on a result that lives in a thread opens
// the thread with that message selected (it selected the thread's first
// row, so r or + then acted on another message than the one found).
func TestSearchJumpsIntoThread(t *testing.T) {
	rl := startRelay(t)
	alice, bob := rl.session("alice"), rl.session("bob")
	room := openRoom(t, alice, "lobby", "Lobby", bob)
	for _, text := range []string{"the thread starts here", "a first answer", "the needle answer", "the last answer"} {
		m, err := bob.Builder(room).Markdown(text, content.InTopic([]byte("t1")))
		if err != nil {
			t.Fatal(err)
		}
		sendMsgAcked(t, bob, room, m)
	}
	sendText(t, bob, room, "after the thread")
	cachedMessage(t, alice, room, "after the thread")

	tm, _, scr := startUI(t, alice, 100, 30, Options{Room: room})
	scr.waitText(t, "after the thread")
	typeText(tm, "/search needle")
	key(tm, "enter")
	scr.waitText(t, "Search: 1 message")
	key(tm, "enter")
	scr.waitText(t, "🧵 Thread", "the needle answer")
	wantSelected(t, tm, "the needle answer")
}

// TestThreadBesideScrolledTimeline: with the thread pane beside the room's
// timeline (from 100 columns), a timeline scrolled up still ends in its
// "↓ N newer" line (beside a thread it had none, so nothing said that newer
// messages were below).
func TestThreadBesideScrolledTimeline(t *testing.T) {
	rl := startRelay(t)
	alice, bob := rl.session("alice"), rl.session("bob")
	room := openRoom(t, alice, "lobby", "Lobby", bob)
	var texts []string
	for i := range 40 {
		texts = append(texts, "message number "+itoa(i))
	}
	sendAcked(t, bob, room, texts)
	cachedMessage(t, alice, room, "message number 39")

	tm, _, scr := startUI(t, alice, 160, 30, Options{Room: room})
	scr.waitText(t, "message number 39")
	key(tm, "pgup")
	key(tm, "pgup")
	scr.waitText(t, " newer · ctrl+end")
	key(tm, "alt+s")
	tm.Type("t")
	txt := scr.waitText(t, "🧵 Thread")
	if !strings.Contains(txt, " newer · ctrl+end") {
		t.Errorf("beside the thread the scrolled timeline does not say what is below:\n%s", txt)
	}
}

// TestThreadSelectionStartsAtNewest: selecting in an open thread starts at
// its newest message, as in the room's timeline (it started at the thread's
// first row, so r or + right after alt+s acted on the oldest).
func TestThreadSelectionStartsAtNewest(t *testing.T) {
	rl := startRelay(t)
	alice, bob := rl.session("alice"), rl.session("bob")
	room := openRoom(t, alice, "lobby", "Lobby", bob)
	for _, text := range []string{"the thread starts here", "a first answer", "the newest answer"} {
		m, err := bob.Builder(room).Markdown(text, content.InTopic([]byte("t1")))
		if err != nil {
			t.Fatal(err)
		}
		sendMsgAcked(t, bob, room, m)
	}
	cachedMessage(t, alice, room, "the newest answer")

	tm, _, scr := startUI(t, alice, 100, 30, Options{Room: room})
	scr.waitText(t, "the thread starts here")
	key(tm, "alt+s")
	tm.Type("t")
	scr.waitText(t, "🧵 Thread", "the newest answer")
	key(tm, "alt+s")
	wantSelected(t, tm, "the newest answer")
}

// wantSelected asks the running model for its selected message and fails
// unless that message's text contains want.
func wantSelected(t *testing.T, tm *teatest.TestModel, want string) {
	t.Helper()
	done := make(chan string, 1)
	tm.Send(funcMsg(func(m *Model) tea.Cmd {
		_, it, ok := m.selected()
		if !ok {
			done <- "nothing selected"
			return nil
		}
		done <- content.PlainText(&content.Message{Body: it.Body})
		return nil
	}))
	select {
	case got := <-done:
		if !strings.Contains(got, want) {
			t.Errorf("selected %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer from the model")
	}
}
