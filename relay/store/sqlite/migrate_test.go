package sqlite

import (
	"bytes"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"mimichat/proto"
	"mimichat/relay/store"
)

// oldSchema is the database of a relay before the receipts policy and the
// submission keys: events deduped on the client's message ID (msg_id).
const oldSchema = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users(name TEXT PRIMARY KEY, uri TEXT NOT NULL UNIQUE, token_hash BLOB NOT NULL UNIQUE, created INTEGER NOT NULL);
CREATE TABLE rooms(uri TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', topic TEXT NOT NULL DEFAULT '',
	avatar TEXT NOT NULL DEFAULT '', history TEXT NOT NULL, join_policy TEXT NOT NULL);
CREATE TABLE members(room TEXT NOT NULL, user TEXT NOT NULL, role TEXT NOT NULL, state TEXT NOT NULL,
	join_seq INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(room, user)) WITHOUT ROWID;
CREATE TABLE events(room TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, msg_id BLOB, ends TEXT,
	frame BLOB NOT NULL, PRIMARY KEY(room, seq)) WITHOUT ROWID;
CREATE UNIQUE INDEX events_msg_id ON events(room, msg_id) WHERE msg_id IS NOT NULL;
CREATE TABLE blobs(id TEXT PRIMARY KEY, uploader TEXT NOT NULL, size INTEGER NOT NULL, sha256 BLOB NOT NULL, created INTEGER NOT NULL);
`

// TestMigrateOldDatabase: a database from before the receipts policy opens
// with every room's policy on, and its stored messages get their
// submission keys from their frames, so a resubmission of a message stored
// before the upgrade is still found (and a copy of the same bytes, which
// the old relay stored under a second message ID, does not stop the
// upgrade).
func TestMigrateOldDatabase(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, File))
	if err != nil {
		t.Fatal(err)
	}
	const room, alice, bob = "mimi://example.com/r/old", "mimi://example.com/u/alice", "mimi://example.com/u/bob"
	content := []byte("opaque content bytes")
	frame := func(seq uint64, kind proto.Kind, from string, id byte) []byte {
		ev := &proto.Event{Room: room, Seq: seq, TS: int64(1000 + seq), Sender: from, Kind: kind}
		if kind == proto.KindMessage {
			ev.ID, ev.Content = bytes.Repeat([]byte{id}, proto.MessageIDSize), content
		} else {
			ev.Role = proto.RoleOwner
		}
		b, err := proto.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{oldSchema, nil},
		{`INSERT INTO rooms(uri, name, history, join_policy) VALUES(?, 'Old', 'shared', 'invite')`, []any{room}},
		{`INSERT INTO members VALUES(?, ?, 'owner', 'joined', 1)`, []any{room, alice}},
		{`INSERT INTO events VALUES(?, 1, 1001, NULL, NULL, ?)`, []any{room, frame(1, proto.KindCreate, alice, 0)}},
		{`INSERT INTO events VALUES(?, 2, 1002, ?, NULL, ?)`, []any{room, bytes.Repeat([]byte{1}, 32), frame(2, proto.KindMessage, alice, 1)}},
		{`INSERT INTO events VALUES(?, 3, 1003, ?, NULL, ?)`, []any{room, bytes.Repeat([]byte{2}, 32), frame(3, proto.KindMessage, bob, 2)}},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	for i := range uint64(2) { // the second open finds the schema current
		s, err := Open(dir, SyncFull)
		if err != nil {
			t.Fatal(err)
		}
		rooms, err := s.LoadRooms(t.Context())
		if err != nil || len(rooms) != 1 || rooms[0].Receipts != proto.ReceiptsOn || rooms[0].Name != "Old" || rooms[0].Last.Seq != 3+i {
			t.Fatalf("open %d: rooms = %+v, %v", i+1, rooms, err)
		}
		key := store.SubmitKey(content)
		got, err := s.Submitted(t.Context(), room, [][]byte{key[:]})
		if err != nil || got[0] != (store.Stamp{Seq: 2, TS: 1002}) {
			t.Fatalf("open %d: old message's key found at %+v, %v; want seq 2", i+1, got, err)
		}
		evs, err := s.EventsAfter(t.Context(), room, 0, 10)
		if err != nil || len(evs) != int(3+i) || evs[2].Key != nil || !bytes.Equal(evs[1].Frame, frame(2, proto.KindMessage, alice, 1)) {
			t.Fatalf("open %d: events = %+v, %v", i+1, evs, err)
		}
		// The events moved to a rowid table keyed by the events_by_seq index
		// (no overflow page per 1 KiB event).
		var ddl string
		if err := s.w.QueryRow(`SELECT sql FROM sqlite_schema WHERE name='events'`).Scan(&ddl); err != nil ||
			strings.Contains(ddl, "WITHOUT ROWID") || !strings.Contains(ddl, "id INTEGER PRIMARY KEY") {
			t.Fatalf("open %d: events table %q, %v; want a rowid table", i+1, ddl, err)
		}
		var idx int
		if err := s.w.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name IN ('events_by_seq', 'submit_index')`).Scan(&idx); err != nil || idx != 2 {
			t.Fatalf("open %d: %d of events_by_seq and submit_index, %v; want 2", i+1, idx, err)
		}
		if i == 0 {
			newKey := store.SubmitKey([]byte("new"))
			err = s.AppendBatch(t.Context(), store.Batch{Events: []store.Event{{Room: room, Seq: 4, TS: 1004, Key: newKey[:], Frame: []byte{0xa0}}}})
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
