package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay/store/sqlite"
)

// shutdown stops s now (startRelay's cleanup then does nothing).
func shutdown(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestSecondRelayOnSameDataIsRefused: a second relay on a data directory
// in use, in this process or another, is refused with the holder's pid
// before it touches anything (an upload's temp file in blobs/.tmp stays).
func TestSecondRelayOnSameDataIsRefused(t *testing.T) {
	dir := t.TempDir()
	first := startRelay(t, Config{Data: dir})
	inProgress := filepath.Join(dir, BlobDir, blobTmp, "up-inprogress")
	if err := os.WriteFile(inProgress, []byte("half an upload"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Same process, even on the same port: refused at the lock.
	_, err := Start(Config{Data: dir, Listen: first.Addr(), Logger: discard()})
	if !errors.Is(err, ErrDataInUse) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second Start: %v, want ErrDataInUse naming pid %d", err, os.Getpid())
	}

	// Another process (the test binary as a relay child): exits 1 naming us.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(stderr.String(), fmt.Sprintf("locked by pid %d", os.Getpid())) {
			t.Fatalf("second relay process: %v, stderr %q; want exit 1 naming pid %d", err, stderr.String(), os.Getpid())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("second relay process is still running on a locked data directory")
	}
	if _, err := os.Stat(inProgress); err != nil {
		t.Fatalf("the refused relay touched blobs/.tmp: %v", err)
	}
}

// TestLostDatabaseIsRefused: a missing or empty relay.db in a directory
// that held a relay is refused (it would start an empty relay) unless
// Init; a new, empty directory starts as before.
func TestLostDatabaseIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		lose func(db string) error
	}{
		{"missing", func(db string) error { return os.Remove(db) }},
		{"empty", func(db string) error { return os.Truncate(db, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := startRelay(t, Config{Data: dir})
			addUser(t, s.Store(), "alice")
			shutdown(t, s)
			db := filepath.Join(dir, DBFile)
			if err := tc.lose(db); err != nil {
				t.Fatal(err)
			}
			_, err := Start(Config{Data: dir, Listen: "127.0.0.1:0", Logger: discard()})
			if !errors.Is(err, sqlite.ErrNoDatabase) || !strings.Contains(err.Error(), "--init") {
				t.Fatalf("Start on a lost database: %v, want ErrNoDatabase saying --init", err)
			}
			if _, err := OpenStore(dir); !errors.Is(err, sqlite.ErrNoDatabase) {
				t.Fatalf("OpenStore on a lost database: %v, want ErrNoDatabase", err)
			}
			s2 := startRelay(t, Config{Data: dir, Init: true})
			if us, err := s2.Store().Users(); err != nil || len(us) != 0 {
				t.Fatalf("after --init: users %v, %v; want a new, empty relay", us, err)
			}
		})
	}
}

// TestDamagedDatabaseIsRefused: a database with a corrupt page is refused
// at start with the repair command; with Check off the check does not
// run.
func TestDamagedDatabaseIsRefused(t *testing.T) {
	dir := t.TempDir()
	s := startRelay(t, Config{Data: dir, RatePerSec: -1})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	room := alice.createRoom("lobby", proto.CreateRoom{})
	for i := range 200 {
		alice.post(room, fmt.Sprintf("message %d %s", i, strings.Repeat("x", 500)))
	}
	shutdown(t, s)
	corruptPage(t, filepath.Join(dir, DBFile))
	_, err := Start(Config{Data: dir, Listen: "127.0.0.1:0", Logger: discard()})
	if !errors.Is(err, sqlite.ErrDamaged) || !strings.Contains(err.Error(), ".recover") {
		t.Fatalf("Start on a damaged database: %v, want ErrDamaged with the repair command", err)
	}
	for _, mode := range []string{CheckAuto, CheckQuick} {
		if _, err := Start(Config{Data: dir, Listen: "127.0.0.1:0", Logger: discard(), Check: mode}); !errors.Is(err, sqlite.ErrDamaged) {
			t.Fatalf("Start with check %s: %v, want ErrDamaged", mode, err)
		}
	}
	// Off, the damage is found only when a read reaches it (here loading
	// the rooms, or later, while serving).
	off, err := Start(Config{Data: dir, Listen: "127.0.0.1:0", Logger: discard(), Check: CheckOff})
	if errors.Is(err, sqlite.ErrDamaged) {
		t.Fatalf("Start with check off ran the check: %v", err)
	}
	if err == nil {
		shutdown(t, off)
	}
}

// corruptPage overwrites the middle of the database's second half (event
// pages) with garbage, as a failing disk would.
func corruptPage(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	at := (fi.Size() / page * 3 / 4) * page
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, page), at); err != nil {
		t.Fatal(err)
	}
}

// TestDatabaseFilesArePrivate: relay.db and its -wal and -shm are 0600
// inside a 0755 directory, and a wider file left by an older relay is
// narrowed.
func TestDatabaseFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := startRelay(t, Config{Data: dir})
	addUser(t, s.Store(), "alice")
	db := filepath.Join(dir, DBFile)
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v; want 0600", p, fi.Mode().Perm(), err)
		}
	}
	shutdown(t, s)
	os.Chmod(db, 0o644)
	startRelay(t, Config{Data: dir})
	if fi, _ := os.Stat(db); fi.Mode().Perm() != 0o600 {
		t.Fatalf("relay.db left %v, want 0600", fi.Mode().Perm())
	}
}

// TestRoomOpTargetMustBeAUser: ban, kick, unban, invite and role name a
// user of this relay; any other string is bad_field on target and stores
// nothing.
func TestRoomOpTargetMustBeAUser(t *testing.T) {
	s := startRelay(t, Config{RatePerSec: -1, ErrorBudget: 1000})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	addUser(t, s.Store(), "bob")
	room := alice.createRoom("lobby", proto.CreateRoom{})
	head, err := s.db.Head(t.Context(), room)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"mimi://x", "mimi://example.com/r/lobby", "mimi://other.org/u/bob",
		"mimi://example.com/u/Bob", "mimi://example.com/u/", "mimi://example.com/u/bob/x"} {
		for _, op := range []proto.Kind{proto.KindBan, proto.KindKick, proto.KindUnban, proto.KindInvite} {
			_, ef := alice.op(room, op, target)
			if ef == nil || ef.Code != proto.CodeBadField || ef.Field != "target" {
				t.Fatalf("%s %q: %+v, want bad_field on target", op, target, ef)
			}
		}
	}
	alice.mustOp(room, proto.KindBan, "mimi://example.com/u/bob")
	if got, _ := s.db.Head(t.Context(), room); got.Seq != head.Seq+1 {
		t.Fatalf("log head %d after refused ops and one ban, want %d", got.Seq, head.Seq+1)
	}
}

// TestDamageFoundAfterStartRefusesWrites: on a database above the whole
// check's size limit, the start checks only what no clean check has seen,
// so damage among old events lets the relay start; the background check
// finds it, the relay logs the repair commands and answers every write
// with a retryable internal error, and nothing more is stored.
func TestDamageFoundAfterStartRefusesWrites(t *testing.T) {
	dir := t.TempDir()
	s := startRelay(t, Config{Data: dir, RatePerSec: -1})
	tok := addUser(t, s.Store(), "alice")
	alice := dial(t, s.Addr(), tok)
	room := alice.createRoom("lobby", proto.CreateRoom{})
	for i := range 200 {
		alice.post(room, fmt.Sprintf("old-event-%04d! %s", i, strings.Repeat("x", 500)))
	}
	shutdown(t, s)
	// A whole check records every room's log as checked up to its head.
	shutdown(t, startRelay(t, Config{Data: dir, Check: CheckQuick}))

	size, leaves, err := sqlite.LeafPages(dir, "events")
	if err != nil {
		t.Fatal(err)
	}
	corruptLeaf(t, filepath.Join(dir, DBFile), size, leaves, []byte("old-event-0020!"))

	logs := &syncBuffer{}
	s = startRelay(t, Config{Data: dir, RatePerSec: -1, CheckFullMax: -1,
		Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	alice = dial(t, s.Addr(), tok)
	head, err := s.db.Head(t.Context(), room)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "relay database is damaged") {
		if time.Now().After(deadline) {
			t.Fatalf("the background check reported no damage; log:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), ".recover") {
		t.Fatalf("the damage report does not say how to repair; log:\n%s", logs.String())
	}
	m := message(t, alice.user, room, "after the damage was found")
	m.RID = alice.nextRID()
	alice.send(m)
	if ef := alice.expectError(proto.CodeInternal); !strings.Contains(ef.Reason, "damaged") {
		t.Fatalf("write after damage: %+v, want internal saying the database is damaged", ef)
	}
	if _, ef := alice.op(room, proto.KindTopic, "", func(o *proto.RoomOp) { o.Value = "t" }); ef == nil || ef.Code != proto.CodeInternal {
		t.Fatalf("room op after damage: %+v, want internal", ef)
	}
	if got, _ := s.db.Head(t.Context(), room); got != head {
		t.Fatalf("log head moved from %+v to %+v after the damage was found", head, got)
	}
}

// corruptLeaf overwrites the first of leaves (page numbers) holding marker
// with garbage, as a failing disk would.
func corruptLeaf(t *testing.T, path string, page int64, leaves []int64, marker []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, page)
	for _, n := range leaves {
		if _, err := f.ReadAt(buf, (n-1)*page); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(buf, marker) {
			if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, int(page)), (n-1)*page); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("%q is in no leaf", marker)
}
