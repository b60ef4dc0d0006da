package owner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
	f   *os.File
}

// TryLock takes dir's lock without waiting, creating dir (0700) if needed.
// command is recorded in the lock file for the error others see.
func TryLock(dir, command string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("owner: data directory: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("owner: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Dir: dir, Holder: holder(path)}
		}
		return nil, fmt.Errorf("owner: lock %s: %w", path, err)
	}
	// The record is for people reading errors; the lock itself is the flock.
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "pid %d, mimichat %s\n", os.Getpid(), command)
	}
	return &Lock{dir: dir, f: f}, nil
}

// holder reads what the lock's holder recorded.
func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Dir is the locked data directory.
func (l *Lock) Dir() string { return l.dir }

// Release gives the lock up. The lock file stays: removing it would let a
// process lock a new file while another still holds the old one.
func (l *Lock) Release() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
