package session

import (
	"context"
	"fmt"
	"testing"
	"time"

	"mimichat/proto"
)

// dropConnection closes the live websocket abruptly, as a network failure
// would.
func (s *Session) dropConnection() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return false
	}
	s.conn.ws.Close()
	return true
}

func TestReconnectAfterRelayRestart(t *testing.T) {
	r := startRelay(t)
	alice, bob := r.client("alice", ""), r.client("bob", "")
	ca, cb := collect(alice), collect(bob)
	online(t, alice)
	online(t, bob)
	room := newRoom(t, alice, bob)
	for i := range 5 {
		sendText(t, alice, room, fmt.Sprintf("before %d", i))
	}
	cb.waitFor(t, "5 messages at bob", 5*time.Second, func() bool { return len(messages(cb.entries[room])) == 5 })

	r.stop()
	cb.waitFor(t, "bob offline", 5*time.Second, func() bool {
		return len(cb.states) > 0 && cb.states[len(cb.states)-1] == Offline
	})
	if st := bob.Status(); st.State == Online || st.NextRetry.IsZero() && st.State == Offline {
		t.Errorf("bob's status while the relay is down: %+v", st)
	}
	// Sent while the relay is down: pending, durable, delivered later.
	var pending []OutboxItem
	for i := range 5 {
		pending = append(pending, sendText(t, alice, room, fmt.Sprintf("during %d", i)))
	}
	r.start()
	for i := range 5 {
		sendText(t, bob, room, fmt.Sprintf("after %d", i))
	}
	for _, c := range []*collector{ca, cb} {
		c.waitFor(t, "15 messages", 10*time.Second, func() bool { return len(messages(c.entries[room])) == 15 })
	}
	ca.checkRun(t, room, 1, ca.lastSeq(room))
	cb.checkRun(t, room, cb.entries[room][0].Seq, ca.lastSeq(room))
	ca.waitFor(t, "pending acked", 5*time.Second, func() bool {
		for _, it := range pending {
			if ca.outbox[it.ID].State != Acked {
				return false
			}
		}
		return true
	})
	// The cache holds the same run as was delivered.
	cached, err := bob.Recent(room, 1000)
	if err != nil {
		t.Fatal(err)
	}
	cb.mu.Lock()
	want := cb.entries[room]
	cb.mu.Unlock()
	if len(cached) != len(want) || cached[len(cached)-1].Seq != want[len(want)-1].Seq {
		t.Fatalf("cache has %v, delivered %v", seqs(cached), seqs(want))
	}
}

func TestBurstWithRepeatedDisconnects(t *testing.T) {
	r := startRelay(t)
	alice, bob := r.client("alice", ""), r.client("bob", "")
	ca, cb := collect(alice), collect(bob)
	online(t, alice)
	online(t, bob)
	room := newRoom(t, alice, bob)
	const n = 400
	stop := make(chan struct{})
	dropped := make(chan int)
	go func() {
		drops := 0
		defer func() { dropped <- drops }()
		for range 200 { // bounded: at most 200 drops
			select {
			case <-stop:
				return
			case <-time.After(15 * time.Millisecond):
			}
			if bob.dropConnection() {
				drops++
			}
		}
	}()
	for i := range n {
		sendText(t, alice, room, fmt.Sprintf("burst %d", i))
		if i%50 == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	ca.waitFor(t, "alice's burst acked", 20*time.Second, func() bool {
		acked := 0
		for _, it := range ca.outbox {
			if it.State == Acked {
				acked++
			}
		}
		return acked == n
	})
	close(stop)
	drops := <-dropped
	if drops < 3 {
		t.Errorf("only %d disconnects happened during the burst", drops)
	}
	var last uint64
	ca.mu.Lock()
	for _, it := range ca.outbox {
		last = max(last, it.Seq)
	}
	ca.mu.Unlock()
	defer func() {
		if t.Failed() {
			cb.mu.Lock()
			t.Logf("bob: last %d of %d, status %+v, states %v", cb.lastSeq(room), last, bob.Status(), cb.states[max(0, len(cb.states)-6):])
			cb.mu.Unlock()
		}
	}()
	cb.waitFor(t, "bob caught up", 20*time.Second, func() bool { return cb.lastSeq(room) == last })
	cb.checkRun(t, room, cb.entries[room][0].Seq, last)
	if got := len(messages(cb.entries[room])); got != n {
		t.Errorf("bob got %d messages, want %d", got, n)
	}
	t.Logf("%d disconnects during a burst of %d", drops, n)
}

func TestGapIsDetectedAndFilled(t *testing.T) {
	r := startRelay(t)
	alice, bob := r.client("alice", ""), r.client("bob", "")
	ca, cb := collect(alice), collect(bob)
	online(t, alice)
	online(t, bob)
	room := newRoom(t, alice, bob)
	sendText(t, alice, room, "one")
	cb.waitFor(t, "first message", 5*time.Second, func() bool { return len(messages(cb.entries[room])) == 1 })

	// Bob stops receiving the room live, then misses five messages.
	bob.mu.Lock()
	c := bob.conn
	bob.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rid := bob.rid()
	if _, err := c.request(ctx, rid, &proto.Unsubscribe{RID: rid, Room: room}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		sendText(t, alice, room, fmt.Sprintf("missed %d", i))
	}
	ca.waitFor(t, "alice sees all", 5*time.Second, func() bool { return len(messages(ca.entries[room])) == 6 })
	ca.mu.Lock()
	latest := ca.entries[room][len(ca.entries[room])-1]
	ca.mu.Unlock()
	before := cb.lastSeq(room)

	// Only the newest one reaches bob: the gap must be filled, in order.
	ev := &proto.Event{Room: latest.Room, Seq: latest.Seq, TS: latest.Time.UnixMilli(), Sender: latest.Sender,
		Kind: latest.Kind, ID: latest.ID[:], Content: latest.Raw}
	c.frames <- ev
	c.frames <- ev // and a duplicate of it
	cb.waitFor(t, "gap filled", 5*time.Second, func() bool { return cb.lastSeq(room) == latest.Seq })
	cb.checkRun(t, room, cb.entries[room][0].Seq, latest.Seq)
	if latest.Seq-before != 5 {
		t.Fatalf("bob was at %d, latest is %d: expected a gap of 5", before, latest.Seq)
	}
}

func TestCacheAvailableBeforeConnecting(t *testing.T) {
	r := startRelay(t)
	dir := t.TempDir()
	alice := r.client("alice", dir)
	ca := collect(alice)
	online(t, alice)
	room := newRoom(t, alice)
	for i := range 30 {
		sendText(t, alice, room, fmt.Sprintf("cached %d", i))
	}
	ca.waitFor(t, "messages", 5*time.Second, func() bool { return len(messages(ca.entries[room])) == 30 })
	alice.Close()
	r.stop() // no relay at all now

	start := time.Now()
	uri, tok := r.user("alice")
	again, err := Open(Options{Relay: r.url(), User: uri, Token: tok, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	rooms := again.Rooms()
	recent, err := again.Recent(room, 10)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if len(rooms) != 1 || rooms[0].ID != room || rooms[0].Name != "Test room" {
		t.Fatalf("rooms from cache: %+v", rooms)
	}
	if len(recent) != 10 || textOf(t, recent[9]) != "cached 29" {
		t.Fatalf("recent from cache: %v", seqs(recent))
	}
	if st := again.Status(); st.State == Online {
		t.Fatal("online without a relay")
	}
	t.Logf("open + rooms + last 10 from cache: %v", elapsed)
	// Starting against a dead relay changes nothing of that, and says so.
	again.Start()
	deadline := time.Now().Add(5 * time.Second)
	for again.Status().State != Offline && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := again.Status(); st.State != Offline || st.NextRetry.IsZero() || st.Err == nil {
		t.Fatalf("status with the relay down: %+v", st)
	}
}
