package sqlite

import (
	"context"
	"fmt"
	"time"

	"mimichat/relay/store"
)

// deleteChunk bounds one retention transaction, so the writer's connection
// (shared with the group commit) is never held long.
const deleteChunk = 1000

// DeleteEventsBefore deletes events older than ts in chunks, keeping each
// room's last event.
func (s *Store) DeleteEventsBefore(ctx context.Context, ts int64) (int64, error) {
	if err := s.Damaged(); err != nil {
		return 0, fmt.Errorf("sqlite store: writes refused until the database is repaired: %w", err)
	}
	var total int64
	for {
		s.keys.deleted.Store(true) // before each delete: see keyTail.deleted
		res, err := s.w.ExecContext(ctx, `DELETE FROM events WHERE (room, seq) IN (
			SELECT e.room, e.seq FROM events e WHERE e.ts < ?
			AND e.seq < (SELECT max(seq) FROM events h WHERE h.room = e.room) LIMIT ?)`, ts, deleteChunk)
		if err != nil {
			return total, fmt.Errorf("sqlite store: delete events before %d: %w", ts, err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < deleteChunk {
			return total, nil
		}
	}
}

// DeleteBlobsBefore deletes the rows of blobs created before t.
func (s *Store) DeleteBlobsBefore(ctx context.Context, t time.Time) ([]string, error) {
	rows, err := s.w.QueryContext(ctx, `DELETE FROM blobs WHERE created < ? RETURNING id`, t.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("sqlite store: delete blobs before %v: %w", t, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return ids, fmt.Errorf("sqlite store: delete blobs: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return ids, fmt.Errorf("sqlite store: delete blobs: %w", err)
	}
	return ids, nil
}

// roomHeadsTable keeps the last stamp of a room whose whole log expired,
// so its seqs continue after a restart.
const roomHeadsTable = `CREATE TABLE IF NOT EXISTS room_heads(room TEXT PRIMARY KEY, seq INTEGER NOT NULL, ts INTEGER NOT NULL) WITHOUT ROWID;`

var _ store.EventExpirer = (*Store)(nil)

// ExpireRoomEvents deletes room's events older than ts, its last one
// included, in transactions of deleteChunk rows; each first records the
// room's head in room_heads.
func (s *Store) ExpireRoomEvents(ctx context.Context, room string, ts int64) (int64, error) {
	if err := s.Damaged(); err != nil {
		return 0, fmt.Errorf("sqlite store: writes refused until the database is repaired: %w", err)
	}
	var total int64
	for {
		s.keys.deleted.Store(true) // before each delete: see keyTail.deleted
		n, err := s.expireChunk(ctx, room, ts)
		total += n
		if err != nil {
			return total, fmt.Errorf("sqlite store: expire events of %s before %d: %w", room, ts, err)
		}
		if n < deleteChunk {
			return total, nil
		}
	}
}

func (s *Store) expireChunk(ctx context.Context, room string, ts int64) (int64, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO room_heads(room, seq, ts)
		SELECT room, seq, ts FROM events WHERE room=?1 ORDER BY seq DESC LIMIT 1
		ON CONFLICT(room) DO UPDATE SET seq=excluded.seq, ts=excluded.ts`, room)
	if err != nil {
		return 0, err
	}
	// ts never decreases along a room's seqs, so the expired events are the
	// prefix of its log before the first one at or after ts: that scan
	// stops at the first event kept (a filter on ts alone would read the
	// room's whole log at every sweep), the delete is a key range.
	res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE room=?1 AND seq IN (
		SELECT seq FROM events WHERE room=?1 AND seq < coalesce(
			(SELECT seq FROM events WHERE room=?1 AND ts >= ?2 ORDER BY seq LIMIT 1), 1 << 62)
		ORDER BY seq LIMIT ?3)`, room, ts, deleteChunk)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, tx.Commit()
}
