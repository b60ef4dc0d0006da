package sqlite

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"mimichat/relay/store"
)

// TestWriterStmtsCached: the writer's lookups are prepared once and reused,
// a transaction never waits to prepare one (the writer's one connection is
// the transaction's), and the answers are the store's whichever path ran.
func TestWriterStmtsCached(t *testing.T) {
	for _, tc := range []struct {
		name      string
		lookFirst bool // Submitted before AppendBatch, as the relay's writer does
	}{{"lookup first", true}, {"append alone", false}} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(t.TempDir(), SyncNormal)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			const room = "mimi://example.com/r/stmts"
			if err := s.AppendBatch(ctx, store.Batch{Rooms: []store.Room{{URI: room, History: "shared", JoinPolicy: "open", Receipts: "on"}}}); err != nil {
				t.Fatal(err)
			}
			key := func(i int) []byte { k := store.SubmitKey(fmt.Appendf(nil, "stmts %d", i)); return k[:] }
			seq := uint64(0)
			for n := 1; n <= 3; n++ { // batches of 1, 2, 3 keys: three IN-list lengths
				for range 2 {
					var keys [][]byte
					var b store.Batch
					for range n {
						seq++
						keys = append(keys, key(int(seq)))
						b.Events = append(b.Events, store.Event{Room: room, Seq: seq, TS: int64(seq), Key: keys[len(keys)-1], Frame: []byte("x")})
					}
					if tc.lookFirst {
						st, err := s.Submitted(ctx, room, keys)
						if err != nil {
							t.Fatal(err)
						}
						for i, x := range st {
							if x.Seq != 0 {
								t.Fatalf("key %d of a new batch found at seq %d", i, x.Seq)
							}
						}
					}
					if err := s.AppendBatch(ctx, b); err != nil {
						t.Fatal(err)
					}
				}
			}
			// Every key is found at its seq, and a resubmission is refused.
			var keys [][]byte
			for i := 1; i <= int(seq); i++ {
				keys = append(keys, key(i))
			}
			st, err := s.Submitted(ctx, room, keys)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range st {
				if x.Seq != uint64(i+1) {
					t.Fatalf("key %d found at seq %d, want %d", i+1, x.Seq, i+1)
				}
			}
			err = s.AppendBatch(ctx, store.Batch{Events: []store.Event{{Room: room, Seq: seq + 1, TS: int64(seq + 1), Key: key(1), Frame: []byte("x")}}})
			if !errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("resubmitted key: err %v, want ErrDuplicate", err)
			}
			s.stmts.mu.Lock()
			cached := len(s.stmts.stmts)
			s.stmts.mu.Unlock()
			// The head query, and with the lookups first the final one's read
			// of the events its keys' tail entries name (new keys are not in
			// submit_index's filter, so no lookup here probes the index:
			// keyfilter.go).
			want := 1
			if tc.lookFirst {
				want = 2
			}
			if cached < want {
				t.Fatalf("%d statements cached, want at least %d", cached, want)
			}
		})
	}
}
