package relay

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mimichat/proto"
)

// TestRetentionSweep: with a lifetime set, the sweep deletes events and
// blobs older than it; the room keeps its newest event (so seqs continue:
// the next post gets the next seq), history below the kept range is an
// empty page (not an error the client would retry), and a deleted blob is
// 404 with its file gone. Without a lifetime nothing is deleted.
func TestRetentionSweep(t *testing.T) {
	const life = 400 * time.Millisecond
	s := startRelay(t, Config{RatePerSec: -1, Retain: life, RetainBlobs: life, SweepEvery: 50 * time.Millisecond})
	keep := startRelay(t, Config{RatePerSec: -1, SweepEvery: 50 * time.Millisecond})
	tok := addUser(t, s.Store(), "alice")
	alice := dial(t, s.Addr(), tok)
	room := alice.createRoom("lobby", proto.CreateRoom{})
	ka := dial(t, keep.Addr(), addUser(t, keep.Store(), "alice"))
	kroom := ka.createRoom("lobby", proto.CreateRoom{})
	for range 5 {
		alice.post(room, "old")
		ka.post(kroom, "old")
	}
	_, info, _, _ := postBlob(t, s.Addr(), tok, []byte("old blob"))
	time.Sleep(life + 100*time.Millisecond)
	last := alice.post(room, "new")

	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, err := s.db.EventsAfter(t.Context(), room, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 1 && evs[0].Seq == last.Seq {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events left after the sweep: %d (first seq %d), want only seq %d", len(evs), evs[0].Seq, last.Seq)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if next := alice.post(room, "newer"); next.Seq != last.Seq+1 {
		t.Fatalf("post after the sweep got seq %d, want %d", next.Seq, last.Seq+1)
	}
	alice.send(&proto.History{RID: alice.nextRID(), Room: room, Before: last.Seq, Limit: 10})
	if page := expect[*proto.HistoryPage](alice); len(page.Events) != 0 || page.More {
		t.Fatalf("history below the kept range: %d events, more %v; want an empty page", len(page.Events), page.More)
	}
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + s.Addr() + "/v1/blobs/" + info.ID)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(s.blobs.dir, info.ID)); !os.IsNotExist(err) {
		t.Fatalf("blob file after the sweep: %v", err)
	}
	if evs, _ := keep.db.EventsAfter(t.Context(), kroom, 0, 100); len(evs) < 6 {
		t.Fatalf("a relay without retention kept %d events, want all 6", len(evs))
	}
}
