package sqlite

import (
	"context"
	"errors"
	"testing"

	"mimichat/relay/store"
)

// TestRoomHeadCache: with the rooms' heads cached between commits,
// AppendBatch still refuses what does not follow a room's head, a refused
// batch leaves the head where it was, and a room whose whole log expired
// continues after its last seq.
func TestRoomHeadCache(t *testing.T) {
	s, err := Open(t.TempDir(), SyncNormal)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const room = "mimi://example.com/r/heads"
	if err := s.AppendBatch(ctx, store.Batch{Rooms: []store.Room{{URI: room, History: "shared", JoinPolicy: "open", Receipts: "on"}}}); err != nil {
		t.Fatal(err)
	}
	ev := func(seq uint64, ts int64) store.Batch {
		return store.Batch{Events: []store.Event{{Room: room, Seq: seq, TS: ts, Frame: []byte("x")}}}
	}
	for _, step := range []struct {
		name   string
		batch  store.Batch
		expire int64 // before the batch: expire the room's events before this ts (0: none)
		want   error
	}{
		{"first", ev(1, 10), 0, nil},
		{"next", ev(2, 20), 0, nil},
		{"gap", ev(4, 30), 0, store.ErrConflict},
		{"repeat", ev(2, 30), 0, store.ErrConflict},
		{"after the refused ones", ev(3, 30), 0, nil},
		{"ts back", ev(4, 29), 0, store.ErrConflict},
		{"unknown room", store.Batch{Events: []store.Event{{Room: room + "x", Seq: 1, TS: 1, Frame: []byte("x")}}}, 0, store.ErrNotFound},
		{"after the whole log expired", ev(4, 40), 1000, nil},
		{"gap after expiry", ev(6, 50), 0, store.ErrConflict},
		{"next after expiry", ev(5, 50), 0, nil},
	} {
		if step.expire != 0 {
			if _, err := s.ExpireRoomEvents(ctx, room, step.expire); err != nil {
				t.Fatalf("%s: expire: %v", step.name, err)
			}
		}
		err := s.AppendBatch(ctx, step.batch)
		if step.want == nil && err != nil || step.want != nil && !errors.Is(err, step.want) {
			t.Fatalf("%s: err %v, want %v", step.name, err, step.want)
		}
	}
	if h, err := s.Head(ctx, room); err != nil || h.Seq != 5 || h.TS != 50 {
		t.Fatalf("head %+v, %v; want seq 5 ts 50", h, err)
	}
}
