package sqlite

import (
	"context"
	"fmt"
	"time"
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
