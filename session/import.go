package session

import (
	"database/sql"
	"errors"
	"fmt"
)

// ImportTx writes a new room's history into the cache as it is read, in one
// transaction, so a large import streams instead of holding every entry and a
// failed one leaves nothing behind.
type ImportTx struct {
	tx   *sql.Tx
	room string
	next uint64 // seq of the next entry
	buf  []Entry
}

// ErrRoomCached is returned by BeginImport for a room the cache already
// holds: its entries must go below the cached run (CommitOlder).
var ErrRoomCached = errors.New("the room is already cached")

// BeginImport starts importing room, which the cache must not hold yet; its
// entries are numbered from 1.
func (s *Store) BeginImport(room string) (*ImportTx, error) {
	tx, err := s.db.Begin()
	if err != nil {
		return nil, fmt.Errorf("session: import %s: %w", room, err)
	}
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM rooms WHERE room=?`, room).Scan(&n); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("session: import %s: %w", room, err)
	}
	if n > 0 {
		tx.Rollback()
		return nil, fmt.Errorf("session: import %s: %w", room, ErrRoomCached)
	}
	return &ImportTx{tx: tx, room: room, next: 1, buf: make([]Entry, 0, insertBatch)}, nil
}

// Next is the seq the next added entry must have.
func (t *ImportTx) Next() uint64 { return t.next + uint64(len(t.buf)) }

// Add appends e (e.Seq must be Next()).
func (t *ImportTx) Add(e Entry) error {
	if e.Room != t.room || e.Seq != t.Next() {
		return fmt.Errorf("session: import %s: entry of %s seq %d where seq %d was due: %w", t.room, e.Room, e.Seq, t.Next(), ErrGap)
	}
	t.buf = append(t.buf, e)
	if len(t.buf) == insertBatch {
		return t.flush()
	}
	return nil
}

func (t *ImportTx) flush() error {
	if err := insertEntries(t.tx, t.room, t.next, t.buf); err != nil {
		return err
	}
	t.next += uint64(len(t.buf))
	t.buf = t.buf[:0]
	return nil
}

// Commit writes the rest and the room's metadata (meta.ID must be the
// room; Low, Cursor and Head are set from the entries) and commits.
func (t *ImportTx) Commit(meta Room) (Room, error) {
	defer t.tx.Rollback()
	if err := t.flush(); err != nil {
		return meta, err
	}
	if meta.ID != t.room {
		return meta, fmt.Errorf("session: import %s: metadata of %s", t.room, meta.ID)
	}
	meta.Low, meta.Cursor = 1, t.next-1
	meta.Head = max(meta.Head, meta.Cursor)
	if err := saveRoom(t.tx, meta); err != nil {
		return meta, err
	}
	if err := t.tx.Commit(); err != nil {
		return meta, fmt.Errorf("session: import %s: %w", t.room, err)
	}
	return meta, nil
}

// Rollback abandons the import; nothing it added stays.
func (t *ImportTx) Rollback() { t.tx.Rollback() }
