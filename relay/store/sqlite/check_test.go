package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mimichat/relay/store"
)

// checkFixture builds a store with rooms whose logs hold 1 KiB frames, each
// beginning with a findable marker ("<room>#<seq>|"): checked events up to
// checkedUpTo (then a CheckFull open records the marks), unchecked ones up
// to total.
func checkFixture(t *testing.T, rooms []string, checkedUpTo, total uint64) string {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, SyncNormal)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(t.Context(), store.User{Name: "carolmarker", URI: "mimi://example.com/u/carol", Created: time.Now()}, bytes.Repeat([]byte{7}, 32)); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, s, rooms, 1, checkedUpTo)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenWith(dir, Options{Check: CheckFull})
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, s, rooms, checkedUpTo+1, total)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func appendEvents(t *testing.T, s *Store, rooms []string, from, to uint64) {
	t.Helper()
	var b store.Batch
	for _, room := range rooms {
		if from == 1 {
			b.Rooms = append(b.Rooms, store.Room{URI: room, History: "shared", JoinPolicy: "invite", Receipts: "on"})
		}
		for seq := from; seq <= to; seq++ {
			frame := []byte(fmt.Sprintf("%s#%d|", room, seq))
			frame = append(frame, bytes.Repeat([]byte{'x'}, 1024-len(frame))...)
			b.Events = append(b.Events, store.Event{Room: room, Seq: seq, TS: int64(seq), Frame: frame})
		}
	}
	if err := s.AppendBatch(t.Context(), b); err != nil {
		t.Fatal(err)
	}
}

// corruptLeafHolding overwrites the live leaf page of table that holds
// marker with garbage, as a failing disk would.
func corruptLeafHolding(t *testing.T, dir, table, marker string) {
	t.Helper()
	size, leaves, err := LeafPages(dir, table)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, File), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, size)
	for _, n := range leaves {
		at := (n - 1) * size
		if _, err := f.ReadAt(page, at); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(page, []byte(marker)) {
			continue
		}
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, int(size)), at); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("marker %q is in no leaf of %s", marker, table)
}

// TestIncrementalCheck: the check at open finds damage in what no clean
// full check has seen (a small table, a log's tail) and refuses the open;
// damage among events a full check already saw clean is left to the
// background check, which then refuses writes and reports it; a clean
// background pass moves the marks to the heads it saw.
func TestIncrementalCheck(t *testing.T) {
	rooms := []string{"mimi://example.com/r/a", "mimi://example.com/r/b", "mimi://example.com/r/c"}
	const checked, total = 300, 320
	for _, tc := range []struct {
		name        string
		table       string
		marker      string        // "" for no damage
		budget      time.Duration // 0: DefaultTailBudget
		atOpen      bool          // the open is refused
		inBackgound bool          // the background check finds it
	}{
		{name: "clean"},
		{name: "old event", table: "events", marker: rooms[1] + "#20|", inBackgound: true},
		{name: "unchecked tail", table: "events", marker: rooms[1] + "#315|", atOpen: true},
		{name: "users table", table: "users", marker: "carolmarker", atOpen: true},
		{name: "tail beyond the budget", table: "events", marker: rooms[2] + "#315|", budget: time.Nanosecond, inBackgound: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := checkFixture(t, rooms, checked, total)
			if tc.marker != "" {
				corruptLeafHolding(t, dir, tc.table, tc.marker)
			}
			var reported atomic.Pointer[error]
			s, err := OpenWith(dir, Options{Check: CheckIncremental, TailBudget: tc.budget,
				OnDamage: func(err error) { reported.Store(&err) }})
			if tc.atOpen {
				if !errors.Is(err, ErrDamaged) {
					t.Fatalf("open: %v, want ErrDamaged", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer s.Close()
			rep := s.StartCheck()
			if tc.budget == 0 && (rep.Rooms != len(rooms) || rep.RoomsLeft != 0 || rep.TailEvents != int64(len(rooms)*(total-checked+1))) {
				t.Fatalf("report %+v: want every room's tail (%d events each) read", rep, total-checked+1)
			}
			if tc.budget != 0 && rep.RoomsLeft == 0 {
				t.Fatalf("report %+v: want rooms left to the background check", rep)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			n, err := s.WaitChecked(ctx)
			if !tc.inBackgound {
				if err != nil || n != 1 {
					t.Fatalf("background check: %d clean passes, %v; want 1, nil", n, err)
				}
				marks, err := s.CheckedMarks(t.Context())
				if err != nil || len(marks) != len(rooms) || marks[rooms[0]] != total {
					t.Fatalf("marks after a clean pass: %v, %v; want every room at %d", marks, err, total)
				}
				return
			}
			if !errors.Is(err, ErrDamaged) || reported.Load() == nil || !errors.Is(*reported.Load(), ErrDamaged) {
				t.Fatalf("background check: %d passes, %v (reported %v, other %v), want ErrDamaged", n, err, reported.Load(), *s.checkErr.Load())
			}
			err = s.AppendBatch(t.Context(), store.Batch{Events: []store.Event{{Room: rooms[0], Seq: total + 1, TS: total + 1, Frame: []byte{1}}}})
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("append after damage was found: %v, want ErrDamaged", err)
			}
			if _, err := s.DeleteEventsBefore(t.Context(), 1<<40); !errors.Is(err, ErrDamaged) {
				t.Fatalf("retention after damage was found: %v, want ErrDamaged", err)
			}
		})
	}
}

// TestBackupHasNoCheckMarks: a backup's pages are all new, so its first
// incremental check reads every log from the start.
func TestBackupHasNoCheckMarks(t *testing.T) {
	rooms := []string{"mimi://example.com/r/a"}
	dir := checkFixture(t, rooms, 50, 60)
	dest := filepath.Join(t.TempDir(), "copy", File)
	os.MkdirAll(filepath.Dir(dest), 0o700)
	if err := Backup(dir, dest); err != nil {
		t.Fatal(err)
	}
	s, err := OpenWith(filepath.Dir(dest), Options{Check: CheckIncremental})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rep := s.StartCheck(); rep.TailEvents != 60 {
		t.Fatalf("first check of a backup read %d events, want all 60", rep.TailEvents)
	}
}
