package ui

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"mimichat/internal/roomseed"
	"mimichat/relay"
	"mimichat/session"
)

// TestLazyRooms: a user in more rooms than eagerRooms starts with only the
// room on screen built; the room list still shows every room's unread count
// (from the one-query summary); opening a room builds its timeline; a
// message in a room not loaded raises its count and leaves it unloaded; one
// mentioning the user loads it. Real relay (seeded through its bulk path),
// real session, real program.
func TestLazyRooms(t *testing.T) {
	const rooms, messages = eagerRooms + 16, 30
	dir := t.TempDir()
	seed, err := roomseed.Seed(dir, roomseed.Options{Domain: testDomain, Rooms: rooms, Messages: messages})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := relay.Start(relay.Config{Listen: "127.0.0.1:0", Data: dir, Domain: testDomain, RatePerSec: -1,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	open := func(user, token, dataDir string) *session.Session {
		s, err := session.Open(session.Options{Relay: "ws://" + srv.Addr() + "/v1", User: user, Token: token, DataDir: dataDir,
			Backoff: session.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}, RoomsPoll: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	// Sync the user's cache once, as a previous run would have.
	cache := t.TempDir()
	first := open(seed.User, seed.UserToken, cache)
	go func() {
		for range first.Events() {
		}
	}()
	first.Start()
	deadline := time.Now().Add(60 * time.Second)
	for {
		n := 0
		for _, r := range first.Rooms() {
			if r.Cursor == seed.Head {
				n++
			}
		}
		if n == rooms {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cached %d of %d rooms in 60 s", n, rooms)
		}
		time.Sleep(20 * time.Millisecond)
	}
	first.Close()

	sess := open(seed.User, seed.UserToken, cache)
	scr := newScreen()
	m, err := New(Options{Session: sess, Theme: "dark", Notify: "off", OnFrame: scr.set})
	if err != nil {
		t.Fatal(err)
	}
	loaded := 0
	for _, r := range m.rooms {
		if r.lazy.loaded {
			loaded++
			if r != m.current() || r.tl.Len() == 0 {
				t.Fatalf("%s is loaded (%d rows); only the room on screen should be", r.title(), r.tl.Len())
			}
		} else if r.tl.Len() != 0 {
			t.Fatalf("%s: a room not loaded holds %d rows", r.title(), r.tl.Len())
		}
		// roomseed alternates the owner's messages and the user's.
		if r.unread() != messages/2 {
			t.Fatalf("%s shows %d unread, want %d", r.title(), r.unread(), messages/2)
		}
	}
	if loaded != 1 {
		t.Fatalf("%d rooms loaded at start, want 1", loaded)
	}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(160, 48))
	t.Cleanup(func() { tm.Quit() })
	badges := regexp.MustCompile(`Room \d+ +` + fmt.Sprint(messages/2) + `\b`)
	scr.waitFor(t, "unread counts of rooms not loaded", func(f string) bool { return len(badges.FindAllString(f, -1)) >= 40 })

	// Opening the third room builds its timeline from the cache.
	third := m.rooms[2]
	tm.Send(keyMsgMod('3'))
	scr.waitText(t, "Message 14 from "+seed.Owner)

	// News from the owner in two rooms not loaded.
	plain, mention := m.rooms[10], m.rooms[11] // on screen, not loaded
	owner := open(seed.Owner, seed.OwnerToken, t.TempDir())
	owner.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := owner.WaitOnline(ctx); err != nil {
		t.Fatal(err)
	}
	post := func(room, text string) {
		msg, err := owner.Builder(room).Markdown(text)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := owner.Send(room, msg); err != nil {
			t.Fatal(err)
		}
	}
	post(plain.id, "nothing for you in particular")
	post(mention.id, "look at this [@me]("+seed.User+")")
	scr.waitFor(t, "the new counts", func(f string) bool {
		return regexp.MustCompile(regexp.QuoteMeta(plain.title())+` +`+fmt.Sprint(messages/2+1)+`\b`).MatchString(f) &&
			regexp.MustCompile(regexp.QuoteMeta(mention.title())+` +@1 `+fmt.Sprint(messages/2+1)+`\b`).MatchString(f)
	})
	tm.Quit()
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	if !third.lazy.loaded || third.tl.Len() < messages {
		t.Fatalf("the room opened: loaded %v with %d rows", third.lazy.loaded, third.tl.Len())
	}
	if plain.lazy.loaded {
		t.Fatal("a plain message loaded its room")
	}
	// The mention asked for the room's load (whether it finished before
	// the quit is a race; the load itself is the third room's).
	if !mention.lazy.loaded && !mention.lazy.loading {
		t.Fatal("a mention did not load its room")
	}
}
