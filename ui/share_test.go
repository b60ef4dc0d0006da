package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// TestShareHistoryEndToEnd: a real relay and a room whose history is
// visible only from a member's join. The owner shares the history with a
// member who joined late; the member's client shows the offer, imports it,
// and then shows the earlier messages (with the edit, the reaction and the
// delete applied), once, even after a second import. A member may not share
// with others; the owner's second device (a fresh cache holding only the
// newest entries) catches up with "me".
func TestShareHistoryEndToEnd(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	carol := rl.session("carol")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	room := "mimi://" + testDomain + "/r/past"
	if _, err := owner.CreateRoom(ctx, session.CreateRoomOptions{Slug: "past", Name: "Past", History: proto.HistoryJoined}); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Invite(ctx, room, carol.User()); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	send := func(s *session.Session, text string) {
		t.Helper()
		msg, err := s.Builder(room).Markdown(text)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Send(room, msg); err != nil {
			t.Fatal(err)
		}
	}
	send(owner, "before dave: the plan")
	send(carol, "before dave: a typo here")
	send(carol, "before dave: this goes away")
	waitCached(t, owner, room, 6)
	fix, del := cachedMessage(t, owner, room, "a typo"), cachedMessage(t, owner, room, "goes away")
	edit, _ := carol.Builder(room).Edit(fix, nil, content.MarkdownPart("before dave: fixed"))
	carol.Send(room, edit)
	gone, _ := carol.Builder(room).Delete(del, nil)
	carol.Send(room, gone)
	plan := cachedMessage(t, owner, room, "the plan")
	like, _ := carol.Builder(room).Reaction(plan, "👍")
	carol.Send(room, like)
	waitCached(t, owner, room, 9)

	dave := rl.session("dave")
	if _, err := owner.Invite(ctx, room, dave.User()); err != nil {
		t.Fatal(err)
	}
	if _, err := dave.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	send(owner, "after dave joined")

	otm, _, oscr := startUI(t, owner, 120, 40, Options{Room: room})
	oscr.waitText(t, "after dave joined")
	dtm, _, dscr := startUI(t, dave, 120, 40, Options{Room: room})
	dscr.waitText(t, "after dave joined")
	if strings.Contains(dscr.text(), "the plan") {
		t.Fatal("dave sees history from before his join without an import")
	}

	// A member cannot share with someone else.
	dscr.waitMember(t, "carol")
	dtm.Type("/share-history carol")
	key(dtm, "enter")
	dscr.waitText(t, "only moderators and owners")

	oscr.waitMember(t, "dave")
	otm.Type("/share-history dave")
	key(otm, "enter")
	oscr.waitText(t, "messages of history with dave")
	dscr.waitText(t, "messages of history with you", "/import-history")

	dtm.Type("/import-history")
	key(dtm, "enter")
	txt := dscr.waitText(t, "imported", "the plan", "before dave: fixed", "👍 1")
	for _, gone := range []string{"a typo here", "this goes away"} {
		if strings.Contains(txt, gone) {
			t.Errorf("after the import dave sees %q:\n%s", gone, txt)
		}
	}
	if n := strings.Count(txt, "the plan"); n != 1 {
		t.Errorf("the plan shows %d times:\n%s", n, txt)
	}
	dtm.Type("/import-history")
	key(dtm, "enter")
	txt = dscr.waitText(t, "nothing new")
	if n := strings.Count(txt, "the plan"); n != 1 {
		t.Errorf("after a second import the plan shows %d times:\n%s", n, txt)
	}
	// The imported history is in dave's cache: a restart shows it too.
	if _, ok, err := dave.Store().EntryByID(room, plan); err != nil || !ok {
		t.Fatalf("the plan is not in dave's cache: %v %v", ok, err)
	}
}

// TestShareHistoryWithOwnDevice: a second device of the same user starts
// with only the newest entries cached; "me" brings the rest.
func TestShareHistoryWithOwnDevice(t *testing.T) {
	rl := startRelay(t)
	u, tok, err := rl.srv.Store().AddUser(testDomain, "pat")
	if err != nil {
		t.Fatal(err)
	}
	open := func(backfill uint64) *session.Session {
		s, err := session.Open(session.Options{Relay: "ws://" + rl.srv.Addr() + "/v1", User: u.URI, Token: tok,
			DataDir: t.TempDir(), Backfill: backfill,
			Backoff: session.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		s.Start()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.WaitOnline(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	laptop := open(0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	room := "mimi://" + testDomain + "/r/notes"
	// Plaintext: in an end-to-end encrypted room the phone, a device added
	// after the offer, could not decrypt the offer itself.
	if _, err := laptop.CreateRoom(ctx, session.CreateRoomOptions{Slug: "notes", Name: "Notes", Plaintext: true}); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"note one", "note two", "note three", "note four"} {
		msg, _ := laptop.Builder(room).Markdown(text)
		if _, err := laptop.Send(room, msg); err != nil {
			t.Fatal(err)
		}
	}
	waitCached(t, laptop, room, 6)
	ltm, _, lscr := startUI(t, laptop, 120, 40, Options{Room: room})
	lscr.waitText(t, "note four")
	ltm.Type("/share-history me")
	key(ltm, "enter")
	lscr.waitText(t, "messages of history with your devices")

	// The phone's own token (per-device tokens: pat's is the laptop's).
	if tok, _, err = rl.srv.Store().AddDeviceToken("pat"); err != nil {
		t.Fatal(err)
	}
	phone := open(2) // caches only the offer and the message before it
	ptm, _, pscr := startUI(t, phone, 120, 40, Options{Room: room})
	pscr.waitText(t, "messages of history with your devices")
	if strings.Contains(pscr.text(), "note one") {
		t.Fatal("the phone already shows the oldest note")
	}
	ptm.Type("/import-history")
	key(ptm, "enter")
	txt := pscr.waitText(t, "imported", "note one", "note two", "note three")
	if n := strings.Count(txt, "note four"); n != 1 {
		t.Errorf("note four shows %d times:\n%s", n, txt)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"7d", now.AddDate(0, 0, -7), true},
		{"90m", now.Add(-90 * time.Minute), true},
		{"2026-11-01T08:00:00Z", time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), true},
		{"2026-11-01", time.Date(2026, 11, 1, 0, 0, 0, 0, time.Local), true},
		{"yesterday", time.Time{}, false},
		{"-3d", time.Time{}, false},
		{"0h", time.Time{}, false},
	} {
		got, err := parseSince(c.in, now)
		if (err == nil) != c.ok || c.ok && !got.Equal(c.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

// waitCache polls s's cached entries of room (10 s at the most) until
// found reports done; what describes the wait when it times out.
func waitCache(t *testing.T, s *session.Session, room string, what func([]session.Entry) string, found func([]session.Entry) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		es, err := s.Store().After(room, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if found(es) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", room, what(es))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitCached waits until s's cache holds at least n entries of room.
func waitCached(t *testing.T, s *session.Session, room string, n int) {
	t.Helper()
	waitCache(t, s, room, func(es []session.Entry) string { return fmt.Sprintf("%d entries cached, want %d", len(es), n) },
		func(es []session.Entry) bool { return len(es) >= n })
}

// cachedMessage finds the ID of the cached message of room whose text
// contains sub, waiting for it to arrive (a count of cached entries can be
// reached by room events before a message sent earlier is in).
func cachedMessage(t *testing.T, s *session.Session, room, sub string) content.MessageID {
	t.Helper()
	var id content.MessageID
	waitCache(t, s, room, func([]session.Entry) string { return fmt.Sprintf("no cached message with %q", sub) },
		func(es []session.Entry) bool {
			for _, e := range es {
				if !e.IsMessage() {
					continue
				}
				m, err := content.Decode(e.Raw)
				if err == nil && strings.Contains(content.PlainText(m), sub) {
					id = e.ID
					return true
				}
			}
			return false
		})
	return id
}
