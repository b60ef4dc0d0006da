package session

import (
	"errors"
	"fmt"
	"time"

	"mimichat/content"
	"mimichat/proto"
)

// Outbox pacing.
const (
	ackTimeout  = 30 * time.Second // resend (same ID) if no ack by then
	pumpTick    = time.Second      // recheck the outbox this often
	maxInflight = 64               // submits awaiting an ack at once
	submitBurst = 32               // submits sent back to back before pacing
)

// tokenBucket paces submits to the relay's advertised rate, allowing a
// burst, so a queue of messages drains quickly without rate_limited errors.
type tokenBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newTokenBucket(rate float64, burst int) *tokenBucket {
	return &tokenBucket{rate: rate, burst: float64(burst), tokens: float64(burst)}
}

// take spends one token and returns how long to wait before the next send
// (0 while tokens remain or when the rate is unlimited).
func (b *tokenBucket) take(now time.Time) time.Duration {
	if b.rate <= 0 {
		return 0
	}
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// Send encodes m, computes its message ID and stores it in the outbox. It
// returns once the outbox row is durable, before any network activity; the
// session submits it when online and reports the outcome as OutboxEvents.
// It is SendQueued and Wait: sends are stored in call order whichever is used.
func (s *Session) Send(room string, m *content.Message) (OutboxItem, error) {
	q, err := s.SendQueued(room, m)
	if err != nil {
		return OutboxItem{}, err
	}
	return q.Wait()
}

// SendRaw is Send for content already encoded.
func (s *Session) SendRaw(room string, raw []byte) (OutboxItem, error) {
	q, err := s.SendRawQueued(room, raw)
	if err != nil {
		return OutboxItem{}, err
	}
	return q.Wait()
}

// Retry puts a failed message back in the queue.
func (s *Session) Retry(id content.MessageID) error {
	if err := s.store.MarkRetry(id); err != nil {
		return err
	}
	s.emitOutbox(id)
	s.wakePump()
	return nil
}

// Discard drops a failed (or acked) message from the outbox.
func (s *Session) Discard(id content.MessageID) error {
	return s.store.Discard(id)
}

func (s *Session) wakePump() {
	select {
	case s.pumpWake <- struct{}{}:
	default:
	}
}

func (s *Session) emitOutbox(id content.MessageID) {
	it, err := s.store.OutboxItem(id)
	if err != nil {
		s.q.push(ErrorEvent{err})
		return
	}
	s.q.push(OutboxEvent{it})
}

// pump submits pending outbox items on c, oldest first, paced by the
// relay's rate, until c ends.
func (s *Session) pump(c *conn) {
	tick := time.NewTicker(pumpTick)
	defer tick.Stop()
	bucket := newTokenBucket(float64(c.welcome.RatePerSec), submitBurst)
	for {
		s.pumpOnce(c, bucket)
		select {
		case <-c.done:
			return
		case <-s.pumpWake:
		case <-tick.C:
		}
	}
}

func (s *Session) pumpOnce(c *conn, bucket *tokenBucket) {
	items, err := s.store.Outbox(Pending)
	if err != nil {
		s.q.push(ErrorEvent{err})
		return
	}
	for _, it := range items {
		c.mu.Lock()
		sent, busy := c.sentAt[it.ID]
		n := len(c.sentAt)
		c.mu.Unlock()
		if busy && time.Since(sent) < ackTimeout {
			continue
		}
		if n >= maxInflight {
			return
		}
		if wait, fail := s.sealForSubmit(&it); fail != "" {
			if err := s.store.MarkFailed(it.ID, fail); err != nil {
				s.q.push(ErrorEvent{err})
			}
			s.emitOutbox(it.ID)
			continue
		} else if wait {
			continue
		}
		rid := s.rid()
		c.mu.Lock()
		c.submits[rid] = it.ID
		c.sentAt[it.ID] = time.Now()
		c.mu.Unlock()
		if err := s.store.MarkAttempt(it.ID); err != nil {
			s.q.push(ErrorEvent{err})
		}
		if err := c.send(&proto.Submit{RID: rid, Room: it.Room, ID: it.ID[:], Content: it.submitted()}); err != nil {
			c.mu.Lock()
			delete(c.submits, rid)
			delete(c.sentAt, it.ID)
			c.mu.Unlock()
			return
		}
		if wait := bucket.take(time.Now()); wait > 0 {
			select {
			case <-time.After(wait):
			case <-c.done:
				return
			}
		}
	}
}

// ackLocked records the hub's acceptance of a submit (a Dup ack carries the
// original's seq, which is the exactly-once case after a crash).
func (s *Session) ackLocked(c *conn, a *proto.Ack) {
	var id content.MessageID
	copy(id[:], a.ID)
	c.mu.Lock()
	delete(c.submits, a.RID)
	delete(c.sentAt, id)
	c.mu.Unlock()
	if err := s.store.MarkAcked(id, a.Seq, msTime(a.TS)); err != nil {
		if !errors.Is(err, ErrNotInOutbox) {
			s.q.push(ErrorEvent{err})
		}
		return
	}
	s.emitOutbox(id)
}

// retryableCodes are refusals that may succeed later as they are.
var retryableCodes = map[proto.Code]bool{
	proto.CodeRateLimited: true, proto.CodeInternal: true, proto.CodeShuttingDown: true,
}

// relayErrorLocked routes an error frame: a submit's refusal fails or
// requeues the message, a request's goes to its caller, a fill's ends it.
func (s *Session) relayErrorLocked(c *conn, f *proto.ErrorFrame) {
	err := relayError(f)
	c.mu.Lock()
	id, isSubmit := c.submits[f.RID]
	room, isFill := c.fills[f.RID]
	if f.RID != 0 {
		delete(c.submits, f.RID)
		delete(c.fills, f.RID)
		if isSubmit {
			delete(c.sentAt, id)
		}
	}
	c.mu.Unlock()
	switch {
	case f.RID != 0 && isSubmit:
		if retryableCodes[f.Code] {
			return // still Pending: the pump's next tick resends it
		}
		if f.Code == proto.CodeStaleEpoch {
			// The ciphertext's epoch is gone: encrypt the same content
			// (same message ID) again once the group has caught up.
			s.staleAfterLocked(id, f.Epoch)
			s.wakePump()
			return
		}
		if err2 := s.store.MarkFailed(id, err.Error()); err2 != nil {
			s.q.push(ErrorEvent{err2})
			return
		}
		s.emitOutbox(id)
	case f.RID != 0 && isFill:
		if r, ok := s.rooms[room]; ok {
			r.fillAt = time.Time{}
		}
		s.q.push(ErrorEvent{fmt.Errorf("session: fill gap in %s: %w", room, err)})
	case f.RID != 0 && c.answer(f.RID, f):
	default:
		s.q.push(ErrorEvent{err})
	}
	if f.Fatal {
		c.fail(err)
	}
}
