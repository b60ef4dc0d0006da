package sqlite

import (
	"database/sql"
	"fmt"

	"mimichat/proto"
	"mimichat/relay/store"
)

// tables is the relay's whole durable state. Events keep their encoded
// frame so replay sends stored bytes without re-encoding; submit_key is a
// message's store.SubmitKey, unique per room, found through the key index
// of keys.go (indexes, below, come after migrate has brought an older
// table up to these columns).
const tables = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users(
	name TEXT PRIMARY KEY,
	uri TEXT NOT NULL UNIQUE,
	token_hash BLOB NOT NULL UNIQUE,
	created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rooms(
	uri TEXT PRIMARY KEY,
	name TEXT NOT NULL DEFAULT '',
	topic TEXT NOT NULL DEFAULT '',
	avatar TEXT NOT NULL DEFAULT '',
	history TEXT NOT NULL,
	join_policy TEXT NOT NULL,
	receipts TEXT NOT NULL DEFAULT 'on',
	expiry INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS members(
	room TEXT NOT NULL,
	user TEXT NOT NULL,
	role TEXT NOT NULL,
	state TEXT NOT NULL,
	join_seq INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY(room, user)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events(
	id INTEGER PRIMARY KEY,
	room TEXT NOT NULL,
	seq INTEGER NOT NULL,
	ts INTEGER NOT NULL,
	submit_key BLOB,
	ends TEXT,
	frame BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blobs(
	id TEXT PRIMARY KEY,
	uploader TEXT NOT NULL,
	size INTEGER NOT NULL,
	sha256 BLOB NOT NULL,
	created INTEGER NOT NULL);
`

const indexes = `
CREATE UNIQUE INDEX IF NOT EXISTS events_by_seq ON events(room, seq);
CREATE INDEX IF NOT EXISTS blobs_by_uploader ON blobs(uploader, created);
`

// migrate creates the schema, or brings a database created by an older
// relay up to it, in one transaction (a crash midway leaves the old one).
func migrate(db *sql.DB) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(tables); err != nil {
		return err
	}
	// CREATE TABLE IF NOT EXISTS leaves an existing table as it was: add
	// the columns created since.
	if !hasColumn(tx, "rooms", "receipts") {
		if _, err := tx.Exec(`ALTER TABLE rooms ADD COLUMN receipts TEXT NOT NULL DEFAULT 'on'`); err != nil {
			return fmt.Errorf("add rooms.receipts: %w", err)
		}
	}
	if hasColumn(tx, "events", "msg_id") {
		if err := rekey(tx); err != nil {
			return err
		}
	}
	if !hasColumn(tx, "events", "id") {
		if err := rowidEvents(tx); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(indexes); err != nil {
		return err
	}
	if err := keyIndex(tx); err != nil {
		return err
	}
	if _, err := tx.Exec(keyPackageTables); err != nil {
		return fmt.Errorf("key package tables: %w", err)
	}
	if _, err := tx.Exec(checkMarksTable); err != nil {
		return fmt.Errorf("check marks table: %w", err)
	}
	if _, err := tx.Exec(groupTables); err != nil {
		return fmt.Errorf("group tables: %w", err)
	}
	if err := migrateGroups(tx); err != nil {
		return err
	}
	if _, err := tx.Exec(deviceTokenTables); err != nil {
		return fmt.Errorf("device token tables: %w", err)
	}
	// Rooms' message expiry policy, and the heads of rooms whose whole log
	// expired.
	if !hasColumn(tx, "rooms", "expiry") {
		if _, err := tx.Exec(`ALTER TABLE rooms ADD COLUMN expiry INTEGER NOT NULL DEFAULT 0`); err != nil {
			return fmt.Errorf("add rooms.expiry: %w", err)
		}
	}
	if _, err := tx.Exec(roomHeadsTable); err != nil {
		return fmt.Errorf("room heads table: %w", err)
	}
	return tx.Commit()
}

func hasColumn(tx *sql.Tx, table, column string) bool {
	var n int
	err := tx.QueryRow(`SELECT count(*) FROM pragma_table_info(?) WHERE name=?`, table, column).Scan(&n)
	return err == nil && n > 0
}

// rekey moves an events table from the relay's old dedupe column (msg_id:
// the client's message ID, which the relay checked by decoding content) to
// submit_key, deriving each stored message's key from the content in its
// frame, so a resubmission of a message stored before the upgrade is still
// answered as a duplicate.
func rekey(tx *sql.Tx) error {
	if _, err := tx.Exec(`ALTER TABLE events ADD COLUMN submit_key BLOB`); err != nil {
		return fmt.Errorf("add events.submit_key: %w", err)
	}
	rows, err := tx.Query(`SELECT room, seq, frame FROM events WHERE msg_id IS NOT NULL ORDER BY room, seq`)
	if err != nil {
		return fmt.Errorf("read messages to rekey: %w", err)
	}
	type keyed struct {
		room string
		seq  uint64
		key  []byte
	}
	var todo []keyed
	seen := map[string]bool{} // room + key
	for rows.Next() {
		var k keyed
		var frame []byte
		if err := rows.Scan(&k.room, &k.seq, &frame); err != nil {
			rows.Close()
			return fmt.Errorf("read messages to rekey: %w", err)
		}
		f, err := proto.Decode(frame)
		ev, ok := f.(*proto.Event)
		if err != nil || !ok {
			rows.Close()
			return fmt.Errorf("rekey: stored event %s #%d does not decode: %v", k.room, k.seq, err)
		}
		sk := store.SubmitKey(ev.Content)
		k.key = sk[:]
		// The same bytes from two senders had two message IDs: the first
		// keeps the key, a later copy is stored without one.
		if seen[k.room+"\x00"+string(k.key)] {
			continue
		}
		seen[k.room+"\x00"+string(k.key)] = true
		todo = append(todo, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read messages to rekey: %w", err)
	}
	for _, k := range todo {
		if _, err := tx.Exec(`UPDATE events SET submit_key=? WHERE room=? AND seq=?`, k.key, k.room, k.seq); err != nil {
			return fmt.Errorf("rekey %s #%d: %w", k.room, k.seq, err)
		}
	}
	for _, q := range []string{`DROP INDEX IF EXISTS events_msg_id`, `ALTER TABLE events DROP COLUMN msg_id`} {
		if _, err := tx.Exec(q); err != nil {
			return fmt.Errorf("rekey: %s: %w", q, err)
		}
	}
	return nil
}

// rowidEvents moves the events of an older relay's WITHOUT ROWID table,
// keyed by (room, seq), into a rowid table with the key as an index
// (events_by_seq). In the old table a row of a 1 KiB frame was over the
// largest payload a key b-tree keeps on its page (about 1,000 bytes on
// 4 KiB pages), so each event took a 4 KiB overflow page besides its
// leaf cell, and interior pages held whole rows as separators: about
// 4.5 KiB on disk per 1 KiB event. A rowid table keeps rows up to about
// 4,000 bytes (8,000 on the 8 KiB pages of a new database) on the leaf,
// and its interior pages hold only rowids. The copy reads the old table in
// its key order, so no sort is needed and seqs stay in rowid order per
// room.
func rowidEvents(tx *sql.Tx) error {
	for _, q := range []string{
		`CREATE TABLE events_rowid(id INTEGER PRIMARY KEY, room TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
			submit_key BLOB, ends TEXT, frame BLOB NOT NULL)`,
		`INSERT INTO events_rowid(room, seq, ts, submit_key, ends, frame)
			SELECT room, seq, ts, submit_key, ends, frame FROM events ORDER BY room, seq`,
		`DROP TABLE events`,
		`ALTER TABLE events_rowid RENAME TO events`,
	} {
		if _, err := tx.Exec(q); err != nil {
			return fmt.Errorf("move events to a rowid table: %w", err)
		}
	}
	return nil
}

// keyIndex creates the submission-key index of keys.go. A database from
// before it had the keys in events_submit_key, an index on (room,
// submit_key) of events: their prefixes go into submit_index in key order
// (read from that index, which holds them without the frames), and the old
// index is dropped.
func keyIndex(tx *sql.Tx) error {
	var had, old int
	err := tx.QueryRow(`SELECT (SELECT count(*) FROM sqlite_schema WHERE name='submit_index'),
		(SELECT count(*) FROM sqlite_schema WHERE name='events_submit_key')`).Scan(&had, &old)
	if err != nil {
		return fmt.Errorf("key index: %w", err)
	}
	if _, err := tx.Exec(keyTables); err != nil {
		return fmt.Errorf("key index tables: %w", err)
	}
	if had == 0 {
		from := `events`
		if old > 0 {
			from = `events INDEXED BY events_submit_key`
		}
		if _, err := tx.Exec(`INSERT INTO submit_index(k, id) SELECT substr(submit_key, 1, 8), id FROM ` + from +
			` WHERE submit_key IS NOT NULL ORDER BY 1, 2`); err != nil {
			return fmt.Errorf("move the submission keys to submit_index: %w", err)
		}
	}
	if _, err := tx.Exec(`DROP INDEX IF EXISTS events_submit_key`); err != nil {
		return fmt.Errorf("drop events_submit_key: %w", err)
	}
	return nil
}
