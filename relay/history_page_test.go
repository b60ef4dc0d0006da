package relay

import (
	"strings"
	"testing"
	"time"

	"mimichat/proto"
)

// TestHistoryPageWithinClientFrame: a history page of large events holds
// only as many of the newest as fit the largest frame a client reads
// (proto.MaxRelayFrame) and says more; the pages before it bring the rest,
// each event once. Before, a page of 500 events of up to max_frame each
// could pass it: the client's read failed, the connection closed, and the
// client asked for the same page again.
func TestHistoryPageWithinClientFrame(t *testing.T) {
	s := startRelay(t, Config{RatePerSec: -1, ReadBytesPerSec: -1})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	room := alice.createRoom("big", proto.CreateRoom{Name: "Big"})
	const n, body = 180, 60 << 10 // 180 events of ~60 KiB: ~10.8 MiB
	var head uint64
	for i := range n {
		head = alice.post(room, strings.Repeat(string(rune('a'+i%26)), body)).Seq
	}

	var got []uint64
	before := uint64(0)
	for pages := 0; ; pages++ {
		if pages == 10 {
			t.Fatalf("10 pages and still more: %d events read", len(got))
		}
		alice.send(&proto.History{RID: alice.nextRID(), Room: room, Before: before, Limit: proto.MaxHistoryLimit})
		var page *proto.HistoryPage
		for page == nil {
			switch v := alice.next(20 * time.Second).(type) {
			case *proto.HistoryPage:
				page = v
			case *proto.ErrorFrame:
				t.Fatalf("history: %s: %s", v.Code, v.Reason)
			}
		}
		data, err := proto.Encode(page)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > proto.MaxRelayFrame {
			t.Fatalf("page %d: %d events in a %d-byte frame, over the %d a client reads", pages, len(page.Events), len(data), proto.MaxRelayFrame)
		}
		if len(page.Events) == 0 {
			t.Fatalf("page %d is empty", pages)
		}
		for i := len(page.Events) - 1; i >= 0; i-- {
			got = append(got, page.Events[i].Seq)
		}
		if !page.More {
			break
		}
		before = page.Events[0].Seq
	}
	// Newest first, every seq from the head down to 1 once (the room's own
	// events before the messages included).
	for i, seq := range got {
		if seq != head-uint64(i) {
			t.Fatalf("event %d read is seq %d, want %d (read: %v)", i, seq, head-uint64(i), got)
		}
	}
	if uint64(len(got)) != head {
		t.Fatalf("read %d events, the head is %d", len(got), head)
	}
}
