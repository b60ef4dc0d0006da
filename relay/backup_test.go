package relay

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"mimichat/proto"
)

// TestBackupWhileRunningAndRestore: a backup taken while the relay runs,
// holds its lock and keeps committing is a whole database: a relay started
// on it has the users (their tokens work), the rooms and every event that
// was acked before the backup began, in order.
func TestBackupWhileRunningAndRestore(t *testing.T) {
	dir := t.TempDir()
	s := startRelay(t, Config{Data: dir, RatePerSec: -1})
	aliceTok := addUser(t, s.Store(), "alice")
	bobTok := addUser(t, s.Store(), "bob")
	alice := dial(t, s.Addr(), aliceTok)
	room := alice.createRoom("lobby", proto.CreateRoom{Name: "Lobby", Join: proto.JoinOpen})
	for i := range 50 {
		alice.post(room, fmt.Sprintf("before %d", i))
	}
	head, err := s.db.Head(t.Context(), room)
	if err != nil {
		t.Fatal(err)
	}

	// Keep writing during the backup.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			alice.post(room, fmt.Sprintf("during %d", i))
		}
	}()
	restored := filepath.Join(t.TempDir(), "restored")
	if err := os.Mkdir(restored, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Backup(dir, filepath.Join(restored, DBFile)); err != nil {
		t.Fatalf("backup beside the running relay: %v", err)
	}
	wg.Wait()
	if fi, err := os.Stat(filepath.Join(restored, DBFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v; want 0600", fi, err)
	}
	if err := Backup(dir, filepath.Join(restored, DBFile)); err == nil {
		t.Fatal("backup overwrote an existing file")
	}

	r := startRelay(t, Config{Data: restored})
	if r.Domain() != "example.com" {
		t.Fatalf("restored domain %q", r.Domain())
	}
	bob := dial(t, r.Addr(), bobTok)
	bob.mustOp(room, proto.KindJoin, "")
	a2 := dial(t, r.Addr(), aliceTok)
	sub := a2.subscribe(room, 0)
	if sub.LastSeq < head.Seq {
		t.Fatalf("restored log ends at %d, before the %d acked before the backup", sub.LastSeq, head.Seq)
	}
	evs := a2.exactEvents(room, int(sub.LastSeq))
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("restored event %d has seq %d", i, e.Seq)
		}
	}
}
