package relay

import (
	"testing"
	"time"

	"mimichat/proto"
)

func TestFanoutAndOrdering(t *testing.T) {
	s := startRelay(t, Config{RatePerSec: -1})
	st := s.Store()
	alice := dial(t, s.Addr(), addUser(t, st, "alice"))
	room := alice.createRoom("lobby", proto.CreateRoom{Name: "Lobby"})
	names := []string{"bob", "carol", "dave"}
	clients := []*client{alice}
	for _, n := range names {
		c := dial(t, s.Addr(), addUser(t, st, n))
		alice.mustOp(room, proto.KindInvite, c.user)
		c.mustOp(room, proto.KindJoin, "")
		clients = append(clients, c)
	}
	for _, c := range clients {
		c.subscribe(room, 0)
	}
	const per = 50
	done := make(chan struct{})
	for _, c := range clients {
		go func(c *client) {
			defer func() { done <- struct{}{} }()
			for i := 0; i < per; i++ {
				m := message(t, c.user, room, "hi")
				m.RID = uint64(1000 + i)
				c.send(m)
			}
		}(c)
	}
	for range clients {
		<-done
	}
	// create, name, 3 × (invite, join), then 4×50 messages.
	want := 2 + 2*len(names) + per*len(clients)
	var ref []*proto.Event
	for i, c := range clients {
		evs := c.events(room, want, 10*time.Second)
		if len(evs) != want {
			t.Fatalf("%s got %d events, want %d", c.user, len(evs), want)
		}
		for j, e := range evs {
			if e.Seq != uint64(j+1) {
				t.Fatalf("%s: event %d has seq %d", c.user, j, e.Seq)
			}
			if j > 0 && e.TS < evs[j-1].TS {
				t.Fatalf("%s: timestamp went back at seq %d", c.user, e.Seq)
			}
		}
		if i == 0 {
			ref = evs
			continue
		}
		for j := range evs {
			if evs[j].Sender != ref[j].Sender || string(evs[j].ID) != string(ref[j].ID) {
				t.Fatalf("%s and %s disagree at seq %d", c.user, alice.user, j+1)
			}
		}
	}
	if healthz(t, s.Addr()) != 200 {
		t.Fatal("healthz not ok")
	}
}

func TestDuplicateMessageIDReturnsOriginalAck(t *testing.T) {
	s := startRelay(t, Config{})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	room := alice.createRoom("r", proto.CreateRoom{})
	m := message(t, alice.user, room, "once")
	m.RID = 1
	alice.send(m)
	first := expect[*proto.Ack](alice)
	if first.Dup {
		t.Fatal("first submit marked dup")
	}
	alice.post(room, "between")
	for rid := uint64(2); rid < 4; rid++ {
		m.RID = rid
		alice.send(m)
		again := expect[*proto.Ack](alice)
		if !again.Dup || again.Seq != first.Seq || again.TS != first.TS || again.RID != rid {
			t.Fatalf("resubmit ack %+v, want original seq %d ts %d dup", again, first.Seq, first.TS)
		}
	}
	alice.subscribe(room, 0)
	evs := alice.exactEvents(room, 3)
	n := 0
	for _, e := range evs {
		if string(e.ID) == string(m.ID) {
			n++
		}
	}
	if n != 1 || len(evs) != 3 {
		t.Fatalf("log has %d copies of the message and %d events; want 1 and 3", n, len(evs))
	}
}

func TestMessageIDIsVerified(t *testing.T) {
	s := startRelay(t, Config{})
	st := s.Store()
	alice := dial(t, s.Addr(), addUser(t, st, "alice"))
	mallory := dial(t, s.Addr(), addUser(t, st, "mallory"))
	room := alice.createRoom("r", proto.CreateRoom{Join: proto.JoinOpen})
	mallory.mustOp(room, proto.KindJoin, "")
	// Mallory claims alice's message (same bytes and ID): the relay computes
	// the ID with mallory as sender, so it does not match.
	m := message(t, alice.user, room, "mine")
	m.RID = 9
	mallory.send(m)
	if e := mallory.expectError(proto.CodeBadMessageID); e.RID != 9 {
		t.Fatalf("error for rid %d", e.RID)
	}
	m.RID = 10
	alice.send(m)
	if a := expect[*proto.Ack](alice); a.Dup {
		t.Fatal("alice's own message reported as duplicate")
	}
}
