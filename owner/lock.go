package owner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"mimichat/internal/flock"
)

// File names inside the data directory.
const (
	LockFile   = "mimichat.lock"
	SocketFile = "mimichat.sock"
)

// ErrLocked is wrapped by TryLock's error when another process owns the
// data directory.
var ErrLocked = errors.New("data directory is owned by another mimichat process")

// LockedError says which data directory is locked and by whom (as the
// holder recorded it: pid and command).
type LockedError struct {
	Dir    string
	Holder string
}

func (e *LockedError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("%s: %v", e.Dir, ErrLocked)
	}
	return fmt.Sprintf("%s: %v (%s)", e.Dir, ErrLocked, e.Holder)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// Lock is the exclusive lock on a data directory. The kernel releases it
// when the process dies, however it dies: a killed owner never leaves a
// stale lock (only a stale socket file, which the next owner replaces).
type Lock struct {
	dir string
	l   *flock.Lock
}

// TryLock takes dir's lock without waiting, creating dir (0700) if needed.
// command is recorded in the lock file for the error others see.
func TryLock(dir, command string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("owner: data directory: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	l, err := flock.TryLock(path, fmt.Sprintf("pid %d, mimichat %s", os.Getpid(), command))
	if err != nil {
		var he *flock.HeldError
		if errors.As(err, &he) {
			return nil, &LockedError{Dir: dir, Holder: he.Holder}
		}
		return nil, fmt.Errorf("owner: %w", err)
	}
	return &Lock{dir: dir, l: l}, nil
}

// Dir is the locked data directory.
func (l *Lock) Dir() string { return l.dir }

// Release gives the lock up. The lock file stays: removing it would let a
// process lock a new file while another still holds the old one.
func (l *Lock) Release() error {
	if l.l == nil {
		return nil
	}
	err := l.l.Release()
	l.l = nil
	return err
}
