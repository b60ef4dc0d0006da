package session

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"mimichat/content"
)

// OutboxState is where a sent message is on its way to the hub.
type OutboxState int

const (
	// Pending: stored durably, not yet acknowledged by the hub.
	Pending OutboxState = iota
	// Acked: the hub accepted it; Seq and Time are set.
	Acked
	// Failed: the hub refused it (or it could not be sent); Retry puts it
	// back to Pending.
	Failed
)

func (s OutboxState) String() string {
	switch s {
	case Pending:
		return "pending"
	case Acked:
		return "acked"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("OutboxState(%d)", int(s))
}

// OutboxItem is one message the user sent.
type OutboxItem struct {
	LocalID  int64 // stable local handle
	Room     string
	ID       content.MessageID
	Raw      []byte
	State    OutboxState
	Attempts int
	Err      string // why it failed
	Created  time.Time
	Seq      uint64    // Acked: the hub's seq
	Time     time.Time // Acked: the hub-accepted time
	// Wire is what is submitted in an end-to-end encrypted room: the MLS
	// PrivateMessage of Raw, stored with the row so a resend repeats the
	// same bytes (the relay dedupes on them). Nil in a plaintext room,
	// where Raw itself is submitted.
	Wire []byte
}

// submitted is the content a submit of it carries.
func (it *OutboxItem) submitted() []byte {
	if it.Wire != nil {
		return it.Wire
	}
	return it.Raw
}

// ErrNotInOutbox is returned for a message ID or local ID the outbox lacks.
var ErrNotInOutbox = errors.New("not in the outbox")

// Enqueue stores a message as Pending and returns once the row is durable
// (synchronous=FULL: the WAL is fsynced at commit). Enqueueing a message ID
// already in the outbox returns the existing item, so a retry by the caller
// never sends twice.
func (s *Store) Enqueue(room string, id content.MessageID, raw []byte, now time.Time) (OutboxItem, error) {
	_, err := s.db.Exec(`INSERT INTO outbox(room, msg_id, raw, state, created_ms) VALUES(?, ?, ?, ?, ?)
		ON CONFLICT(msg_id) DO NOTHING`, room, id[:], raw, int(Pending), now.UnixMilli())
	if err != nil {
		return OutboxItem{}, fmt.Errorf("session: outbox enqueue %s: %w", id, err)
	}
	return s.OutboxItem(id)
}

// EnqueueAll stores items (Room, ID, Raw, Wire, Created) as Pending in one
// transaction, in order, and returns them as stored: one fsync for a burst
// (a message and the receipts sent with it). An ID already in the outbox
// keeps its row, as with Enqueue.
func (s *Store) EnqueueAll(items []OutboxItem) ([]OutboxItem, error) {
	return s.EnqueueAllGroups(items, nil)
}

// EnqueueAllGroups is EnqueueAll that also saves the MLS group states whose
// encryption made the items' Wire, in the same transaction: a crash keeps
// both or neither, so a ratchet generation is never used twice.
func (s *Store) EnqueueAllGroups(items []OutboxItem, groups map[string]*GroupSave) ([]OutboxItem, error) {
	tx, err := s.db.Begin()
	if err != nil {
		return nil, fmt.Errorf("session: outbox enqueue: %w", err)
	}
	defer tx.Rollback()
	out := make([]OutboxItem, len(items))
	for i, it := range items {
		_, err := tx.Exec(`INSERT INTO outbox(room, msg_id, raw, state, created_ms) VALUES(?, ?, ?, ?, ?)
			ON CONFLICT(msg_id) DO NOTHING`, it.Room, it.ID[:], it.Raw, int(Pending), it.Created.UnixMilli())
		if err != nil {
			return nil, fmt.Errorf("session: outbox enqueue %s: %w", it.ID, err)
		}
		if it.Wire != nil {
			if _, err := tx.Exec(`INSERT INTO outbox_wire(msg_id, wire) VALUES(?, ?) ON CONFLICT(msg_id) DO NOTHING`, it.ID[:], it.Wire); err != nil {
				return nil, fmt.Errorf("session: outbox enqueue %s: %w", it.ID, err)
			}
		}
		if out[i], err = scanOutbox(tx.QueryRow(`SELECT `+outboxCols+` FROM `+outboxFrom+` WHERE o.msg_id=?`, it.ID[:])); err != nil {
			return nil, fmt.Errorf("session: outbox enqueue %s: %w", it.ID, err)
		}
	}
	after, err := s.saveGroups(tx, groups)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("session: outbox enqueue: %w", err)
	}
	after()
	return out, nil
}

const outboxCols = `o.local_id, o.room, o.msg_id, o.raw, o.state, o.attempts, o.error, o.created_ms, o.seq, o.hub_ms, w.wire`

// outboxFrom joins each row with its ciphertext, if any.
const outboxFrom = `outbox o LEFT JOIN outbox_wire w ON w.msg_id = o.msg_id`

func scanOutbox(sc interface{ Scan(...any) error }) (OutboxItem, error) {
	var (
		it              OutboxItem
		id              []byte
		state           int
		created, seq, t int64
	)
	if err := sc.Scan(&it.LocalID, &it.Room, &id, &it.Raw, &state, &it.Attempts, &it.Err, &created, &seq, &t, &it.Wire); err != nil {
		return it, err
	}
	copy(it.ID[:], id)
	it.State, it.Created, it.Seq = OutboxState(state), msTime(created), uint64(seq)
	if t != 0 {
		it.Time = msTime(t)
	}
	return it, nil
}

// OutboxItem reads one item by message ID.
func (s *Store) OutboxItem(id content.MessageID) (OutboxItem, error) {
	it, err := scanOutbox(s.db.QueryRow(`SELECT `+outboxCols+` FROM `+outboxFrom+` WHERE o.msg_id=?`, id[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return it, fmt.Errorf("session: outbox %s: %w", id, ErrNotInOutbox)
	}
	if err != nil {
		return it, fmt.Errorf("session: outbox %s: %w", id, err)
	}
	return it, nil
}

// Outbox lists the items in the given states (all when none given), in the
// order they were sent.
func (s *Store) Outbox(states ...OutboxState) ([]OutboxItem, error) {
	rows, err := s.db.Query(`SELECT ` + outboxCols + ` FROM ` + outboxFrom + ` ORDER BY o.local_id`)
	if err != nil {
		return nil, fmt.Errorf("session: outbox list: %w", err)
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("session: outbox list: %w", err)
		}
		if len(states) == 0 || containsState(states, it.State) {
			out = append(out, it)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("session: outbox list: %w", err)
	}
	return out, nil
}

func containsState(states []OutboxState, s OutboxState) bool {
	for _, x := range states {
		if x == s {
			return true
		}
	}
	return false
}

// MarkAttempt counts one more network send of id.
func (s *Store) MarkAttempt(id content.MessageID) error {
	return s.updateOutbox(id, `UPDATE outbox SET attempts=attempts+1 WHERE msg_id=?`, id[:])
}

// MarkAcked records the hub's acceptance. Acking an acked item is a no-op.
func (s *Store) MarkAcked(id content.MessageID, seq uint64, t time.Time) error {
	return s.updateOutbox(id, `UPDATE outbox SET state=?, seq=?, hub_ms=?, error='' WHERE msg_id=?`,
		int(Acked), int64(seq), t.UnixMilli(), id[:])
}

// MarkFailed records a refusal; the item stays until Retry or Discard.
func (s *Store) MarkFailed(id content.MessageID, reason string) error {
	return s.updateOutbox(id, `UPDATE outbox SET state=?, error=? WHERE msg_id=? AND state<>?`,
		int(Failed), reason, id[:], int(Acked))
}

// MarkRetry puts a failed item back to Pending.
func (s *Store) MarkRetry(id content.MessageID) error {
	return s.updateOutbox(id, `UPDATE outbox SET state=?, error='' WHERE msg_id=? AND state=?`,
		int(Pending), id[:], int(Failed))
}

// Discard removes an item that is not Pending (a failed message the user
// gave up on, or an acked one).
func (s *Store) Discard(id content.MessageID) error {
	return s.updateOutbox(id, `DELETE FROM outbox WHERE msg_id=? AND state<>?`, id[:], int(Pending))
}

// PruneAcked deletes acked items older than cutoff: once acked the message
// lives in the history cache, the outbox row is only for the UI's tick.
func (s *Store) PruneAcked(cutoff time.Time) error {
	_, err := s.db.Exec(`DELETE FROM outbox WHERE state=? AND created_ms<?`, int(Acked), cutoff.UnixMilli())
	if err != nil {
		return fmt.Errorf("session: outbox prune: %w", err)
	}
	return nil
}

func (s *Store) updateOutbox(id content.MessageID, q string, args ...any) error {
	res, err := s.db.Exec(q, args...)
	if err != nil {
		return fmt.Errorf("session: outbox %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.OutboxItem(id); err != nil {
			return err
		}
	}
	return nil
}
