package relay

import (
	"testing"

	"mimichat/proto"
)

// TestStorageFailureLeavesNothingHalfWritten injects storage errors with
// SQLite triggers: the request is refused with internal, nothing of it is
// stored, memory is reloaded to match the database, and the log continues
// without a gap.
func TestStorageFailureLeavesNothingHalfWritten(t *testing.T) {
	s := startRelay(t, Config{})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	room := alice.createRoom("r", proto.CreateRoom{Topic: "old"})
	alice.subscribe(room, 0)
	alice.exactEvents(room, 2)
	exec := func(q string) {
		if _, err := s.store.w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}

	// A room operation fails after its event row and in-memory change.
	exec(`CREATE TRIGGER fail_room BEFORE UPDATE ON rooms BEGIN SELECT RAISE(ABORT, 'injected'); END`)
	if _, ef := alice.op(room, proto.KindTopic, "", func(o *proto.RoomOp) { o.Value = "new" }); ef == nil || ef.Code != proto.CodeInternal {
		t.Fatalf("failed op answered %+v", ef)
	}
	exec(`DROP TRIGGER fail_room`)
	alice.send(&proto.RoomInfo{RID: 50, Room: room})
	if st := expect[*proto.RoomState](alice); st.Topic != "old" || st.LastSeq != 2 {
		t.Fatalf("after the failure: topic %q head %d, want old and 2", st.Topic, st.LastSeq)
	}

	// A message fails at its insert.
	exec(`CREATE TRIGGER fail_msg BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'injected'); END`)
	m := message(t, alice.user, room, "lost")
	m.RID = 60
	alice.send(m)
	alice.expectError(proto.CodeInternal)
	exec(`DROP TRIGGER fail_msg`)

	// Retrying both works and continues the log at seq 3 and 4.
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
