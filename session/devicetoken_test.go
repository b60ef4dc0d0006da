package session

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// copyDataDir copies a closed session's data directory (a thief's copy of
// a laptop's disk), modes kept.
func copyDataDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(dst, info.Mode().Perm())
		}
		if !info.Mode().IsRegular() {
			return nil // the owner's socket
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitRevoked waits until s stopped because its device was removed.
func waitRevoked(t *testing.T, s *Session) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := s.Status()
		if p := st.Problem(); st.State == Stopped && p != nil && p.Problem == ProblemRevoked {
			if !strings.Contains(p.Summary(), "removed") {
				t.Fatalf("summary %q does not say the device was removed", p.Summary())
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: status %v (%v), want stopped: device revoked", s.Device(), st.State, st.Err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRemovedDeviceCopyIsRefused: alice's laptop is stolen with its data
// directory (cache, device keys, the token file). From her phone she
// removes the laptop: the laptop's live session is cut with
// device_revoked at once, and the thief's copy of the directory is refused
// with the same typed reason, so it cannot resync, claim, upload
// KeyPackages or rejoin by external commit — also after a relay restart.
// Messages sent after the removal are not in the copy and do not decrypt
// with its group state. The phone and bob go on.
func TestRemovedDeviceCopyIsRefused(t *testing.T) {
	r := startRelay(t)
	laptopDir := t.TempDir()
	laptop, bob := r.client("alice", laptopDir), r.client("bob", "")
	collect(laptop)
	cb := collect(bob)
	online(t, laptop)
	online(t, bob)
	room := newRoom(t, laptop, bob)
	phone := r.client("alice", "")
	cp := collect(phone)
	online(t, phone)
	waitEpochs(t, room, laptop, bob, phone)
	sendText(t, bob, room, "before the theft")
	waitText(t, cp, room, "before the theft")

	tok, err := os.ReadFile(filepath.Join(laptopDir, TokenFile))
	if err != nil {
		t.Fatalf("the laptop keeps no token file: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(laptopDir, TokenFile)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	laptopDevice := laptop.Device()
	laptop.Close()
	stolenDir := t.TempDir()
	copyDataDir(t, laptopDir, stolenDir)
	laptop = r.client("alice", laptopDir)
	collect(laptop)
	online(t, laptop)

	if _, err := phone.RemoveDevice(ctx10(t), laptopDevice); err != nil {
		t.Fatal(err)
	}
	waitRevoked(t, laptop) // the live session, cut at once

	_, userTok := r.user("alice")
	openStolen := func() *Session {
		t.Helper()
		s, err := Open(Options{Relay: r.url(), User: laptop.User(), Token: userTok, DataDir: stolenDir,
			Backoff: Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if s.Device() != laptopDevice || s.helloToken() != strings.TrimSpace(string(tok)) {
			t.Fatal("the copy is not the laptop")
		}
		collect(s)
		s.Start()
		return s
	}
	stolen := openStolen()
	waitRevoked(t, stolen)
	if _, _, err := stolen.NewDeviceToken(ctx10(t)); !errors.Is(err, ErrOffline) {
		t.Fatalf("the copy asking for a token: %v, want offline", err)
	}

	waitEpochs(t, room, bob, phone)
	after := sendText(t, bob, room, "after the removal")
	waitText(t, cp, room, "after the removal")
	mine := sendText(t, phone, room, "the phone goes on")
	waitText(t, cb, room, "the phone goes on")
	for _, w := range [][]byte{wireOf(t, bob, after.ID), wireOf(t, phone, mine.ID)} {
		if err := tryDecrypt(stolen, room, w); err == nil {
			t.Fatal("the stolen copy decrypted a message sent after the removal")
		}
	}
	stolen.Close()

	r.stop()
	r.start()
	waitRevoked(t, openStolen())
	// The phone reconnects to the restarted relay and still works.
	online(t, phone)
	sendText(t, phone, room, "after the restart")
	waitText(t, cb, room, "after the restart")
}
