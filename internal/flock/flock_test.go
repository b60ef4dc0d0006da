package flock

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecondLockIsRefused: a second TryLock (another open file description,
// as another process would have) is refused with the holder's record, and
// succeeds once the first is released.
func TestSecondLockIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	l, err := TryLock(path, "pid 42, test")
	if err != nil {
		t.Fatal(err)
	}
	_, err = TryLock(path, "pid 43, test")
	var he *HeldError
	if !errors.As(err, &he) || !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), "pid 42") {
		t.Fatalf("second lock: %v, want a HeldError naming pid 42", err)
	}
	l.Release()
	l2, err := TryLock(path, "pid 43, test")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.Release()
}
