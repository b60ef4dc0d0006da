package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

// Store is the client's SQLite file: the history cache (rooms and their
// entries) and the outbox. WAL with synchronous=FULL makes every committed
// transaction durable (the WAL is fsynced at commit), which is what lets
// Send promise that an enqueued message survives a crash.
type Store struct {
	db   *sql.DB
	path string
	// indexMu lets one caller at a time drain the search queue (search.go)
	indexMu sync.Mutex
	// treeVers is, per room, the versions of the ratchet tree chunks that
	// mls_tree holds (groupstore.go): a save writes only the others.
	treeMu   sync.Mutex
	treeVers map[string][]uint64
}

const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rooms (
	room   TEXT PRIMARY KEY,
	name   TEXT NOT NULL DEFAULT '',
	topic  TEXT NOT NULL DEFAULT '',
	role   TEXT NOT NULL DEFAULT '',
	state  TEXT NOT NULL DEFAULT '',
	head   INTEGER NOT NULL DEFAULT 0, -- the relay's last seq when last heard
	low    INTEGER NOT NULL DEFAULT 1, -- entries low..cursor are all cached
	cursor INTEGER NOT NULL DEFAULT 0  -- highest seq cached
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
	room   TEXT    NOT NULL,
	seq    INTEGER NOT NULL,
	hub_ms INTEGER NOT NULL,
	sender TEXT    NOT NULL,
	kind   TEXT    NOT NULL,
	msg_id BLOB,
	raw    BLOB,
	target TEXT NOT NULL DEFAULT '',
	role   TEXT NOT NULL DEFAULT '',
	value  TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (room, seq)
) WITHOUT ROWID;
-- An import below a cached run writes here inside its one transaction until
-- the commit knows how many entries there are and copies them to their seqs:
-- renumbering rows of entries in place (WITHOUT ROWID, indexed by msg_id)
-- costs more than writing them twice. Empty outside that transaction.
CREATE TABLE IF NOT EXISTS import_stage (
	room   TEXT    NOT NULL,
	seq    INTEGER PRIMARY KEY,
	hub_ms INTEGER NOT NULL,
	sender TEXT    NOT NULL,
	kind   TEXT    NOT NULL,
	msg_id BLOB,
	raw    BLOB,
	target TEXT NOT NULL DEFAULT '',
	role   TEXT NOT NULL DEFAULT '',
	value  TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS entries_by_id ON entries(msg_id) WHERE msg_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS outbox (
	local_id   INTEGER PRIMARY KEY AUTOINCREMENT,
	room       TEXT    NOT NULL,
	msg_id     BLOB    NOT NULL UNIQUE,
	raw        BLOB    NOT NULL,
	state      INTEGER NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	error      TEXT    NOT NULL DEFAULT '',
	created_ms INTEGER NOT NULL,
	seq        INTEGER NOT NULL DEFAULT 0,
	hub_ms     INTEGER NOT NULL DEFAULT 0
);
-- End-to-end encryption (e2ee.go). Each room's MLS group state (private
-- keys: the file is 0600), saved in the transaction of the entries or outbox
-- rows whose processing or encryption changed it.
CREATE TABLE IF NOT EXISTS mls_groups (
	room  TEXT PRIMARY KEY,
	state BLOB NOT NULL
) WITHOUT ROWID;
-- A group's ratchet tree by chunks of 64 nodes (mls.Group.EncodeTreeChunk),
-- when its mls_groups record says so: a commit rewrites O(log n) chunks.
CREATE TABLE IF NOT EXISTS mls_tree (
	room  TEXT    NOT NULL,
	chunk INTEGER NOT NULL,
	nodes BLOB    NOT NULL,
	PRIMARY KEY (room, chunk)
) WITHOUT ROWID;
-- Rooms the relay said are encrypted, with their cipher suite: never send
-- plaintext to one, even before the group state exists.
CREATE TABLE IF NOT EXISTS encrypted_rooms (
	room  TEXT PRIMARY KEY,
	suite INTEGER NOT NULL
) WITHOUT ROWID;
-- The ciphertext submitted for an outbox row of an encrypted room.
CREATE TABLE IF NOT EXISTS outbox_wire (
	msg_id BLOB PRIMARY KEY REFERENCES outbox(msg_id) ON DELETE CASCADE,
	wire   BLOB NOT NULL
) WITHOUT ROWID;
-- Users whose safety number this user compared and marked verified.
CREATE TABLE IF NOT EXISTS verified_users (
	user        TEXT PRIMARY KEY,
	fingerprint TEXT NOT NULL,
	at_ms       INTEGER NOT NULL
) WITHOUT ROWID;
`

const schemaVersion = "1"

// StoreFile is the file name of the store inside the data directory.
const StoreFile = "mimichat.db"

// OpenStore opens (creating if needed) the store file at path.
func OpenStore(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("session: store directory: %w", err)
	}
	if err := makePrivate(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("session: open store %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	s := &Store{db: db, path: path}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) init() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, schema+profileSchema); err != nil {
		return fmt.Errorf("session: store %s: create schema: %w", s.path, err)
	}
	if err := initSearch(ctx, s.db); err != nil {
		return fmt.Errorf("session: store %s: %w", s.path, err)
	}
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='schema'`).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = s.db.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES('schema', ?)`, schemaVersion)
		if err != nil {
			return fmt.Errorf("session: store %s: %w", s.path, err)
		}
	case err != nil:
		return fmt.Errorf("session: store %s: read schema version: %w", s.path, err)
	case v != schemaVersion:
		return fmt.Errorf("session: store %s: schema version %q, this build reads %q", s.path, v, schemaVersion)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Meta reads a small string value (e.g. the user the store belongs to).
func (s *Store) Meta(key string) (string, error) {
	var v string
	err := s.db.QueryRow(`SELECT value FROM meta WHERE key=?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("session: store meta %s: %w", key, err)
	}
	return v, nil
}

// SetMeta writes a small string value.
func (s *Store) SetMeta(key, value string) error {
	_, err := s.db.Exec(`INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("session: store meta %s: %w", key, err)
	}
	return nil
}

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// makePrivate creates the cache file 0600 before SQLite does (it would use
// 0644 less the umask, and gives the -wal and -shm files the database's
// mode), and narrows the files an older version left wider: the cache holds
// every message, and the directory may be 0755.
func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("session: open store %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("session: make %s private: %w", p, err)
			}
		}
	}
	return nil
}
