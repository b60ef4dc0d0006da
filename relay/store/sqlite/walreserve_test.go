package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// walReserveTest is the reserved WAL file of these tests: four times
// walTestLimit, so the log restarts well inside it.
const walReserveTest = 4 * walTestLimit

// TestWALReserveHoldsTheLog: with a reserved WAL the file has its size from
// open on and keeps it while the log fills and starts again at the file's
// head, commit after commit: no commit grows the file (each overwrites
// blocks it has). The checkpointer's look runs here every few commits (its
// period is an hour), so the log runs at most a few commits past walLimit.
func TestWALReserveHoldsTheLog(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenWith(dir, Options{Sync: SyncFull, Create: true, WALReserve: walReserveTest,
		walLimit: walTestLimit, checkpointEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wal := filepath.Join(dir, File+"-wal")
	if got := sizeOf(t, wal); got != walReserveTest {
		t.Fatalf("WAL file at open: %d bytes, want the reserve, %d", got, walReserveTest)
	}
	ctx := context.Background()
	a := newRelayAppender(s, 8, 5)
	// wraps counts the looks that found the log shorter than the one
	// before: it started again at the file's head in between.
	wraps, last, longest := 0, int64(0), int64(0)
	for i := 0; wraps < 3; i++ {
		if i == 1000 {
			t.Fatalf("%d commits and %d wraps of the log (longest %d bytes)", i, wraps, longest)
		}
		if _, err := a.append(ctx, walBatchSizes[i%len(walBatchSizes)]); err != nil {
			t.Fatal(err)
		}
		s.waitRestart()
		if got := sizeOf(t, wal); got != walReserveTest {
			t.Fatalf("commit %d left the WAL file at %d bytes, want the reserve, %d", i, got, walReserveTest)
		}
		if i%7 == 6 {
			n := s.passiveCheckpoint()
			if n < last {
				wraps++
			}
			last, longest = n, max(longest, n)
		}
	}
	if longest > walReserveTest {
		t.Fatalf("the log reached %d bytes, past the reserve", longest)
	}
}

// TestWALReserveAfterCrash: a store opened with a reserve on the files a
// crash left (a WAL holding committed frames SQLite has not copied into
// the database) gets every committed event: the zeros go after the log,
// which SQLite reads up to its last valid frame. Then it commits on and
// reopens.
func TestWALReserveAfterCrash(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenWith(dir, Options{Sync: SyncFull, Create: true, checkpointEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := newRelayAppender(s, 3, 7)
	for i := range 40 {
		if _, err := a.append(ctx, walBatchSizes[i%len(walBatchSizes)]); err != nil {
			t.Fatal(err)
		}
	}
	// The files as a SIGKILL would leave them: every commit was synced, no
	// checkpoint ran, the WAL is not truncated.
	crashed := t.TempDir()
	for _, suffix := range []string{"", "-wal"} {
		if err := copyFile(filepath.Join(dir, File+suffix), filepath.Join(crashed, File+suffix)); err != nil {
			t.Fatal(err)
		}
	}
	walBefore := sizeOf(t, filepath.Join(crashed, File+"-wal"))
	if walBefore == 0 || walBefore >= walReserveTest {
		t.Fatalf("the crashed WAL is %d bytes: the test needs a log under the reserve (%d)", walBefore, walReserveTest)
	}
	s.Close()

	r, err := OpenWith(crashed, Options{Sync: SyncFull, WALReserve: walReserveTest, checkpointEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got := sizeOf(t, filepath.Join(crashed, File+"-wal")); got != walReserveTest {
		t.Errorf("WAL file after open: %d bytes, want %d", got, walReserveTest)
	}
	checkHeads(ctx, t, r, a)
	b := &relayAppender{s: r, rooms: a.rooms, seqs: a.seqs, rng: a.rng}
	for i := range 10 {
		if _, err := b.append(ctx, walBatchSizes[i%len(walBatchSizes)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r, err = OpenWith(crashed, Options{Sync: SyncFull, WALReserve: walReserveTest})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkHeads(ctx, t, r, b)
}

// checkHeads checks that every room of a holds its events 1..head, each
// once, in order.
func checkHeads(ctx context.Context, t *testing.T, s *Store, a *relayAppender) {
	t.Helper()
	for i, room := range a.rooms {
		evs, err := s.EventsAfter(ctx, room, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(evs)) != a.seqs[i] {
			t.Fatalf("room %s: %d events, want %d", room, len(evs), a.seqs[i])
		}
		for j, e := range evs {
			if e.Seq != uint64(j+1) || len(e.Frame) != boundFrameSize {
				t.Fatalf("room %s: event %d is seq %d with %d bytes", room, j, e.Seq, len(e.Frame))
			}
		}
	}
}
