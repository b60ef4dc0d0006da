package session

import (
	"context"
	"database/sql"
	"fmt"

	"mimichat/proto"
)

// EachEntry calls fn with every cached entry of room in seq order, read by
// one query on a connection of its own that maps the file into memory for
// the read (a bulk export: `mimichat export`, /share-history). Paging
// through After cost a 100k export a slice of 2,048 entries per page, a
// copy of every message's bytes by database/sql, and a pread per page.
// The entry passed to fn, its Raw bytes included, is valid only during the
// call: copy what you keep.
func (s *Store) EachEntry(room string, fn func(*Entry) error) error {
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("session: cache read %s: %w", room, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA mmap_size=`+bulkReadMmap); err != nil {
		return fmt.Errorf("session: cache read %s: %w", room, err)
	}
	defer conn.ExecContext(ctx, `PRAGMA mmap_size=0`)
	rows, err := conn.QueryContext(ctx, `SELECT seq, hub_ms, sender, kind, msg_id, raw, target, role, value, reason
		FROM entries WHERE room=? ORDER BY seq`, room)
	if err != nil {
		return fmt.Errorf("session: cache read %s: %w", room, err)
	}
	defer rows.Close()
	var (
		seq, ms    int64
		kind, role string
		id, raw    sql.RawBytes
	)
	for rows.Next() {
		e := Entry{Room: room}
		if err := rows.Scan(&seq, &ms, &e.Sender, &kind, &id, &raw, &e.Target, &role, &e.Value, &e.Reason); err != nil {
			return fmt.Errorf("session: cache read %s: %w", room, err)
		}
		e.Seq, e.Time, e.Kind, e.Role, e.Raw = uint64(seq), msTime(ms), proto.Kind(kind), proto.Role(role), raw
		copy(e.ID[:], id)
		if e.IsMessage() {
			e.Undecryptable, e.Value = e.Value, ""
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("session: cache read %s: %w", room, err)
	}
	return nil
}

// bulkReadMmap is how much of the file a bulk read maps (SQLite maps at
// most the file's size).
const bulkReadMmap = "1073741824"
