package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// CheckMode says how OpenWith checks the database's integrity.
type CheckMode int

const (
	// CheckNone checks nothing.
	CheckNone CheckMode = iota
	// CheckFull runs PRAGMA quick_check over the whole file before
	// anything else: every page is read, so it costs time in proportion
	// to the store.
	CheckFull
	// CheckIncremental checks at open only what a full check has not yet
	// seen clean, within Options.TailBudget: every table but the event log
	// in full (quick_check), and each room's log from the last event of
	// the last clean full check on (read page by page with SQLite's cell
	// checks, seqs contiguous). A full quick_check then runs in the
	// background; damage it finds refuses further writes (Damaged,
	// Options.OnDamage), a clean pass records the new marks.
	CheckIncremental
)

// checkMarksTable records, per room, the last seq a clean full check saw;
// the incremental check reads each room's log from there on.
const checkMarksTable = `CREATE TABLE IF NOT EXISTS check_marks(room TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;`

// DefaultTailBudget is how long the incremental check at open may spend
// reading the logs' unchecked tails; what is left is covered by the
// background check.
const DefaultTailBudget = 500 * time.Millisecond

// CheckReport says what the check at open covered.
type CheckReport struct {
	Mode       CheckMode
	Took       time.Duration
	Tables     int   // tables checked in full (quick_check), besides the log in CheckFull
	Rooms      int   // rooms whose unchecked log tail was read in full
	RoomsLeft  int   // rooms whose tail the budget did not reach (left to the background check)
	TailEvents int64 // events read in the logs' tails
	TailBytes  int64 // frame bytes read in the logs' tails
}

// StartCheck reports what the check at open covered.
func (s *Store) StartCheck() CheckReport { return s.report }

// Damaged returns the error describing damage a background check found,
// or nil. Once it is set the store refuses writes to the log (AppendBatch,
// DeleteEventsBefore) with ErrDamaged.
func (s *Store) Damaged() error {
	if p := s.damaged.Load(); p != nil {
		return *p
	}
	return nil
}

// CheckedMarks returns the marks of the last clean full check (room → the
// last seq it saw), for tests and operators.
func (s *Store) CheckedMarks(ctx context.Context) (map[string]uint64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT room, seq FROM check_marks`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: read check marks: %w", err)
	}
	defer rows.Close()
	marks := map[string]uint64{}
	for rows.Next() {
		var room string
		var seq uint64
		if err := rows.Scan(&room, &seq); err != nil {
			return nil, fmt.Errorf("sqlite store: read check marks: %w", err)
		}
		marks[room] = seq
	}
	return marks, rows.Err()
}

// quickCheck runs PRAGMA quick_check (of the whole file, or of one table
// and its indexes) and refuses a damaged database: structure and page
// integrity, not index contents.
func quickCheck(ctx context.Context, q rowsQueryer, path, table string) error {
	stmt := `PRAGMA quick_check(20)`
	if table != "" {
		stmt = `PRAGMA quick_check("` + strings.ReplaceAll(table, `"`, `""`) + `")`
	}
	rows, err := q.QueryContext(ctx, stmt)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return damageErr(path, "quick_check", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return damageErr(path, "quick_check", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return damageErr(path, "quick_check", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("sqlite store: check %s: %w: %s", path, ErrDamaged, strings.Join(problems, "; "))
	}
	return nil
}

// damageErr wraps an error met while checking: ErrDamaged if SQLite found
// the file malformed, a plain failure (busy, I/O) otherwise.
func damageErr(path, what string, err error) error {
	if isCorrupt(err) {
		return fmt.Errorf("sqlite store: check %s: %w: %s: %v", path, ErrDamaged, what, err)
	}
	return fmt.Errorf("sqlite store: check %s: %s: %w", path, what, err)
}

// isCorrupt reports whether err is SQLite finding a malformed page or file
// (SQLITE_CORRUPT, SQLITE_NOTADB).
func isCorrupt(err error) bool {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	code := e.Code() & 0xff
	return code == sqlite3.SQLITE_CORRUPT || code == sqlite3.SQLITE_NOTADB
}

type rowsQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// incrementalCheck is CheckIncremental's part at open, on the writer's
// connection before the schema is touched.
func incrementalCheck(ctx context.Context, db *sql.DB, path string, budget time.Duration, rep *CheckReport) error {
	t0 := time.Now()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite store: check %s: %w", path, err)
	}
	defer conn.Close()
	// cell_size_check makes SQLite verify every cell's bounds as each page
	// is loaded, not just the page header: reading a page then finds most
	// of what quick_check would find on it.
	if _, err := conn.ExecContext(ctx, `PRAGMA cell_size_check=ON`); err != nil {
		return fmt.Errorf("sqlite store: check %s: %w", path, err)
	}
	defer conn.ExecContext(context.Background(), `PRAGMA cell_size_check=OFF`)

	tables, err := names(ctx, conn, `SELECT name FROM sqlite_schema WHERE type='table' AND name NOT IN ('events', 'submit_index') ORDER BY name`)
	if err != nil {
		return damageErr(path, "list tables", err)
	}
	for _, t := range append([]string{"sqlite_schema"}, tables...) {
		if err := quickCheck(ctx, conn, path, t); err != nil {
			return err
		}
		rep.Tables++
	}
	if !contains(tables, "rooms") { // a new database: nothing else to read
		return nil
	}
	marks := map[string]uint64{}
	if contains(tables, "check_marks") {
		rows, err := conn.QueryContext(ctx, `SELECT room, seq FROM check_marks`)
		if err != nil {
			return damageErr(path, "check marks", err)
		}
		for rows.Next() {
			var room string
			var seq uint64
			if err := rows.Scan(&room, &seq); err != nil {
				rows.Close()
				return damageErr(path, "check marks", err)
			}
			marks[room] = seq
		}
		rows.Close()
	}
	rooms, err := names(ctx, conn, `SELECT uri FROM rooms ORDER BY uri`)
	if err != nil {
		return damageErr(path, "rooms", err)
	}
	deadline := t0.Add(budget)
	for i, room := range rooms {
		if time.Now().After(deadline) {
			rep.RoomsLeft = len(rooms) - i
			break
		}
		if err := readTail(ctx, conn, path, room, marks[room], deadline, rep); err != nil {
			return err
		}
	}
	return nil
}

// readTail reads room's log from its mark (the last event the last full
// check saw, so at least the log's last event) to its end, or until the
// deadline: each page is loaded and checked by SQLite, and the seqs must
// run on without a gap (a lost or misplaced page would break them).
func readTail(ctx context.Context, conn *sql.Conn, path, room string, mark uint64, deadline time.Time, rep *CheckReport) error {
	from := mark
	if from == 0 {
		from = 1
	}
	// A mark below what retention kept starts at the oldest kept event.
	rows, err := conn.QueryContext(ctx, `SELECT seq, ts, frame FROM events WHERE room=? AND seq>=? ORDER BY seq`, room, from)
	if err != nil {
		return damageErr(path, "room "+room, err)
	}
	defer rows.Close()
	var prevSeq uint64
	var prevTS int64
	var frame sql.RawBytes
	n := 0
	for rows.Next() {
		var seq uint64
		var ts int64
		if err := rows.Scan(&seq, &ts, &frame); err != nil {
			return damageErr(path, "room "+room, err)
		}
		if prevSeq != 0 && (seq != prevSeq+1 || ts < prevTS) {
			return fmt.Errorf("sqlite store: check %s: %w: room %s: event #%d (ts %d) follows #%d (ts %d)",
				path, ErrDamaged, room, seq, ts, prevSeq, prevTS)
		}
		prevSeq, prevTS = seq, ts
		rep.TailEvents++
		rep.TailBytes += int64(len(frame))
		if n++; n%256 == 0 && time.Now().After(deadline) {
			rep.RoomsLeft++
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return damageErr(path, "room "+room, err)
	}
	rep.Rooms++
	return nil
}

// backgroundCheck runs a full quick_check on its own connection after
// open, then every every (0: once). Damage sets Damaged and calls
// onDamage; a clean pass records the marks the next open starts from.
func (s *Store) backgroundCheck(ctx context.Context, db *sql.DB, every time.Duration, onDamage func(error)) {
	var once sync.Once
	firstDone := func() { once.Do(func() { close(s.firstCheck) }) }
	defer close(s.checked)
	defer firstDone()
	defer db.Close()
	for {
		err := s.fullCheck(ctx, db)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, ErrDamaged):
			s.damaged.Store(&err)
			if onDamage != nil {
				onDamage(err)
			}
			return
		case err != nil:
			// Not damage (a busy or closed file): try again next time.
			s.checkErr.Store(&err)
		}
		firstDone()
		if every <= 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// fullCheck runs quick_check in one read transaction and, if the file is
// clean, records each room's last seq as of that transaction as its mark.
func (s *Store) fullCheck(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite store: background check: %w", err)
	}
	defer tx.Rollback()
	heads, err := roomHeads(ctx, tx)
	if err != nil {
		return damageErr(s.path, "room heads", err)
	}
	if err := quickCheck(ctx, tx, s.path, ""); err != nil {
		return err
	}
	tx.Rollback()
	s.fullChecks.Add(1)
	return s.recordMarks(ctx, heads)
}

// roomHeads reads each room's last seq (one index probe per room).
func roomHeads(ctx context.Context, q rowsQueryer) (map[string]uint64, error) {
	rows, err := q.QueryContext(ctx, `SELECT uri, coalesce((SELECT seq FROM events WHERE room=uri ORDER BY seq DESC LIMIT 1), 0) FROM rooms`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: read room heads: %w", err)
	}
	defer rows.Close()
	heads := map[string]uint64{}
	for rows.Next() {
		var room string
		var seq uint64
		if err := rows.Scan(&room, &seq); err != nil {
			return nil, fmt.Errorf("sqlite store: read room heads: %w", err)
		}
		heads[room] = seq
	}
	return heads, rows.Err()
}

// recordMarks replaces the check marks on the writer's connection.
func (s *Store) recordMarks(ctx context.Context, heads map[string]uint64) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: record check marks: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM check_marks`); err != nil {
		return fmt.Errorf("sqlite store: record check marks: %w", err)
	}
	for room, seq := range heads {
		if seq == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO check_marks(room, seq) VALUES(?,?)`, room, seq); err != nil {
			return fmt.Errorf("sqlite store: record check marks: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite store: record check marks: %w", err)
	}
	return nil
}

// WaitChecked waits until the background check has finished its first
// pass (or the store is closed) and reports how many clean full checks
// have completed.
func (s *Store) WaitChecked(ctx context.Context) (int64, error) {
	select {
	case <-s.firstCheck:
	case <-ctx.Done():
		return s.fullChecks.Load(), ctx.Err()
	}
	return s.fullChecks.Load(), s.Damaged()
}

func names(ctx context.Context, q rowsQueryer, query string) ([]string, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// LeafPages returns the database's page size and the page numbers
// (1-based) of table's live b-tree leaves in the database in dir, from
// SQLite's dbstat table: fault-injection tests use it to damage the page
// holding a given row (interior pages of a WITHOUT ROWID table hold whole
// rows too, and freed pages keep stale copies). Not for use while a relay
// runs on dir.
func LeafPages(dir, table string) (int64, []int64, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, File)+"?mode=ro")
	if err != nil {
		return 0, nil, fmt.Errorf("sqlite store: leaf pages: %w", err)
	}
	defer db.Close()
	var size int64
	if err := db.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil {
		return 0, nil, fmt.Errorf("sqlite store: page size: %w", err)
	}
	rows, err := db.Query(`SELECT pageno FROM dbstat WHERE name=? AND pagetype='leaf' ORDER BY pageno`, table)
	if err != nil {
		return 0, nil, fmt.Errorf("sqlite store: leaf pages of %s: %w", table, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return 0, nil, fmt.Errorf("sqlite store: leaf pages of %s: %w", table, err)
		}
		out = append(out, n)
	}
	return size, out, rows.Err()
}
