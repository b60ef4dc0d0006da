package session

import (
	"fmt"
	"testing"
	"time"

	"mimichat/proto"
)

func TestSendReceiveBetweenSessions(t *testing.T) {
	r := startRelay(t)
	alice, bob, carol := r.client("alice", ""), r.client("bob", ""), r.client("carol", "")
	ca, cb, cc := collect(alice), collect(bob), collect(carol)
	for _, s := range []*Session{alice, bob, carol} {
		online(t, s)
	}
	room := newRoom(t, alice, bob, carol)
	const n = 20
	sent := map[string]bool{}
	for i := range n {
		from := []*Session{alice, bob, carol}[i%3]
		text := fmt.Sprintf("message %d from %s", i, from.User())
		sent[text] = true
		it := sendText(t, from, room, text)
		if it.State != Pending {
			t.Fatalf("Send returned state %v, want pending", it.State)
		}
	}
	head := func(c *collector) func() bool {
		return func() bool { return len(messages(c.entries[room])) == n }
	}
	for _, c := range []*collector{ca, cb, cc} {
		c.waitFor(t, "all messages", 10*time.Second, head(c))
	}
	// Everyone sees the same log, in the same order, without holes.
	last := ca.lastSeq(room)
	for name, c := range map[string]*collector{"alice": ca, "bob": cb, "carol": cc} {
		c.mu.Lock()
		es := c.entries[room]
		c.mu.Unlock()
		first := es[0].Seq
		checkSeqs(t, es, first, last)
		got := map[string]bool{}
		for _, e := range messages(es) {
			got[textOf(t, e)] = true
		}
		if len(got) != n {
			t.Errorf("%s: %d distinct texts, want %d", name, len(got), n)
		}
		for text := range sent {
			if !got[text] {
				t.Errorf("%s: missing %q", name, text)
			}
		}
	}
	// Alice's own messages are acked with the seq the log shows.
	ca.waitFor(t, "acks", 5*time.Second, func() bool {
		acked := 0
		for _, it := range ca.outbox {
			if it.State == Acked {
				acked++
			}
		}
		return acked == 7
	})
	ca.mu.Lock()
	bySeq := map[uint64]Entry{}
	for _, e := range ca.entries[room] {
		bySeq[e.Seq] = e
	}
	for _, it := range ca.outbox {
		if e := bySeq[it.Seq]; e.ID != it.ID || string(e.Raw) != string(it.Raw) {
			t.Errorf("ack seq %d does not hold message %s", it.Seq, it.ID)
		}
	}
	ca.mu.Unlock()
	// The room's metadata reached the cache.
	got, ok := bob.Room(room)
	if !ok || got.Name != "Test room" || got.State != proto.StateJoined || got.Role != proto.RoleMember {
		t.Errorf("bob's room = %+v", got)
	}
}
