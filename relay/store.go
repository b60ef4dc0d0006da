package relay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"
)

// schema is the relay's whole durable state. Events keep their encoded
// proto.Event frame so replay sends stored bytes without re-encoding.
const schema = `
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
	receipts TEXT NOT NULL DEFAULT 'on');
CREATE TABLE IF NOT EXISTS members(
	room TEXT NOT NULL,
	user TEXT NOT NULL,
	role TEXT NOT NULL,
	state TEXT NOT NULL,
	join_seq INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY(room, user)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events(
	room TEXT NOT NULL,
	seq INTEGER NOT NULL,
	ts INTEGER NOT NULL,
	msg_id BLOB,
	ends TEXT,
	frame BLOB NOT NULL,
	PRIMARY KEY(room, seq)) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS events_msg_id ON events(room, msg_id) WHERE msg_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS blobs(
	id TEXT PRIMARY KEY,
	uploader TEXT NOT NULL,
	size INTEGER NOT NULL,
	sha256 BLOB NOT NULL,
	created INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS blobs_by_uploader ON blobs(uploader, created);
`

// migrate brings a database created by an older relay up to schema: columns
// added since are created with their defaults (CREATE TABLE IF NOT EXISTS
// leaves an existing table as it was).
func migrate(db *sql.DB) error {
	var n int
	err := db.QueryRow(`SELECT count(*) FROM pragma_table_info('rooms') WHERE name='receipts'`).Scan(&n)
	if err != nil || n > 0 {
		return err
	}
	_, err = db.Exec(`ALTER TABLE rooms ADD COLUMN receipts TEXT NOT NULL DEFAULT 'on'`)
	return err
}

// Store is the SQLite database in the data directory: one connection for
// the group-commit writer, a small pool for readers (WAL lets them run
// beside the writer).
type Store struct {
	w, r    *sql.DB
	path    string
	stop    chan struct{}
	stopped chan struct{}
}

// DBFile is the database file name inside the data directory.
const DBFile = "relay.db"

// Sync modes: how a commit reaches the disk before the relay acks.
const (
	// SyncFull fsyncs the WAL at every commit: nothing acked is lost even if
	// the machine loses power.
	SyncFull = "full"
	// SyncNormal writes the WAL at every commit but fsyncs only at
	// checkpoints: nothing acked is lost if the relay process dies (SIGKILL,
	// crash), but the last commits can be lost if the OS crashes or power
	// fails.
	SyncNormal = "normal"
)

// OpenStore opens (creating if needed) the database in dir, in SyncFull mode.
func OpenStore(dir string) (*Store, error) { return openStore(dir, SyncFull) }

func openStore(dir, sync string) (*Store, error) {
	if sync != SyncFull && sync != SyncNormal {
		return nil, fmt.Errorf("relay: sync mode %q is neither %q nor %q", sync, SyncFull, SyncNormal)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("relay: data dir: %w", err)
	}
	path := filepath.Join(dir, DBFile)
	q := url.Values{}
	// wal_autocheckpoint(0): checkpoints run in the background (checkpoint),
	// not inside the commit that crosses the threshold, so no ack waits for
	// one.
	for _, p := range []string{"journal_mode(WAL)", "synchronous(" + sync + ")", "busy_timeout(10000)", "wal_autocheckpoint(0)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("relay: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(schema); err != nil {
		w.Close()
		return nil, fmt.Errorf("relay: schema in %s: %w", path, err)
	}
	if err := migrate(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("relay: upgrade schema in %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("relay: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s := &Store{w: w, r: r, path: path, stop: make(chan struct{}), stopped: make(chan struct{})}
	go s.checkpoint()
	return s, nil
}

// checkpointEvery is how often committed WAL pages are copied into the
// database file. PASSIVE checkpoints run beside the writer without blocking it.
const checkpointEvery = 500 * time.Millisecond

func (s *Store) checkpoint() {
	defer close(s.stopped)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.r.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// Close stops the checkpointer, checkpoints what is left and closes both
// handles.
func (s *Store) Close() error {
	close(s.stop)
	<-s.stopped
	_, cerr := s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return errors.Join(cerr, s.r.Close(), s.w.Close())
}

// Domain returns the relay's domain, fixing it to want on first use. A
// different non-empty want later is an error: URIs already issued would lie.
func (s *Store) Domain(want string) (string, error) {
	var got string
	err := s.w.QueryRow(`SELECT value FROM meta WHERE key='domain'`).Scan(&got)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if want == "" {
			want = "localhost"
		}
		if _, err := s.w.Exec(`INSERT INTO meta(key,value) VALUES('domain',?)`, want); err != nil {
			return "", fmt.Errorf("relay: set domain: %w", err)
		}
		return want, nil
	case err != nil:
		return "", fmt.Errorf("relay: read domain: %w", err)
	case want != "" && want != got:
		return "", fmt.Errorf("relay: data directory belongs to domain %q, not %q", got, want)
	}
	return got, nil
}

// storedEvent is one event row as replay needs it.
type storedEvent struct {
	seq   uint64
	ends  string // user URI whose membership this event ends, or ""
	frame []byte
}

// eventsAfter returns up to limit events of room with seq > after, ascending.
func (s *Store) eventsAfter(ctx context.Context, room string, after uint64, limit int) ([]storedEvent, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT seq, coalesce(ends,''), frame FROM events WHERE room=? AND seq>? ORDER BY seq LIMIT ?`, room, after, limit)
	if err != nil {
		return nil, fmt.Errorf("relay: read events: %w", err)
	}
	return scanEvents(rows)
}

// eventsBefore returns up to limit events of room with from <= seq < before,
// ascending, and whether older events in range remain.
func (s *Store) eventsBefore(ctx context.Context, room string, from, before uint64, limit int) ([]storedEvent, bool, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT seq, coalesce(ends,''), frame FROM events WHERE room=? AND seq>=? AND seq<? ORDER BY seq DESC LIMIT ?`,
		room, from, before, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("relay: read history: %w", err)
	}
	evs, err := scanEvents(rows)
	if err != nil {
		return nil, false, err
	}
	more := len(evs) > limit
	if more {
		evs = evs[:limit]
	}
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs, more, nil
}

func scanEvents(rows *sql.Rows) ([]storedEvent, error) {
	defer rows.Close()
	var out []storedEvent
	for rows.Next() {
		var e storedEvent
		if err := rows.Scan(&e.seq, &e.ends, &e.frame); err != nil {
			return nil, fmt.Errorf("relay: scan event: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("relay: read events: %w", err)
	}
	return out, nil
}
