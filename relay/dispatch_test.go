package relay

import (
	"fmt"
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
