package relay

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"mimichat/proto"
)

// TestReplayAcrossCacheAndDatabase: a subscriber far behind replays the
// old part from SQLite and the recent part from the tail cache, in order,
// with nothing missing or repeated, and the cache stays bounded.
func TestReplayAcrossCacheAndDatabase(t *testing.T) {
	s := startRelay(t, Config{RatePerSec: -1})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	room := alice.createRoom("r", proto.CreateRoom{})
	const n = tailEvents + 300
	go func() {
		for i := 0; i < n; i++ {
			m := message(t, alice.user, room, fmt.Sprintf("m%d", i))
			m.RID = uint64(i + 1)
			alice.send(m)
		}
	}()
	for i := 0; i < n; i++ {
		expect[*proto.Ack](alice)
	}
	r := s.hub.room(room)
	// Nothing has replayed yet: the cache is not loaded.
	if r.tail.loaded {
		t.Fatal("tail loaded before any replay")
	}
	for _, since := range []uint64{0, 5, n - 10, n + 1} {
		c := dial(t, s.Addr(), addUser(t, s.Store(), fmt.Sprintf("u%d", since)))
		alice.mustOp(room, proto.KindInvite, c.user)
		c.mustOp(room, proto.KindJoin, "")
		c.subscribe(room, since)
		head := r.head
		evs := c.events(room, int(head-since), 10*time.Second)
		if len(evs) != int(head-since) {
			t.Fatalf("since %d: %d events, want %d", since, len(evs), head-since)
		}
		for i, e := range evs {
			if e.Seq != since+uint64(i)+1 {
				t.Fatalf("since %d: event %d has seq %d", since, i, e.Seq)
			}
		}
		alice.post(room, "live")
		if live := c.events(room, 1, 5*time.Second); len(live) != 1 || live[0].Seq != head+1 {
			t.Fatalf("since %d: live event after replay %+v", since, live)
		}
	}
	r.tail.mu.Lock()
	defer r.tail.mu.Unlock()
	if !r.tail.loaded || r.tail.n != tailEvents || len(r.tail.ring) != tailEvents {
		t.Fatalf("tail holds %d events in a ring of %d, want %d", r.tail.n, len(r.tail.ring), tailEvents)
	}
	last := r.tail.at(r.tail.n - 1)
	stored, err := s.db.EventsAfter(t.Context(), room, last.seq-1, 1)
	if err != nil || len(stored) != 1 || !bytes.Equal(stored[0].Frame, last.frame) {
		t.Fatal("tail's newest event differs from the stored one")
	}
}
