package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"

	"mimichat/relay/store"
)

// File is the database file name inside the data directory.
const File = "relay.db"

// Sync modes: how a commit reaches the disk before AppendBatch returns.
const (
	// SyncFull fsyncs the WAL at every commit: nothing committed is lost
	// even if the machine loses power.
	SyncFull = "full"
	// SyncNormal writes the WAL at every commit but fsyncs only at
	// checkpoints: nothing committed is lost if the process dies (SIGKILL,
	// crash), but the last commits can be lost if the OS crashes or power
	// fails.
	SyncNormal = "normal"
)

// Store is store.Store on SQLite: w is the writer's single connection,
// r a pool of readers (WAL lets them run beside the writer).
type Store struct {
	w, r    *sql.DB
	path    string
	ins     *sql.Stmt // the writer's event insert
	stop    chan struct{}
	stopped chan struct{}
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database in dir with the given sync
// mode (SyncFull or SyncNormal; "" is SyncFull), bringing an older
// relay's schema up to date.
func Open(dir, sync string) (*Store, error) {
	if sync == "" {
		sync = SyncFull
	}
	if sync != SyncFull && sync != SyncNormal {
		return nil, fmt.Errorf("sqlite store: sync mode %q is neither %q nor %q", sync, SyncFull, SyncNormal)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite store: data dir: %w", err)
	}
	path := filepath.Join(dir, File)
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
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	if err := migrate(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite store: schema in %s: %w", path, err)
	}
	ins, err := w.Prepare(`INSERT INTO events(room, seq, ts, submit_key, ends, frame) VALUES(?,?,?,?,?,?)`)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite store: prepare: %w", err)
	}
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s := &Store{w: w, r: r, path: path, ins: ins, stop: make(chan struct{}), stopped: make(chan struct{})}
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
	return errors.Join(cerr, s.ins.Close(), s.r.Close(), s.w.Close())
}
