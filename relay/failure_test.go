package relay

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"mimichat/proto"
	"mimichat/relay/store"
	"mimichat/relay/store/sqlite"
)

// failingStore is the real SQLite store with an injected fault: while
// failNext is set, AppendBatch stores nothing and fails, as a full disk or
// a lost database would make it.
type failingStore struct {
	store.Store
	failNext atomic.Bool
}

func (f *failingStore) AppendBatch(ctx context.Context, b store.Batch) error {
	if f.failNext.Load() {
		return errors.New("injected storage failure")
	}
	return f.Store.AppendBatch(ctx, b)
}

// TestStorageFailureLeavesNothingHalfWritten injects storage errors: the
// request is refused with internal, nothing of it is stored, memory is
// reloaded to match the store (the room operation had already changed it),
// and the log continues without a gap.
func TestStorageFailureLeavesNothingHalfWritten(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(dir, sqlite.SyncFull)
	if err != nil {
		t.Fatal(err)
	}
	fs := &failingStore{Store: db}
	s := startRelay(t, Config{Data: dir, Store: fs})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	room := alice.createRoom("r", proto.CreateRoom{Topic: "old"})
	alice.subscribe(room, 0)
	alice.exactEvents(room, 2)

	// A room operation fails after its in-memory change.
	fs.failNext.Store(true)
	if _, ef := alice.op(room, proto.KindTopic, "", func(o *proto.RoomOp) { o.Value = "new" }); ef == nil || ef.Code != proto.CodeInternal {
		t.Fatalf("failed op answered %+v", ef)
	}
	fs.failNext.Store(false)
	alice.send(&proto.RoomInfo{RID: 50, Room: room})
	if st := expect[*proto.RoomState](alice); st.Topic != "old" || st.LastSeq != 2 {
		t.Fatalf("after the failure: topic %q head %d, want old and 2", st.Topic, st.LastSeq)
	}

	// A message fails.
	fs.failNext.Store(true)
	m := message(t, alice.user, room, "lost")
	m.RID = 60
	alice.send(m)
	alice.expectError(proto.CodeInternal)
	fs.failNext.Store(false)

	// Retrying both works and continues the log at seq 3 and 4; the retried
	// message is new, not a duplicate of the one that failed.
	ok := alice.mustOp(room, proto.KindTopic, "", func(o *proto.RoomOp) { o.Value = "new" })
	m.RID = 61
	alice.send(m)
	ack := expect[*proto.Ack](alice)
	if ok.Seq != 3 || ack.Seq != 4 || ack.Dup {
		t.Fatalf("after recovery: op seq %d, message seq %d dup %v; want 3 and 4", ok.Seq, ack.Seq, ack.Dup)
	}
	evs := alice.exactEvents(room, 2)
	if evs[0].Seq != 3 || evs[0].Value != "new" || evs[1].Seq != 4 {
		t.Fatalf("subscriber saw %+v", evs)
	}
	if h, err := db.Head(t.Context(), room); err != nil || h.Seq != 4 {
		t.Fatalf("stored head %+v, %v; want seq 4", h, err)
	}
}

func TestUnsubscribe(t *testing.T) {
	s := startRelay(t, Config{})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	room := alice.createRoom("r", proto.CreateRoom{})
	alice.subscribe(room, 0)
	alice.exactEvents(room, 1)
	alice.send(&proto.Unsubscribe{RID: 7, Room: room})
	if ok := expect[*proto.OK](alice); ok.RID != 7 {
		t.Fatalf("unsubscribe answered %+v", ok)
	}
	alice.post(room, "unseen")
	alice.exactEvents(room, 0)
	alice.subscribe(room, 1)
	alice.exactEvents(room, 1)
}
