package session

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"mimichat/content"
)

// holdWriteLock takes the store file's write lock from another connection
// (as a second mimichat process would) and releases it after d.
func holdWriteLock(t *testing.T, path string, d time.Duration) <-chan struct{} {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		time.Sleep(d)
		c.ExecContext(ctx, "COMMIT")
		c.Close()
		db.Close()
		close(released)
	}()
	t.Cleanup(func() { <-released })
	return released
}

func textMsg(t *testing.T, s *Session, room, text string) *content.Message {
	t.Helper()
	m, err := s.Builder(room).Markdown(text)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSendQueuedOrderAndNoWait: SendQueued returns at once even while
// another process holds the store's write lock; the messages are stored in
// call order once the lock goes, each Wait gives its stored row, and the
// OutboxEvents follow in that order.
func TestSendQueuedOrderAndNoWait(t *testing.T) {
	dir := t.TempDir()
	const room = "mimi://example.com/r/q"
	s, err := Open(Options{Relay: "ws://127.0.0.1:1/v1", User: "mimi://example.com/u/alice", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const lock = 500 * time.Millisecond
	released := holdWriteLock(t, filepath.Join(dir, StoreFile), lock)
	var qs []*Queued
	start := time.Now()
	for i := range 30 {
		q, err := s.SendQueued(room, textMsg(t, s, room, fmt.Sprintf("message %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if q.Item.State != Pending || q.Item.Room != room || q.Item.ID.IsZero() {
			t.Fatalf("queued item %+v", q.Item)
		}
		qs = append(qs, q)
	}
	if d := time.Since(start); d > lock/5 {
		t.Fatalf("30 SendQueued took %v with the store locked for %v", d, lock)
	}
	for i, q := range qs {
		it, err := q.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if it.ID != q.Item.ID || it.LocalID == 0 {
			t.Fatalf("message %d stored as %+v, queued as %+v", i, it, q.Item)
		}
	}
	select {
	case <-released:
	default:
		t.Fatal("the messages were stored while another connection held the write lock")
	}
	items, err := s.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(qs) {
		t.Fatalf("outbox has %d items, want %d", len(items), len(qs))
	}
	for i, it := range items {
		if it.ID != qs[i].Item.ID {
			t.Fatalf("outbox item %d is not the %d-th message sent", i, i)
		}
	}
	for i := 0; i < len(qs); {
		ev := <-s.Events()
		if oe, ok := ev.(OutboxEvent); ok {
			if oe.Item.ID != qs[i].Item.ID {
				t.Fatalf("outbox event %d is for another message", i)
			}
			i++
		}
	}
}

// TestCloseWritesQueued: messages queued when Close is called are in the
// outbox at the next Open.
func TestCloseWritesQueued(t *testing.T) {
	dir := t.TempDir()
	const room = "mimi://example.com/r/q"
	opts := Options{Relay: "ws://127.0.0.1:1/v1", User: "mimi://example.com/u/alice", DataDir: dir}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	holdWriteLock(t, filepath.Join(dir, StoreFile), 200*time.Millisecond)
	q, err := s.SendQueued(room, textMsg(t, s, room, "last words"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendQueued(room, textMsg(t, s, room, "too late")); err != ErrClosed {
		t.Fatalf("SendQueued after Close: %v, want ErrClosed", err)
	}
	s, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	items, err := s.Outbox()
	if err != nil || len(items) != 1 || items[0].ID != q.Item.ID {
		t.Fatalf("outbox after reopen: %v %+v", err, items)
	}
}
