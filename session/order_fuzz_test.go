package session

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"mimichat/proto"
)

// FuzzArrivalOrder feeds one room's log to the ordering code in any order,
// with duplicates and losses, and answers its gap-fill requests from the
// true log. Whatever arrives, the consumer must get 1..N, in order, once.
// The fill requests are real encoded frames; only the socket is absent.
func FuzzArrivalOrder(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5})
	f.Add([]byte{5, 4, 3, 2, 1})
	f.Add([]byte{3, 3, 1, 9, 9, 2})
	f.Add([]byte{40})
	f.Add([]byte{})
	st, err := OpenStore(filepath.Join(f.TempDir(), StoreFile))
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	var roomN atomic.Int64
	f.Fuzz(func(t *testing.T, arrivals []byte) {
		if len(arrivals) > 200 {
			arrivals = arrivals[:200]
		}
		room := fmt.Sprintf("mimi://example.com/r/f%d", roomN.Add(1))
		// The true log is 1..N where N is the highest seq that arrives.
		var n uint64
		for _, a := range arrivals {
			n = max(n, uint64(a%64)+1)
		}
		truth := make([]proto.Event, n)
		for i := range truth {
			e := msgEntry(room, uint64(i+1))
			truth[i] = proto.Event{Room: room, Seq: e.Seq, TS: e.Time.UnixMilli(), Sender: e.Sender, Kind: e.Kind, ID: e.ID[:], Content: e.Raw}
		}
		s := &Session{opts: Options{User: "mimi://example.com/u/bob"}, store: st, q: newEventQueue(),
			rooms: map[string]*roomSync{room: {Room: Room{ID: room, State: proto.StateJoined, Low: 1}}}}
		s.ctx, s.cancel = context.WithCancel(context.Background())
		defer s.q.close()
		c := &conn{out: make(chan []byte, 4096), done: make(chan struct{}), waiters: map[uint64]chan proto.Frame{},
			fills: map[uint64]string{}}

		s.mu.Lock()
		for i, a := range arrivals {
			s.handleFrame(c, &truth[uint64(a%64)%n])
			if i%7 == 6 {
				s.flushLocked(c)
			}
		}
		s.flushLocked(c)
		// Answer fill requests until none is left (bounded).
		for range 100 {
			if len(c.out) == 0 {
				break
			}
			fr, err := proto.Decode(<-c.out)
			if err != nil {
				t.Fatal(err)
			}
			h := fr.(*proto.History)
			lo := h.Before - min(h.Limit, h.Before-1)
			page := &proto.HistoryPage{RID: h.RID, Room: room, Events: truth[lo-1 : h.Before-1]}
			s.handleFrame(c, page)
			s.flushLocked(c)
		}
		s.mu.Unlock()

		var got []Entry
		deadline := time.After(5 * time.Second)
		for uint64(len(got)) < n {
			select {
			case ev := <-s.q.out:
				if e, ok := ev.(EntriesEvent); ok {
					got = append(got, e.Entries...)
				}
			case <-deadline:
				t.Fatalf("delivered %v of 1..%d", seqs(got), n)
			}
		}
		checkSeqs(t, got, 1, n)
		cached, err := st.Recent(room, 1000)
		if err != nil {
			t.Fatal(err)
		}
		checkSeqs(t, cached, 1, n)
	})
}
