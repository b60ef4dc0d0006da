package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
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

	report          CheckReport
	cancelCheck     context.CancelFunc    // stops the background check
	firstCheck      chan struct{}         // closed when the background check's first pass ends
	checked         chan struct{}         // closed when the background check goroutine ends
	fullChecks      atomic.Int64          // clean full checks completed in the background
	damaged         atomic.Pointer[error] // damage the background check found
	walLimit        int64                 // the WAL's bound (walLimit; tests lower it)
	pageSize        int64                 // the database's page size (a WAL frame holds one page)
	walOver         atomic.Bool           // the WAL is over walLimit: the writer restarts it after its next commit
	restartMu       sync.Mutex
	restartDone     chan struct{}         // closed when the WAL restart the last commit started ends
	walRestarts     atomic.Int64          // RESTART checkpoints run (walLimit)
	walRestartsBusy atomic.Int64          // of which could not finish (writer or readers busy)
	checkErr        atomic.Pointer[error] // the background check's last failure other than damage
	keys            keyTail               // the submission keys' tail and merge (keys.go)
	lastCommit      CommitTimes           // the last AppendBatch's split (trace.go)
	ckptLog         checkpointLog         // the last checkpoints (trace.go)
	stmts           writerStmts           // the writer's prepared statements (stmts.go)
	heads           roomHeadCache         // each room's last stamp as of the last commit (log.go)
}

var _ store.Store = (*Store)(nil)

// Options say how OpenWith treats the database it finds.
type Options struct {
	// Sync is SyncFull or SyncNormal ("" is SyncFull).
	Sync string
	// Create allows a missing or empty database file to be created. Without
	// it such a file is ErrNoDatabase: a relay started on it would run
	// empty, with every user gone and every token refused.
	Create bool
	// Check is how the database's integrity is checked (CheckNone,
	// CheckFull, CheckIncremental); damage found at open is ErrDamaged.
	Check CheckMode
	// TailBudget bounds the time CheckIncremental spends at open reading
	// the logs' unchecked tails (default DefaultTailBudget).
	TailBudget time.Duration
	// CheckEvery repeats CheckIncremental's background check (0: once,
	// after open).
	CheckEvery time.Duration
	// OnDamage is called (from the background check's goroutine) when
	// CheckIncremental's background check finds damage.
	OnDamage func(error)
	// WALReserve, if positive, is the size the WAL file is kept at: zeros
	// written at open and never cut below (reserveWAL), so commits
	// overwrite it instead of growing it (DefaultWALReserve suits the
	// relay's walLimit). 0 lets the WAL grow from empty.
	WALReserve int64

	mergeMinKeys    int           // tests: merge the key tail at fewer keys (0: mergeMinKeys)
	checkpointEvery time.Duration // tests: the checkpointer's period (0: checkpointEvery)
	walLimit        int64         // tests: the WAL's bound (0: walLimit)
}

// ErrNoDatabase is returned by OpenWith (without Create) when the database
// file is missing or empty.
var ErrNoDatabase = errors.New("no relay database")

// ErrDamaged is returned by OpenWith (with Check) when the check finds
// damage, and by writes once a background check has found some.
var ErrDamaged = errors.New("relay database is damaged")

// Open opens (creating if needed) the database in dir with the given sync
// mode (SyncFull or SyncNormal; "" is SyncFull), bringing an older
// relay's schema up to date.
func Open(dir, sync string) (*Store, error) {
	return OpenWith(dir, Options{Sync: sync, Create: true})
}

// OpenWith opens the database in dir as o says. The database file and its
// -wal and -shm files are made 0600 whatever the directory's mode.
func OpenWith(dir string, o Options) (*Store, error) {
	sync := o.Sync
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
	limit := o.walLimit
	if limit <= 0 {
		limit = walLimit
	}
	// The WAL file is cut back to this size once it restarts (checkpoint).
	fileLimit := max(limit, o.WALReserve)
	if err := prepareFile(path, o.Create); err != nil {
		return nil, err
	}
	q := url.Values{}
	// wal_autocheckpoint(0): checkpoints run in the background (checkpoint),
	// not inside the commit that crosses the threshold, so no ack waits for
	// one. journal_size_limit: once the WAL restarts (see checkpoint) its
	// file is cut back to this size instead of keeping its largest.
	for _, p := range []string{"journal_mode(WAL)", "synchronous(" + sync + ")", "busy_timeout(10000)",
		"wal_autocheckpoint(0)", fmt.Sprintf("journal_size_limit(%d)", fileLimit)} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	// The writer's connection alone gets a page cache of writerCacheKiB:
	// see there.
	wq := url.Values{}
	for k, v := range q {
		wq[k] = v
	}
	wq.Add("_pragma", fmt.Sprintf("cache_size(-%d)", writerCacheKiB))
	w, err := sql.Open("sqlite", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	rep := CheckReport{Mode: o.Check}
	t0 := time.Now()
	ctx := context.Background()
	switch o.Check {
	case CheckFull:
		err = quickCheck(ctx, w, path, "")
	case CheckIncremental:
		budget := o.TailBudget
		if budget <= 0 {
			budget = DefaultTailBudget
		}
		err = incrementalCheck(ctx, w, path, budget, &rep)
	}
	rep.Took = time.Since(t0)
	if err != nil {
		w.Close()
		return nil, err
	}
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
	// SQLite gives -wal and -shm the database file's mode, but a file made
	// by an older relay may be wider: none of them is anyone else's to read.
	for _, suffix := range []string{"-wal", "-shm"} {
		if fi, err := os.Stat(path + suffix); err == nil && fi.Mode().Perm()&0o077 != 0 {
			os.Chmod(path+suffix, 0o600)
		}
	}
	s := &Store{w: w, r: r, path: path, ins: ins, walLimit: limit, stop: make(chan struct{}), stopped: make(chan struct{}),
		report: rep, firstCheck: make(chan struct{}), checked: make(chan struct{}), stmts: writerStmts{db: w}}
	s.stmts.get(ctx, headQuery, true) // every commit runs it, inside its transaction
	if err := w.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&s.pageSize); err != nil {
		s.closeHandles()
		return nil, fmt.Errorf("sqlite store: page size of %s: %w", path, err)
	}
	s.keys.minKeys = o.mergeMinKeys
	if err := s.loadTail(ctx); err != nil {
		s.closeHandles()
		return nil, err
	}
	if o.WALReserve > 0 {
		if err := reserveWAL(path, o.WALReserve); err != nil {
			s.closeHandles()
			return nil, err
		}
	}
	switch o.Check {
	case CheckFull:
		// The file was checked whole before the schema was touched: every
		// room's log is checked up to its head.
		heads, err := roomHeads(ctx, w)
		if err == nil {
			err = s.recordMarks(ctx, heads)
		}
		if err != nil {
			s.closeHandles()
			return nil, err
		}
	case CheckIncremental:
		c, err := sql.Open("sqlite", dsn)
		if err != nil {
			s.closeHandles()
			return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
		}
		c.SetMaxOpenConns(1)
		var cctx context.Context
		cctx, s.cancelCheck = context.WithCancel(context.Background())
		go s.backgroundCheck(cctx, c, o.CheckEvery, o.OnDamage)
	}
	if s.cancelCheck == nil {
		close(s.firstCheck)
		close(s.checked)
	}
	every := o.checkpointEvery
	if every <= 0 {
		every = checkpointEvery
	}
	go s.checkpoint(every)
	return s, nil
}

func (s *Store) closeHandles() {
	s.stmts.close()
	s.ins.Close()
	s.r.Close()
	s.w.Close()
}

// checkpointEvery is how often committed WAL pages are copied into the
// database file. PASSIVE checkpoints run beside the writer without blocking
// it, but their fsync of the database file shares the disk with the
// writer's fsync of the WAL. Small and often beats large and rare: at
// 1,000 paced msg/s a commit waited 2.1–2.5 ms behind the previous one in
// the slowest 1 % with a checkpoint every 500 ms (or 2 s), 0.65–0.85 ms
// every 100 ms; 50 and 25 ms were no better and cost more CPU (issue 18,
// docs/performance.md, "Paced latency"). It also keeps the writer's WAL
// restart short: it copies only the frames since the last checkpoint. An
// idle store's PASSIVE checkpoint finds nothing to copy and syncs nothing.
const checkpointEvery = 100 * time.Millisecond

// writerCacheKiB is the writer connection's page cache. Every submit
// looks its key up in submit_index (keys.go) at a random place (the key is
// a hash); once the index outgrows SQLite's default 2 MB cache, each
// lookup would read a page from the OS (a pread). 64 MiB holds the index
// of about 3 million events (18 bytes an entry) and the log's tail (issue
// 18, BenchmarkSubmitsStored); it is one connection's, and fills only as
// the store grows.
const writerCacheKiB = 64 << 10

// walLimit bounds the WAL. A PASSIVE checkpoint copies pages but never
// makes the WAL start again from its beginning while the writer keeps
// committing (that needs a moment when every frame is copied and no
// reader uses them), so under sustained writes the WAL grew for ever: 1.7
// GB for 100,000 events of 1 KiB. Over walLimit the checkpointer flags it
// and the writer, after its next commit, runs a RESTART checkpoint on its
// own connection (restartWAL): another connection would have to win the
// write lock from a writer that takes it back to back, and lost 17 of 19
// tries in BenchmarkStorageGrowth. The PASSIVE checkpoints have copied
// nearly everything by then, so the writer copies only the last frames;
// its next commit starts the WAL again at its head and journal_size_limit
// cuts the file back. The restart runs once AppendBatch has returned (its
// batch is acked and fanned out without waiting for it) and before the
// next commit, which waits for it (waitRestart).
const walLimit = 64 << 20

// A WAL file is a 32-byte header and frames of a 24-byte header and one
// page (sqlite.org/fileformat2.html, "WAL File Format").
const (
	walHeaderBytes      = 32
	walFrameHeaderBytes = 24
)

// restartWait is how long the writer's RESTART checkpoint may wait for
// readers (its busy timeout) before giving up until the next flag: every
// commit waits while it does, so it must not wait behind a long read (the
// background integrity check holds one for seconds).
const restartWait = 100 * time.Millisecond

func (s *Store) checkpoint(every time.Duration) {
	defer close(s.stopped)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.passiveCheckpoint()
		}
	}
}

// passiveCheckpoint copies what it can of the WAL into the database and
// flags the WAL for a restart once its log is over walLimit; it returns
// the log's length in bytes (-1 if the checkpoint failed).
func (s *Store) passiveCheckpoint() int64 {
	t0 := time.Now()
	var busy, logFrames, copied int64
	err := s.r.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &copied)
	s.ckptLog.add(CheckpointRun{Start: t0, Took: time.Since(t0), Kind: "passive"})
	if err != nil {
		return -1
	}
	// The log's length, not the file's size: a reserved WAL file
	// (WALReserve) is larger than the log it holds.
	logBytes := walHeaderBytes + logFrames*(s.pageSize+walFrameHeaderBytes)
	if logBytes > s.walLimit {
		s.walOver.Store(true)
	}
	return logBytes
}

// waitRestart waits for the WAL restart a commit started, if it runs: the
// next commit comes after it, whoever gets the writer's connection first.
func (s *Store) waitRestart() {
	s.restartMu.Lock()
	done := s.restartDone
	s.restartMu.Unlock()
	if done != nil {
		<-done
	}
}

// restartWAL runs a RESTART checkpoint on the writer's connection with a
// short busy timeout; AppendBatch starts it after a commit when the
// checkpointer found the WAL over walLimit.
func (s *Store) restartWAL() {
	ctx := context.Background()
	c, err := s.w.Conn(ctx)
	if err != nil {
		return
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout=%d`, restartWait.Milliseconds())); err != nil {
		return
	}
	var busy, logFrames, copied int
	t0 := time.Now()
	defer func() { s.ckptLog.add(CheckpointRun{Start: t0, Took: time.Since(t0), Kind: "restart"}) }()
	if err := c.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &logFrames, &copied); err == nil {
		s.walRestarts.Add(1)
		if busy != 0 {
			s.walRestartsBusy.Add(1)
		}
	}
	c.ExecContext(ctx, `PRAGMA busy_timeout=10000`)
}

// Close stops the checkpointer, checkpoints what is left and closes both
// handles.
func (s *Store) Close() error {
	if s.cancelCheck != nil {
		s.cancelCheck()
	}
	<-s.checked
	close(s.stop)
	<-s.stopped
	s.waitRestart()
	_, cerr := s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	s.stmts.close()
	return errors.Join(cerr, s.ins.Close(), s.r.Close(), s.w.Close())
}

// prepareFile refuses a missing or empty database unless create, and
// creates it 0600 (SQLite would use 0644 less the umask) or narrows an
// existing file to 0600.
func prepareFile(path string, create bool) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.Size() > 0:
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path, 0o600); err != nil {
				return fmt.Errorf("sqlite store: make %s private: %w", path, err)
			}
		}
		return nil
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("sqlite store: %w", err)
	case !create:
		what := "is missing"
		if err == nil {
			what = "is empty (0 bytes)"
		}
		return fmt.Errorf("sqlite store: %s %s: %w", path, what, ErrNoDatabase)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite store: create %s: %w", path, err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return err
	}
	return setPageSize(path)
}

// pageSize is a new database's page size: rows of 1 KiB frames pack 7 to
// an 8 KiB page with little left over (3 to a 4 KiB page, a fifth of it
// unused).
const pageSize = 8192

// setPageSize gives the new, empty database file path its page size. It
// must come before WAL mode: a database in WAL mode keeps its page size.
func setPageSize(path string) error {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return fmt.Errorf("sqlite store: create %s: %w", path, err)
	}
	defer db.Close()
	for _, q := range []string{fmt.Sprintf(`PRAGMA page_size=%d`, pageSize), `PRAGMA journal_mode=WAL`} {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("sqlite store: create %s: %s: %w", path, q, err)
		}
	}
	return nil
}

// clearMarks deletes the check marks in the database file path, if it has
// any.
func clearMarks(path string) error {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name='check_marks'`).Scan(&n); err != nil || n == 0 {
		return err
	}
	_, err = db.Exec(`DELETE FROM check_marks`)
	return err
}

// Backup writes a consistent copy of the database in dir to dest (a new
// file, 0600) with VACUUM INTO over a separate read-only connection, so it
// runs beside a relay that holds the data directory's lock and keeps
// committing: the copy is the database as of one read transaction. The copy
// is written to dest.partial, fsynced and renamed, so dest is whole or
// absent.
func Backup(dir, dest string) error {
	src := filepath.Join(dir, File)
	if fi, err := os.Stat(src); err != nil || fi.Size() == 0 {
		return fmt.Errorf("sqlite store: backup: %s: %w", src, ErrNoDatabase)
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("sqlite store: backup: %s already exists", dest)
	}
	partial := dest + ".partial"
	os.Remove(partial)
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite store: backup: %w", err)
	}
	f.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(partial)
		}
	}()
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+src+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("sqlite store: backup: open %s: %w", src, err)
	}
	defer db.Close()
	if _, err := db.Exec(`VACUUM INTO ?`, partial); err != nil {
		return fmt.Errorf("sqlite store: backup %s: %w", src, err)
	}
	// The copy's pages are all new: no part of it has been checked, so its
	// first start with CheckIncremental must read every log from the start.
	if err := clearMarks(partial); err != nil {
		return fmt.Errorf("sqlite store: backup: %w", err)
	}
	if f, err = os.OpenFile(partial, os.O_RDWR, 0); err == nil {
		err = f.Sync()
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("sqlite store: backup: fsync %s: %w", partial, err)
	}
	if err := os.Rename(partial, dest); err != nil {
		return fmt.Errorf("sqlite store: backup: %w", err)
	}
	ok = true
	if d, err := os.Open(filepath.Dir(dest)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
