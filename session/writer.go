package session

import (
	"bytes"
	"fmt"
	"sync"

	"mimichat/content"
	"mimichat/proto"
)

// Queued is a message SendQueued accepted: its outbox item as it will be
// stored, at once, and the outcome of the durable write, later.
type Queued struct {
	// Item is the outbox item before it is stored: Room, ID, Raw, Created,
	// State Pending; LocalID is 0 until the row exists.
	Item OutboxItem

	done   chan struct{}
	stored OutboxItem
	err    error
}

// Wait blocks until the outbox row is durable (or could not be written)
// and returns the stored item.
func (q *Queued) Wait() (OutboxItem, error) {
	<-q.done
	return q.stored, q.err
}

// outboxWriter stores queued messages in the order SendQueued took them,
// off the caller's goroutine: a UI's event loop must not wait for an fsync.
// Whatever is queued when the writer wakes goes in one transaction.
type outboxWriter struct {
	mu     sync.Mutex
	queue  []*Queued
	closed bool
	wake   chan struct{}
	done   chan struct{}
}

func newOutboxWriter() *outboxWriter {
	return &outboxWriter{wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// SendQueued is Send for a caller that must not wait for the disk, such as
// a Bubble Tea Update: it encodes m and computes its message ID, queues it
// and returns at once. One session goroutine writes queued messages to the
// outbox in call order (several per transaction); then the OutboxEvent
// (Pending) follows as with Send, the pump submits it, and Wait returns.
// Close writes what is still queued before it closes the store.
func (s *Session) SendQueued(room string, m *content.Message) (*Queued, error) {
	raw, err := m.Encode()
	if err != nil {
		return nil, fmt.Errorf("session: send to %s: %w", room, err)
	}
	return s.SendRawQueued(room, raw)
}

// SendRawQueued is SendQueued for content already encoded.
func (s *Session) SendRawQueued(room string, raw []byte) (*Queued, error) {
	if len(raw) > proto.DefaultMaxContent {
		return nil, fmt.Errorf("session: send to %s: content is %d bytes, the limit is %d", room, len(raw), proto.DefaultMaxContent)
	}
	id, err := content.ComputeID(s.opts.User, room, raw)
	if err != nil {
		return nil, fmt.Errorf("session: send to %s: %w", room, err)
	}
	q := &Queued{Item: OutboxItem{Room: room, ID: id, Raw: raw, State: Pending, Created: s.opts.Now()}, done: make(chan struct{})}
	w := s.writer
	w.mu.Lock()
	if w.closed || s.ctx.Err() != nil {
		w.mu.Unlock()
		return nil, ErrClosed
	}
	w.queue = append(w.queue, q)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return q, nil
}

// writeLoop stores queued messages until the writer is closed and empty.
func (s *Session) writeLoop() {
	w := s.writer
	defer close(w.done)
	for {
		w.mu.Lock()
		batch, closed := w.queue, w.closed
		w.queue = nil
		w.mu.Unlock()
		if len(batch) > 0 {
			s.writeBatch(batch)
			continue
		}
		if closed {
			return
		}
		<-w.wake
	}
}

// writeBatch stores batch in one transaction, then reports each item: a
// message ID already in the outbox with other content is an error for that
// item only.
func (s *Session) writeBatch(batch []*Queued) {
	items := make([]OutboxItem, len(batch))
	for i, q := range batch {
		items[i] = q.Item
	}
	stored, err := s.store.EnqueueAll(items)
	for i, q := range batch {
		switch {
		case err != nil:
			q.err = err
		case !bytes.Equal(stored[i].Raw, q.Item.Raw):
			q.stored = stored[i]
			q.err = fmt.Errorf("session: send to %s: message ID %s is already in the outbox with other content", q.Item.Room, q.Item.ID)
		default:
			q.stored = stored[i]
			s.q.push(OutboxEvent{stored[i]})
		}
		close(q.done)
	}
	if err == nil {
		s.wakePump()
	}
}

// closeWriter stops taking messages and waits until the queued ones are
// written.
func (s *Session) closeWriter() {
	w := s.writer
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.done
}
