package flock

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// ErrHeld is wrapped by TryLock's error when another process holds the lock.
var ErrHeld = errors.New("lock held by another process")

// HeldError names the lock file and what its holder recorded in it (its pid
// and command), for the message the second process prints.
type HeldError struct {
	Path   string
	Holder string
}

func (e *HeldError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("%s: %v", e.Path, ErrHeld)
	}
	return fmt.Sprintf("%s: %v (%s)", e.Path, ErrHeld, e.Holder)
}

func (e *HeldError) Unwrap() error { return ErrHeld }

// Lock is a held lock. The kernel releases it when the process dies,
// however it dies, so a killed holder never leaves a stale lock.
type Lock struct{ f *os.File }

// TryLock takes the exclusive lock on path (created 0600) without waiting
// and writes record into the file for whoever is refused later.
func TryLock(path, record string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &HeldError{Path: path, Holder: Holder(path)}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The record is for people reading errors; the lock itself is the flock.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(record+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Holder reads what the lock's holder recorded.
func Holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Release gives the lock up. The lock file stays: removing it would let a
// process lock a new file while another still holds the old one.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
