package relay

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay/store/sqlite"
)

// TestRetentionSweep: with a lifetime set, the sweep deletes events and
// blobs older than it; the room keeps its newest event (so seqs continue:
// the next post gets the next seq), history below the kept range is an
// empty page (not an error the client would retry), and a deleted blob is
// 404 with its file gone. Without a lifetime nothing is deleted.
func TestRetentionSweep(t *testing.T) {
	const life = 400 * time.Millisecond
	s := startRelay(t, Config{RatePerSec: -1, Retain: life, RetainBlobs: life, SweepEvery: 50 * time.Millisecond})
	keep := startRelay(t, Config{RatePerSec: -1, SweepEvery: 50 * time.Millisecond})
	tok := addUser(t, s.Store(), "alice")
	alice := dial(t, s.Addr(), tok)
	room := alice.createRoom("lobby", proto.CreateRoom{})
	ka := dial(t, keep.Addr(), addUser(t, keep.Store(), "alice"))
	kroom := ka.createRoom("lobby", proto.CreateRoom{})
	for range 5 {
		alice.post(room, "old")
		ka.post(kroom, "old")
	}
	_, info, _, _ := postBlob(t, s.Addr(), tok, []byte("old blob"))
	time.Sleep(life + 100*time.Millisecond)
	last := alice.post(room, "new")

	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, err := s.db.EventsAfter(t.Context(), room, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 1 && evs[0].Seq == last.Seq {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events left after the sweep: %d (first seq %d), want only seq %d", len(evs), evs[0].Seq, last.Seq)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if next := alice.post(room, "newer"); next.Seq != last.Seq+1 {
		t.Fatalf("post after the sweep got seq %d, want %d", next.Seq, last.Seq+1)
	}
	alice.send(&proto.History{RID: alice.nextRID(), Room: room, Before: last.Seq, Limit: 10})
	if page := expect[*proto.HistoryPage](alice); len(page.Events) != 0 || page.More {
		t.Fatalf("history below the kept range: %d events, more %v; want an empty page", len(page.Events), page.More)
	}
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + s.Addr() + "/v1/blobs/" + info.ID)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(s.blobs.dir, info.ID)); !os.IsNotExist(err) {
		t.Fatalf("blob file after the sweep: %v", err)
	}
	if evs, _ := keep.db.EventsAfter(t.Context(), kroom, 0, 100); len(evs) < 6 {
		t.Fatalf("a relay without retention kept %d events, want all 6", len(evs))
	}
}

// TestRoomExpiryPolicy: an owner sets a room's message expiry with a
// room_op (members may not); room_state and room_list show it to version 5
// clients only; the relay then deletes the room's events older than the
// lifetime, its newest included, and only that room's; history and
// replay (from memory too) serve none of them; the room's seqs continue,
// also after a restart, which keeps the policy; expiry 0 stops it.
func TestRoomExpiryPolicy(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Data: dir, RatePerSec: -1, ExpireEvery: 50 * time.Millisecond}
	s := startRelay(t, cfg)
	tokA, tokB := addUser(t, s.Store(), "alice"), addUser(t, s.Store(), "bob")
	alice, bob := dial(t, s.Addr(), tokA), dial(t, s.Addr(), tokB)
	room := alice.createRoom("lobby", proto.CreateRoom{})
	other := alice.createRoom("other", proto.CreateRoom{})
	alice.mustOp(room, proto.KindInvite, bob.user)
	bob.mustOp(room, proto.KindJoin, "")
	expiry := func(c *client, v string) *proto.ErrorFrame {
		_, ef := c.op(room, proto.KindExpiry, "", func(o *proto.RoomOp) { o.Value = v })
		return ef
	}
	if ef := expiry(bob, "1"); ef == nil || ef.Code != proto.CodeForbidden {
		t.Fatalf("a member setting the expiry: %+v, want forbidden", ef)
	}
	if ef := expiry(alice, "1h"); ef == nil || ef.Code != proto.CodeBadField || ef.Field != "value" {
		t.Fatalf("expiry 1h: %+v, want bad_field on value", ef)
	}
	for range 3 {
		alice.post(room, "expires")
		alice.post(other, "stays")
	}
	if ef := expiry(alice, "1"); ef != nil {
		t.Fatalf("the owner setting the expiry: %+v", ef)
	}
	info := func(c *client) *proto.RoomState {
		c.send(&proto.RoomInfo{RID: c.nextRID(), Room: room})
		return expect[*proto.RoomState](c)
	}
	list := func(c *client) proto.RoomSummary {
		c.send(&proto.Rooms{RID: c.nextRID()})
		for _, r := range expect[*proto.RoomList](c).Rooms {
			if r.Room == room {
				return r
			}
		}
		t.Fatalf("%s's room list lacks %s", c.user, room)
		return proto.RoomSummary{}
	}
	if st, sum := info(bob), list(bob); st.Expiry != 1 || sum.Expiry != 1 {
		t.Fatalf("version 5 room_state expiry %d, room_list %d; want 1", st.Expiry, sum.Expiry)
	}
	old := dialVersion(t, s.Addr(), tokB, 4) // would reject the key: strict decoding
	if st, sum := info(old), list(old); st.Expiry != 0 || sum.Expiry != 0 {
		t.Fatalf("version 4 room_state expiry %d, room_list %d; want none", st.Expiry, sum.Expiry)
	}
	// Replay once, so the room's tail is cached in memory (how much of it
	// has expired by now depends on the machine's load).
	bob.subscribe(room, 0)
	bob.events(room, 7, time.Second)
	head, _ := s.db.Head(t.Context(), room)
	waitEmpty := func(s *Server) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			evs, err := s.db.EventsAfter(t.Context(), room, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d events of %s left (first #%d) after its 1 s expiry", len(evs), room, evs[0].Seq)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitEmpty(s)
	if evs, _ := s.db.EventsAfter(t.Context(), other, 0, 100); len(evs) != 4 {
		t.Fatalf("a room without expiry kept %d events, want 4", len(evs))
	}
	bob.send(&proto.History{RID: bob.nextRID(), Room: room, Before: head.Seq + 1, Limit: 50})
	if page := expect[*proto.HistoryPage](bob); len(page.Events) != 0 {
		t.Fatalf("history after expiry: %d events, want none", len(page.Events))
	}
	late := dial(t, s.Addr(), tokA)
	late.subscribe(room, 0)
	if evs := late.events(room, 1, 300*time.Millisecond); len(evs) != 0 {
		t.Fatalf("replay after expiry served #%d (from the tail cache?)", evs[0].Seq)
	}
	if a := alice.post(room, "next"); a.Seq != head.Seq+1 {
		t.Fatalf("post after the log expired got #%d, want #%d", a.Seq, head.Seq+1)
	}
	waitEmpty(s)
	shutdown(t, s)

	s = startRelay(t, cfg)
	alice = dial(t, s.Addr(), tokA)
	if st := info(alice); st.Expiry != 1 || st.LastSeq != head.Seq+1 {
		t.Fatalf("after a restart: expiry %d, head %d; want 1, %d", st.Expiry, st.LastSeq, head.Seq+1)
	}
	if ok := alice.mustOp(room, proto.KindExpiry, "", func(o *proto.RoomOp) { o.Value = "0" }); ok.Seq != head.Seq+2 {
		t.Fatalf("expiry 0 after a restart got #%d, want #%d", ok.Seq, head.Seq+2)
	}
	alice.post(room, "stays")
	time.Sleep(1500 * time.Millisecond)
	if evs, _ := s.db.EventsAfter(t.Context(), room, 0, 100); len(evs) != 2 {
		t.Fatalf("with expiry 0 the room kept %d events, want 2", len(evs))
	}
}

// pausingExpirer deletes expired events through the SQLite store, then
// reports the cutoff it deleted below and waits before returning: a replay
// can run between the delete and the relay's handling of its result.
type pausingExpirer struct {
	*sqlite.Store
	deleted chan int64 // the cutoff of a delete of at least one event
	resume  chan struct{}
}

func (p *pausingExpirer) ExpireRoomEvents(ctx context.Context, room string, ts int64) (int64, error) {
	n, err := p.Store.ExpireRoomEvents(ctx, room, ts)
	if n > 0 {
		p.deleted <- ts
		<-p.resume
	}
	return n, err
}

// TestExpiryReplayDuringDelete: a replay that runs while a room's expired
// events are being deleted never serves them from the room's tail cache
// (memory) once the store no longer has them. Before, the tail was dropped
// only after the delete returned, and a subscription in between replayed
// every deleted event (TestRoomExpiryPolicy failed so under load).
func TestExpiryReplayDuringDelete(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(dir, sqlite.SyncFull)
	if err != nil {
		t.Fatal(err)
	}
	pe := &pausingExpirer{Store: db, deleted: make(chan int64), resume: make(chan struct{})}
	s := startRelay(t, Config{Data: dir, Store: pe, RatePerSec: -1, ExpireEvery: 50 * time.Millisecond})
	tok := addUser(t, s.Store(), "alice")
	alice := dial(t, s.Addr(), tok)
	room := alice.createRoom("lobby", proto.CreateRoom{})
	for range 3 {
		alice.post(room, "expires")
	}
	alice.mustOp(room, proto.KindExpiry, "", func(o *proto.RoomOp) { o.Value = "1" })
	// A replay loads the room's tail into memory.
	alice.subscribe(room, 0)
	alice.events(room, 5, time.Second)
	var cutoff int64
	select {
	case cutoff = <-pe.deleted:
	case <-time.After(10 * time.Second):
		t.Fatal("the room's events did not expire in 10 s")
	}
	// The delete may have taken only the oldest events (on a loaded
	// machine the later ones were not a second old yet): what the store
	// still has may be served, what it deleted (TS below the cutoff) not.
	late := dial(t, s.Addr(), tok)
	late.subscribe(room, 0)
	evs := late.events(room, 5, 300*time.Millisecond)
	close(pe.resume)
	for _, e := range evs {
		if e.TS < cutoff {
			t.Fatalf("a replay while the expired events were deleted served #%d (ts %d, deleted below %d)", e.Seq, e.TS, cutoff)
		}
	}
}
