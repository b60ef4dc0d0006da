package session

import (
	"context"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/proto"
)

// slowPollClient is r.client with a room poll too slow to matter in a test.
func (r *testRelay) slowPollClient(name string) *Session {
	r.t.Helper()
	dir := r.t.TempDir()
	uri, tok := r.deviceToken(name, dir)
	s, err := Open(Options{Relay: r.url(), User: uri, Token: tok, DataDir: dir,
		Backoff: Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}, RoomsPoll: time.Hour})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { s.Close() })
	return s
}

// roomEvents forwards s's RoomEvents for room.
func roomEvents(s *Session, room string) <-chan Room {
	ch := make(chan Room, 64)
	go func() {
		for ev := range s.Events() {
			if re, ok := ev.(RoomEvent); ok && re.Room.ID == room {
				ch <- re.Room
			}
		}
	}()
	return ch
}

// waitRoom waits up to d for a RoomEvent of room in state st.
func waitRoom(t *testing.T, ch <-chan Room, st proto.State, role proto.Role, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case rm := <-ch:
			if rm.State == st && (role == "" || rm.Role == role) {
				return
			}
		case <-deadline:
			t.Fatalf("no RoomEvent with state %s role %q within %v", st, role, d)
		}
	}
}

// TestNoticeBringsInvitationAtOnce: with the room poll an hour away, the
// relay's notice makes the invitee's session refresh its rooms within a
// second, and so for a role change and a kick.
func TestNoticeBringsInvitationAtOnce(t *testing.T) {
	r := startRelay(t)
	alice, bob := r.slowPollClient("alice"), r.slowPollClient("bob")
	room := proto.RoomURI(testDomain, "pushed")
	events := roomEvents(bob, room)
	online(t, alice)
	online(t, bob)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := alice.CreateRoom(ctx, CreateRoomOptions{Slug: "pushed", Name: "Pushed"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Room != room {
		t.Fatalf("created %s, want %s", res.Room, room)
	}
	if _, err := alice.Invite(ctx, room, bob.User()); err != nil {
		t.Fatal(err)
	}
	waitRoom(t, events, proto.StateInvited, proto.RoleMember, time.Second)
	if rm, _ := bob.Room(room); rm.Name != "Pushed" {
		t.Fatalf("invited room %+v: the name comes with the refreshed list", rm)
	}
	if _, err := bob.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.SetRole(ctx, room, bob.User(), proto.RoleModerator); err != nil {
		t.Fatal(err)
	}
	waitRoom(t, events, proto.StateJoined, proto.RoleModerator, time.Second)
	if _, err := alice.Kick(ctx, room, bob.User(), "bye"); err != nil {
		t.Fatal(err)
	}
	waitRoom(t, events, proto.StateNone, "", time.Second)
}

// TestReadReceiptsPolicyOverSession: a moderator or owner sets the policy,
// a member may not, and the members' timelines follow it.
func TestReadReceiptsPolicyOverSession(t *testing.T) {
	r := startRelay(t)
	alice, bob := r.client("alice", ""), r.client("bob", "")
	cb := collect(bob)
	online(t, alice)
	online(t, bob)
	room := newRoom(t, alice, bob)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := bob.SetReadReceipts(ctx, room, false)
	var re *RelayError
	if !asRelayError(err, &re) || re.Code != proto.CodeForbidden {
		t.Fatalf("a member set the policy: %v", err)
	}
	res, err := alice.SetReadReceipts(ctx, room, false)
	if err != nil {
		t.Fatal(err)
	}
	cb.waitFor(t, "policy entry", 5*time.Second, func() bool { return cb.lastSeq(room) >= res.Seq })
	tl := content.NewTimeline(content.TimelineOptions{LocalUser: bob.User(), RoomURI: room})
	feed := func() bool {
		cb.mu.Lock()
		err := Feed(tl, cb.entries[room])
		cb.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		var on bool
		tl.Read(func(v content.View) { on = v.ReadReceipts() })
		return on
	}
	if feed() {
		t.Fatal("timeline says receipts on after the room turned them off")
	}
	if bob.ReadReceipts(room) {
		t.Fatal("session says receipts on after the room turned them off")
	}
	// A new device whose backfill starts after the policy entry learns the
	// policy from the room list.
	for range 3 {
		sendText(t, alice, room, "later")
	}
	devDir := t.TempDir()
	uri, tok := r.deviceToken("bob", devDir)
	dev, err := Open(Options{Relay: r.url(), User: uri, Token: tok, DataDir: devDir, Backfill: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if !dev.ReadReceipts(room) {
		t.Fatal("an unknown room reports receipts off")
	}
	online(t, dev)
	if dev.ReadReceipts(room) {
		t.Fatal("the new device did not learn the policy from the room list")
	}
	st, err := bob.RoomInfo(ctx, room)
	if err != nil || st.Receipts != proto.ReceiptsOff {
		t.Fatalf("room info %+v, %v", st, err)
	}
	res, err = alice.SetReadReceipts(ctx, room, true)
	if err != nil {
		t.Fatal(err)
	}
	cb.waitFor(t, "policy entry", 5*time.Second, func() bool { return cb.lastSeq(room) >= res.Seq })
	tl = content.NewTimeline(content.TimelineOptions{LocalUser: bob.User(), RoomURI: room})
	if !feed() {
		t.Fatal("timeline says receipts off after the room turned them on")
	}
	if !bob.ReadReceipts(room) {
		t.Fatal("session says receipts off after the room turned them on")
	}
}
