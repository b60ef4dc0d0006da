package sqlite

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"mimichat/relay/store"
)

// TestWALRestartAfterReturn: a WAL restart (the WAL over walLimit) runs
// after the AppendBatch that found it due has returned, so the batch's
// acks and fan-out never wait for it; it still runs, before the next
// commit. A reader holding an old snapshot makes the restart wait its busy
// timeout (restartWait), so one that ran inside AppendBatch would be done
// by its return.
func TestWALRestartAfterReturn(t *testing.T) {
	s, err := Open(t.TempDir(), SyncNormal)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const room = "mimi://example.com/r/restart"
	ev := func(seq uint64) store.Batch {
		return store.Batch{Events: []store.Event{{Room: room, Seq: seq, TS: int64(seq), Frame: []byte("x")}}}
	}
	if err := s.AppendBatch(ctx, store.Batch{Rooms: []store.Room{{URI: room, History: "shared", JoinPolicy: "open", Receipts: "on"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendBatch(ctx, ev(1)); err != nil {
		t.Fatal(err)
	}
	rc := holdReadSnapshot(ctx, t, s)
	s.walOver.Store(true)
	if err := s.AppendBatch(ctx, ev(2)); err != nil {
		t.Fatal(err)
	}
	if got := s.walRestarts.Load(); got != 0 {
		t.Fatalf("%d WAL restarts done when AppendBatch returned: it waited for the restart", got)
	}
	if _, err := rc.ExecContext(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}
	// The next commit runs after the restart (the writer's one connection).
	if err := s.AppendBatch(ctx, ev(3)); err != nil {
		t.Fatal(err)
	}
	s.waitRestart()
	if got := s.walRestarts.Load(); got != 1 {
		t.Fatalf("%d WAL restarts after the next commit, want 1", got)
	}
}

// holdReadSnapshot opens a read transaction on a reader connection and
// reads from it, so it holds a WAL snapshot (no checkpoint can copy past
// it) until the caller commits; the connection closes at the test's end.
func holdReadSnapshot(ctx context.Context, t *testing.T, s *Store) *sql.Conn {
	t.Helper()
	rc, err := s.r.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	if _, err := rc.ExecContext(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := rc.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return rc
}
