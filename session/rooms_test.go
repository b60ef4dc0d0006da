package session

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/proto"
)

func TestScrollbackBeyondTheBackfill(t *testing.T) {
	r := startRelay(t)
	alice := r.client("alice", "")
	ca := collect(alice)
	online(t, alice)
	room := newRoom(t, alice)
	for i := range 60 {
		sendText(t, alice, room, fmt.Sprintf("m%d", i))
	}
	ca.waitFor(t, "messages", 10*time.Second, func() bool { return len(messages(ca.entries[room])) == 60 })
	head := ca.lastSeq(room)

	// A new device: starts 10 entries before the head, scrolls back the rest.
	devDir := t.TempDir()
	uri, tok := r.deviceToken("alice", devDir)
	dev, err := Open(Options{Relay: r.url(), User: uri, Token: tok, DataDir: devDir, Backfill: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	cd := collect(dev)
	online(t, dev)
	// In an encrypted room the new device joins the group by an external
	// commit, the next entry of the log.
	cd.waitFor(t, "backfill and the device's commit", 5*time.Second, func() bool { return cd.lastSeq(room) == head+1 })
	cd.checkRun(t, room, head-9, head+1)
	head++

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	before := head - 10
	var pages int
	for before > 1 && pages < 20 {
		page, more, err := dev.History(ctx, room, before, 25)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 || page[len(page)-1].Seq != before-1 {
			t.Fatalf("page before %d: %v", before, seqs(page))
		}
		checkSeqs(t, page, page[0].Seq, before-1)
		before = page[0].Seq
		pages++
		if more != (before > 1) {
			t.Fatalf("more = %v with the page starting at %d", more, before)
		}
	}
	if before != 1 || pages != 3 {
		t.Fatalf("scrolled to %d in %d pages", before, pages)
	}
	// Now it is all cached: the whole log reads back without the network.
	all, err := dev.Recent(room, 1000)
	if err != nil {
		t.Fatal(err)
	}
	checkSeqs(t, all, 1, head)
	if rm, _ := dev.Room(room); rm.Low != 1 || rm.Cursor != head {
		t.Fatalf("run after scrollback: %+v", rm)
	}
}

func TestTypingAndPresenceSignals(t *testing.T) {
	r := startRelay(t)
	alice, bob := r.client("alice", ""), r.client("bob", "")
	online(t, alice)
	online(t, bob)
	room := newRoom(t, alice, bob)
	got := make(chan SignalEvent, 8)
	go func() {
		for ev := range bob.Events() {
			if s, ok := ev.(SignalEvent); ok {
				got <- s
			}
		}
	}()
	if err := alice.Typing(room, true); err != nil {
		t.Fatal(err)
	}
	if err := alice.Presence(room, "away"); err != nil {
		t.Fatal(err)
	}
	if err := alice.Presence(room, "sleeping"); err == nil {
		t.Fatal("an invalid presence value was accepted")
	}
	want := []SignalEvent{
		{Room: room, From: alice.User(), Kind: proto.SignalTyping, Value: "start"},
		{Room: room, From: alice.User(), Kind: proto.SignalPresence, Value: "away"},
	}
	for _, w := range want {
		select {
		case s := <-got:
			if s != w {
				t.Fatalf("signal %+v, want %+v", s, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no signal %+v", w)
		}
	}
}

func TestMembershipChangesReachTheRoomState(t *testing.T) {
	r := startRelay(t)
	alice, bob := r.client("alice", ""), r.client("bob", "")
	cb := collect(bob)
	online(t, alice)
	online(t, bob)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := alice.CreateRoom(ctx, CreateRoomOptions{Slug: "club", Name: "Club"})
	if err != nil {
		t.Fatal(err)
	}
	room := res.Room
	if _, err := alice.Invite(ctx, room, bob.User()); err != nil {
		t.Fatal(err)
	}
	// The relay's notice (or the room poll) brings the invitation.
	cb.waitFor(t, "invitation", 5*time.Second, func() bool {
		rm, ok := bob.Room(room)
		return ok && rm.State == proto.StateInvited
	})
	if _, err := bob.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.SetRole(ctx, room, bob.User(), proto.RoleModerator); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.SetTopic(ctx, room, "members only"); err != nil {
		t.Fatal(err)
	}
	cb.waitFor(t, "moderator and topic", 5*time.Second, func() bool {
		rm, _ := bob.Room(room)
		return rm.Role == proto.RoleModerator && rm.Topic == "members only" && rm.State == proto.StateJoined
	})
	if _, err := alice.Ban(ctx, room, bob.User(), "test"); err != nil {
		t.Fatal(err)
	}
	cb.waitFor(t, "banned", 5*time.Second, func() bool {
		rm, _ := bob.Room(room)
		return rm.State == proto.StateBanned
	})
	// A refused operation comes back as a typed relay error.
	_, err = bob.SetName(ctx, room, "mine")
	var re *RelayError
	if !asRelayError(err, &re) || (re.Code != proto.CodeNotMember && re.Code != proto.CodeBanned && re.Code != proto.CodeForbidden) {
		t.Fatalf("banned user renaming: %v", err)
	}
	// So is a message: it fails in the outbox, and Retry requeues it.
	it := sendText(t, bob, room, "still here?")
	cb.waitFor(t, "failed", 5*time.Second, func() bool { return cb.outbox[it.ID].State == Failed })
	cb.mu.Lock()
	reason := cb.outbox[it.ID].Err
	cb.mu.Unlock()
	if reason == "" {
		t.Error("failed item has no reason")
	}
	if _, err := alice.Unban(ctx, room, bob.User()); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Invite(ctx, room, bob.User()); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	if err := bob.Retry(it.ID); err != nil {
		t.Fatal(err)
	}
	cb.waitFor(t, "acked after retry", 5*time.Second, func() bool { return cb.outbox[it.ID].State == Acked })
}

func asRelayError(err error, re **RelayError) bool { return errors.As(err, re) }

// The session's entries drive the content timeline: messages, an edit, a
// reaction and membership all land without refusals.
func TestFeedTimeline(t *testing.T) {
	r := startRelay(t)
	alice, bob := r.client("alice", ""), r.client("bob", "")
	cb := collect(bob)
	online(t, alice)
	online(t, bob)
	room := newRoom(t, alice, bob)
	first := sendText(t, alice, room, "first")
	m, err := alice.Builder(room).Edit(first.ID, nil, content.MarkdownPart("first, edited"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Send(room, m); err != nil {
		t.Fatal(err)
	}
	// Bob reacts to what he has seen (else his reaction could be ordered first).
	cb.waitFor(t, "first at bob", 5*time.Second, func() bool { return len(messages(cb.entries[room])) >= 1 })
	rm, err := bob.Builder(room).Reaction(first.ID, "👍")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Send(room, rm); err != nil {
		t.Fatal(err)
	}
	cb.waitFor(t, "3 messages", 5*time.Second, func() bool { return len(messages(cb.entries[room])) == 3 })
	tl := content.NewTimeline(content.TimelineOptions{LocalUser: bob.User(), RoomURI: room})
	cb.mu.Lock()
	err = Feed(tl, cb.entries[room])
	cb.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if ref := tl.Refused(); len(ref) != 0 {
		t.Fatalf("timeline refused %+v", ref)
	}
	it, ok := tl.Get(first.ID)
	if !ok {
		t.Fatal("first message not in the timeline")
	}
	if got := tl.Reactions(first.ID); len(got) != 1 {
		t.Errorf("reactions %+v", got)
	}
	if vs := tl.Versions(first.ID); len(vs) != 2 {
		t.Errorf("versions %+v (item %+v)", vs, it)
	}
}
