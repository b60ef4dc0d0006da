package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/proto"
	"mimichat/session"
)

// TestRoomSwitching: alt+N, next/previous, next unread and next mention
// move between rooms; the room list shows unread counts and mention badges
// and clears them once the room is seen.
func TestRoomSwitching(t *testing.T) {
	rl := startRelay(t)
	you := rl.session("you")
	peer := rl.session("peer")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	uri := func(s string) string { return "mimi://" + testDomain + "/r/" + s }
	for _, slug := range []string{"a-room", "b-room", "c-room", "d-room"} {
		if _, err := peer.CreateRoom(ctx, session.CreateRoomOptions{Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:], Join: proto.JoinOpen}); err != nil {
			t.Fatal(err)
		}
		if _, err := you.Join(ctx, uri(slug)); err != nil {
			t.Fatal(err)
		}
	}
	tm, _, scr := startUI(t, you, 100, 30, Options{Room: uri("a-room")})
	scr.waitText(t, "│A-room")
	header := func(name string) func(string) bool {
		return func(s string) bool { return strings.Contains(strings.SplitN(s, "\n", 2)[0], "│"+name) }
	}
	tm.Send(tea.KeyPressMsg{Code: '3', Mod: tea.ModAlt})
	scr.waitFor(t, "alt+3 opens C-room", header("C-room"))
	// in the composer ctrl+n/ctrl+p recall input; alt+down/alt+up change rooms
	tm.Send(tea.KeyPressMsg{Code: tea.KeyDown, Mod: tea.ModAlt})
	scr.waitFor(t, "alt+down opens D-room", header("D-room"))
	tm.Send(tea.KeyPressMsg{Code: tea.KeyUp, Mod: tea.ModAlt})
	scr.waitFor(t, "alt+up goes back to C-room", header("C-room"))

	m1, _ := peer.Builder(uri("b-room")).Markdown("unread in b")
	peer.Send(uri("b-room"), m1)
	m2, _ := peer.Builder(uri("d-room")).Markdown("hey " + content.MentionMarkdown("you", you.User()))
	peer.Send(uri("d-room"), m2)
	scr.waitFor(t, "badges", func(s string) bool {
		var b, d bool
		for _, l := range strings.Split(s, "\n") {
			b = b || strings.Contains(l, "B-room") && strings.Contains(l, " 1")
			d = d || strings.Contains(l, "D-room") && strings.Contains(l, "@1")
		}
		return b && d
	})
	tm.Send(tea.KeyPressMsg{Code: 'm', Mod: tea.ModAlt})
	scr.waitFor(t, "alt+m opens the room with the mention", header("D-room"))
	scr.waitFor(t, "the mention badge cleared once seen", func(s string) bool { return !strings.Contains(s, "@1") })
	tm.Send(tea.KeyPressMsg{Code: 'u', Mod: tea.ModAlt})
	scr.waitFor(t, "alt+u opens the unread room", header("B-room"))
	scr.waitText(t, "unread in b")
}

// TestVimPreset: esc leaves the composer for selection mode, k/j move,
// x asks to delete, i goes back to typing.
func TestVimPreset(t *testing.T) {
	rl := startRelay(t)
	you := rl.session("you")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := you.CreateRoom(ctx, session.CreateRoomOptions{Slug: "vim", Name: "Vim"}); err != nil {
		t.Fatal(err)
	}
	km, err := keys.New("vim", nil)
	if err != nil {
		t.Fatal(err)
	}
	tm, m, scr := startUI(t, you, 100, 30, Options{Room: "mimi://" + testDomain + "/r/vim", Keymap: km})
	scr.waitText(t, "│Vim")
	for _, s := range []string{"first", "second"} {
		tm.Type(s)
		key(tm, "enter")
	}
	scr.waitFor(t, "both sent", func(s string) bool {
		return strings.Contains(s, "first ✓") && strings.Contains(s, "second ✓") && !strings.Contains(s, "sending")
	})
	key(tm, "esc")
	scr.waitText(t, "▌")
	tm.Type("x")
	scr.waitText(t, "Delete this message?")
	key(tm, "esc") // no
	tm.Type("i")
	scr.waitFor(t, "back in the composer", func(s string) bool { return !strings.Contains(s, "▌") })
	if m.focus != keys.Composer {
		t.Fatalf("focus %v after i", m.focus)
	}
}

// TestInvitation: an invitation appears in the room list (✉) with a hint;
// /join accepts it and the peer sees the user join.
func TestInvitation(t *testing.T) {
	rl := startRelay(t)
	you := rl.session("you")
	peer := rl.session("peer")
	in := collectEntries(peer)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := you.CreateRoom(ctx, session.CreateRoomOptions{Slug: "home", Name: "Home"}); err != nil {
		t.Fatal(err)
	}
	tm, _, scr := startUI(t, you, 100, 30, Options{Room: "mimi://" + testDomain + "/r/home"})
	scr.waitText(t, "│Home")
	room := "mimi://" + testDomain + "/r/party"
	if _, err := peer.CreateRoom(ctx, session.CreateRoomOptions{Slug: "party", Name: "Party"}); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.Invite(ctx, room, you.User()); err != nil {
		t.Fatal(err)
	}
	scr.waitText(t, "✉ Party")
	tm.Type("/room party")
	key(tm, "esc")
	key(tm, "enter")
	scr.waitText(t, "You are invited to this room")
	tm.Type("/join")
	key(tm, "enter")
	in.waitJoin(t, room, you.User())
	scr.waitFor(t, "the hint gone", func(s string) bool {
		return !strings.Contains(s, "You are invited") && strings.Contains(s, "you joined")
	})
}

type entryLog struct {
	mu sync.Mutex
	es []session.Entry
}

func collectEntries(s *session.Session) *entryLog {
	l := &entryLog{}
	go func() {
		for ev := range s.Events() {
			if es, ok := ev.(session.EntriesEvent); ok {
				l.mu.Lock()
				l.es = append(l.es, es.Entries...)
				l.mu.Unlock()
			}
		}
	}()
	return l
}

func (l *entryLog) waitJoin(t *testing.T, room, user string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		for _, e := range l.es {
			if e.Room == room && e.Kind == proto.KindJoin && (e.Sender == user || e.Target == user) {
				l.mu.Unlock()
				return
			}
		}
		l.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never joined %s", user, room)
}
