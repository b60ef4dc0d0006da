package relay

import (
	"fmt"
	"strings"
	"testing"
)

// TestDispatchInline: the writer dispatches a batch itself only when the
// dispatcher has finished every batch before it (commit order) and the
// batch's replies and deliveries are few; otherwise the dispatcher fans it
// out beside the next commit.
func TestDispatchInline(t *testing.T) {
	roomWith := func(subs int) *room {
		r := newRoom("mimi://example.com/r/" + fmt.Sprint(subs))
		for range subs {
			r.subs[&conn{}] = struct{}{}
		}
		return r
	}
	paced, big := roomWith(50), roomWith(inlineFanout)
	events := func(r *room, n int) []outcome {
		outs := make([]outcome, n)
		for i := range outs {
			outs[i] = outcome{events: []committed{{r: r, seq: uint64(i + 1)}}}
		}
		return outs
	}
	for _, tt := range []struct {
		name    string
		pending int64 // batches at the dispatcher
		batch   []outcome
		inline  bool
	}{
		{"one paced message", 0, events(paced, 1), true},
		{"three paced messages", 0, events(paced, 3), true},
		{"dispatcher still busy", 1, events(paced, 1), false},
		{"too many deliveries", 0, events(paced, 6), false},
		{"one event to a big room", 0, events(big, 1), false},
		{"a notice", 0, []outcome{{notices: []notice{{user: "mimi://example.com/u/a"}}}}, false},
		{"replies only", 0, make([]outcome, inlineFanout), true},
		{"too many replies", 0, make([]outcome, inlineFanout+1), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := &hub{}
			h.dispatching.Store(tt.pending)
			if got := h.dispatchInline(tt.batch); got != tt.inline {
				t.Fatalf("dispatchInline = %v, want %v", got, tt.inline)
			}
		})
	}
}

// TestFanoutRun: a run of one room's events is queued subscriber by
// subscriber, each subscriber's events together and in seq order; a
// subscriber whose membership an event ends gets that event and its
// unsubscription, then none of the run's later events.
func TestFanoutRun(t *testing.T) {
	const alice, bob = "mimi://example.com/u/alice", "mimi://example.com/u/bob"
	for _, tt := range []struct {
		name string
		ends map[uint64]string // seq -> user whose membership it ends
		want map[string]string // user -> queued items
	}{
		{"three messages", nil, map[string]string{alice: "e1 e2 e3", bob: "e1 e2 e3"}},
		{"bob leaves at 2", map[uint64]string{2: bob}, map[string]string{alice: "e1 e2 e3", bob: "e1 e2 unsub"}},
		{"alice kicked at 1", map[uint64]string{1: alice}, map[string]string{alice: "e1 unsub", bob: "e1 e2 e3"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := &hub{tails: newTailCache(1 << 20)}
			r := newRoom("mimi://example.com/r/run")
			conns := map[string]*conn{}
			for _, u := range []string{alice, bob} {
				c := &conn{user: u, queue: make(chan outItem, 16), queueMax: 16}
				conns[u] = c
				r.subs[c] = struct{}{}
			}
			var run []committed
			for seq := uint64(1); seq <= 3; seq++ {
				run = append(run, committed{r: r, seq: seq, ends: tt.ends[seq], frame: []byte{byte(seq)}})
			}
			h.fanoutRun(run)
			for u, c := range conns {
				var got []string
				for len(c.queue) > 0 {
					it := <-c.queue
					switch it.kind {
					case itemEvent:
						got = append(got, fmt.Sprintf("e%d", it.seq))
					case itemUnsub:
						got = append(got, "unsub")
					default:
						got = append(got, fmt.Sprint(it.kind))
					}
				}
				if s := strings.Join(got, " "); s != tt.want[u] {
					t.Errorf("%s got %q, want %q", u, s, tt.want[u])
				}
				_, subscribed := r.subs[c]
				if ended := strings.HasSuffix(tt.want[u], "unsub"); subscribed == ended {
					t.Errorf("%s still subscribed: %v, want %v", u, subscribed, !ended)
				}
			}
		})
	}
}
