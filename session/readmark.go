package session

import (
	"fmt"
	"time"
)

// ReadMark is how far the user has read a room: every entry up to Seq was
// on screen, at At. The client keeps it in the cache so unread counts and
// its "new messages" line survive a restart.
type ReadMark struct {
	Seq uint64
	At  time.Time
}

// read_marks lives outside the main schema (it is created on first use) so
// that stores written before it open unchanged.
const readMarksTable = `CREATE TABLE IF NOT EXISTS read_marks (
	room  TEXT PRIMARY KEY,
	seq   INTEGER NOT NULL,
	at_ms INTEGER NOT NULL
) WITHOUT ROWID`

// SaveReadMark records that room is read up to seq. A mark never moves
// back: saves may arrive out of order (each runs in its own goroutine).
func (s *Store) SaveReadMark(room string, seq uint64, at time.Time) error {
	if _, err := s.db.Exec(readMarksTable); err != nil {
		return fmt.Errorf("session: read marks: %w", err)
	}
	_, err := s.db.Exec(`INSERT INTO read_marks(room, seq, at_ms) VALUES(?, ?, ?)
		ON CONFLICT(room) DO UPDATE SET seq=excluded.seq, at_ms=excluded.at_ms WHERE excluded.seq > read_marks.seq`,
		room, int64(seq), at.UnixMilli())
	if err != nil {
		return fmt.Errorf("session: save read mark %s: %w", room, err)
	}
	return nil
}

// ReadMarks returns every room's read mark.
func (s *Store) ReadMarks() (map[string]ReadMark, error) {
	if _, err := s.db.Exec(readMarksTable); err != nil {
		return nil, fmt.Errorf("session: read marks: %w", err)
	}
	rows, err := s.db.Query(`SELECT room, seq, at_ms FROM read_marks`)
	if err != nil {
		return nil, fmt.Errorf("session: read marks: %w", err)
	}
	defer rows.Close()
	out := map[string]ReadMark{}
	for rows.Next() {
		var room string
		var seq, at int64
		if err := rows.Scan(&room, &seq, &at); err != nil {
			return nil, fmt.Errorf("session: read marks: %w", err)
		}
		out[room] = ReadMark{Seq: uint64(seq), At: msTime(at)}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("session: read marks: %w", err)
	}
	return out, nil
}
