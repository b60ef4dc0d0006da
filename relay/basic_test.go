package relay

import (
	"bytes"
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

// TestResubmissionIsKeyedOnContent: the relay dedupes on what it can see,
// the content bytes, per room; it does not read the message ID. A copy of
// someone else's stored message is answered with the original's stamp and
// stores nothing, so it cannot be re-posted under another sender; the same
// bytes in another room are a new message; the original sender's retry is
// still answered with its own seq.
func TestResubmissionIsKeyedOnContent(t *testing.T) {
	s := startRelay(t, Config{})
	st := s.Store()
	alice := dial(t, s.Addr(), addUser(t, st, "alice"))
	mallory := dial(t, s.Addr(), addUser(t, st, "mallory"))
	room := alice.createRoom("r", proto.CreateRoom{Join: proto.JoinOpen})
	other := alice.createRoom("other", proto.CreateRoom{Join: proto.JoinOpen})
	mallory.mustOp(room, proto.KindJoin, "")
	mallory.mustOp(other, proto.KindJoin, "")
	m := message(t, alice.user, room, "mine")
	m.RID = 9
	alice.send(m)
	orig := expect[*proto.Ack](alice)
	if orig.Dup {
		t.Fatal("first submit marked dup")
	}

	copied := *m
	copied.RID, copied.ID = 10, bytes.Repeat([]byte{7}, proto.MessageIDSize) // any claimed ID
	mallory.send(&copied)
	if a := expect[*proto.Ack](mallory); !a.Dup || a.Seq != orig.Seq || a.RID != 10 {
		t.Fatalf("copy answered %+v, want dup of seq %d", a, orig.Seq)
	}
	copied.RID, copied.Room = 11, other
	mallory.send(&copied)
	if a := expect[*proto.Ack](mallory); a.Dup {
		t.Fatalf("the same bytes in another room answered %+v, want a new message", a)
	}

	m.RID = 12
	alice.send(m)
	if a := expect[*proto.Ack](alice); !a.Dup || a.Seq != orig.Seq || a.TS != orig.TS {
		t.Fatalf("alice's retry answered %+v, want her original seq %d", a, orig.Seq)
	}
	mallory.subscribe(room, orig.Seq-1)
	evs := mallory.exactEvents(room, 1)
	if evs[0].Sender != alice.user || !bytes.Equal(evs[0].ID, m.ID) {
		t.Fatalf("stored %+v, want alice's message once", evs[0])
	}
}
