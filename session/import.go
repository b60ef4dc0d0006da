package session

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// ImportTx writes a room's history into the cache as it is read, in one
// transaction, so a large import streams instead of holding every entry and a
// failed one leaves nothing behind.
type ImportTx struct {
	conn  *sql.Conn // the import's own connection, with a larger page cache
	cache int64     // its page cache setting before the import
	tx    *sql.Tx
	w     rowWriter
	room  string
	next  uint64 // seq of the next entry
	buf   []Entry
	below bool   // below a cached run: held, or staged in import_stage, until Commit
	low   uint64 // the cached run's low (below mode)
	// held are the entries of an import below a cached run while they fit
	// in heldLimit bytes (heldBytes so far): Commit writes them straight to
	// their seqs. Past the limit they go to import_stage (staged) and
	// Commit copies them.
	held      [][]Entry
	heldBytes int
	staged    bool
	// expect > 0: the caller said the import adds expect entries in all
	// (ExpectBelow), so they are written straight to entries at their final
	// seqs, low-expect.., while the file is still read; sw writes them.
	// A different count at the end moves them to import_stage (unexpect).
	expect uint64
	sw     rowWriter
	// msgLo..msgHi are the seqs of the first and last message added (as
	// numbered while adding; 0 when none): Commit queues the range for the
	// search index as one row.
	msgLo, msgHi uint64
}

// stageBase numbers the entries of an import below a cached run in
// import_stage until Commit knows their count n and copies them to
// low-n..low-1: far above any relay seq, so a staged seq is never mistaken
// for a final one.
const stageBase = uint64(1) << 62

// ErrRoomCached is returned by BeginImport for a room the cache already
// holds: its entries must go below the cached run (BeginImportBelow).
var ErrRoomCached = errors.New("the room is already cached")

// BeginImport starts importing room, which the cache must not hold yet; its
// entries are numbered from 1.
func (s *Store) BeginImport(room string) (*ImportTx, error) {
	t, err := s.beginImport(room)
	if err != nil {
		return nil, err
	}
	tx := t.tx
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM rooms WHERE room=?`, room).Scan(&n); err != nil {
		t.Rollback()
		return nil, fmt.Errorf("session: import %s: %w", room, err)
	}
	if n > 0 {
		t.Rollback()
		return nil, fmt.Errorf("session: import %s: %w", room, ErrRoomCached)
	}
	// Rows of the room without its rooms row would be replaced by a
	// plain import; the import's INSERT OR FAIL needs them gone.
	if _, err := tx.Exec(`DELETE FROM entries WHERE room=?`, room); err != nil {
		t.Rollback()
		return nil, fmt.Errorf("session: import %s: %w", room, err)
	}
	t.w.table, t.w.fresh, t.next = "entries", true, 1
	return t, nil
}

// importCacheKiB is the page cache of an import's connection. A 100,000-
// message import takes 1.2 s with it, 1.5 s with SQLite's default 2 MB, but every pooled
// connection keeping that much would cost the client tens of MB of resident
// memory, so only the import's connection has it, and only while it runs.
const importCacheKiB = 16 << 10

// beginImport opens the import's transaction on a connection of its own
// with the larger page cache; release puts the cache back.
func (s *Store) beginImport(room string) (*ImportTx, error) {
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("session: import %s: %w", room, err)
	}
	t := &ImportTx{conn: conn, room: room, buf: make([]Entry, 0, insertBatch)}
	err = conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&t.cache)
	if err == nil {
		_, err = conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size=-%d`, importCacheKiB))
	}
	if err == nil {
		t.tx, err = conn.BeginTx(ctx, nil)
	}
	if err != nil {
		t.release()
		return nil, fmt.Errorf("session: import %s: %w", room, err)
	}
	t.w.tx = t.tx
	return t, nil
}

// release gives the connection back with its page cache as it was (a
// smaller cache_size frees the pages above it).
func (t *ImportTx) release() {
	if t.conn == nil {
		return
	}
	if _, err := t.conn.ExecContext(context.Background(), fmt.Sprintf(`PRAGMA cache_size=%d`, t.cache)); err != nil {
		// Not pooled with the large cache: ErrBadConn makes database/sql close it.
		t.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	t.conn.Close()
	t.conn = nil
}

// BeginImportBelow starts importing older history into room, which the
// cache holds: entries are added in file order with seqs from Next() (a
// staging range) and Commit writes them to low-n..low-1, so the whole file
// goes through one transaction without counting it first. Up to heldLimit
// bytes of entries wait in memory and are written once, at their seqs; a
// larger import streams through import_stage and is copied at Commit.
func (s *Store) BeginImportBelow(room string) (*ImportTx, error) {
	t, err := s.beginImport(room)
	if err != nil {
		return nil, err
	}
	tx := t.tx
	r, err := scanRoom(tx.QueryRow(`SELECT `+roomCols+` FROM rooms WHERE room=?`, room))
	if err != nil {
		t.Rollback()
		return nil, fmt.Errorf("session: import below %s: %w", room, err)
	}
	t.w.table, t.w.fresh, t.next, t.below, t.low = "import_stage", true, stageBase, true, r.Low
	return t, nil
}

// Low is the cached run's low when the import began (below mode): at most
// Low-1 entries fit below it.
func (t *ImportTx) Low() uint64 { return t.low }

// Added is how many entries were added so far.
func (t *ImportTx) Added() uint64 {
	if t.below {
		return t.Next() - stageBase
	}
	return t.Next() - 1
}

// Next is the seq the next added entry must have.
func (t *ImportTx) Next() uint64 { return t.next + uint64(len(t.buf)) }

// Add appends e (e.Seq must be Next()).
func (t *ImportTx) Add(e Entry) error {
	if e.Room != t.room || e.Seq != t.Next() {
		return fmt.Errorf("session: import %s: entry of %s seq %d where seq %d was due: %w", t.room, e.Room, e.Seq, t.Next(), ErrGap)
	}
	if e.IsMessage() {
		if t.msgLo == 0 {
			t.msgLo = e.Seq
		}
		t.msgHi = e.Seq
	}
	t.buf = append(t.buf, e)
	if len(t.buf) == insertBatch {
		return t.flush()
	}
	return nil
}

// heldLimit is how many bytes of entries (heldSize) an import below a
// cached run holds in memory before it stages them in import_stage: writing
// 100,000 messages (about 60 MB held) to the stage and copying them cost a
// third of such an import, but memory must stay bounded for any file. A
// variable so tests can make an import spill.
var heldLimit = 128 << 20

// heldChunk is how many entries one held slice takes.
const heldChunk = 4096

// heldSize is about what an entry costs held in memory.
func heldSize(e *Entry) int {
	return int(unsafe.Sizeof(*e)) + len(e.Raw) + len(e.Sender) + len(e.Target) + len(e.Value) + len(e.Reason) + len(e.Undecryptable)
}

func (t *ImportTx) flush() error {
	if t.expect > 0 && t.Added() > t.expect {
		if err := t.unexpect(); err != nil {
			return err
		}
	}
	if t.expect > 0 {
		if err := t.writeExpected(t.buf); err != nil {
			return err
		}
	} else if t.below && !t.staged {
		t.hold()
		if t.heldBytes <= heldLimit {
			return nil
		}
		if err := t.spill(); err != nil {
			return err
		}
	} else if err := t.w.write(t.room, t.next, t.buf); err != nil {
		return err
	}
	t.next += uint64(len(t.buf))
	t.buf = t.buf[:0]
	return nil
}

// ExpectBelow tells an import below a cached run that it will add n
// entries in all, so from now on each batch is written to entries at its
// final seq, low-n+i, while the caller still reads the file, instead of
// being held until Commit knows the count. It reports whether it took the
// count: not when the import already spilled to import_stage, has added more
// than n, n does not fit below the run, or rows a rebased run left at
// low-n..low-1 would have to go (the sequential path keeps that case).
//
// The count is only a promise: if Commit finds another count (or Add goes
// past n), the rows written so far move to import_stage and the import
// ends as a spilled one, the same rows at the same seqs, only slower.
func (t *ImportTx) ExpectBelow(n uint64) (bool, error) {
	if !t.below || t.staged || t.expect > 0 || n == 0 || n >= t.low || t.Added() > n {
		return false, nil
	}
	var stale int
	if err := t.tx.QueryRow(`SELECT count(*) FROM entries WHERE room=? AND seq>=? AND seq<?`,
		t.room, int64(t.low-n), int64(t.low)).Scan(&stale); err != nil {
		return false, fmt.Errorf("session: import %s: %w", t.room, err)
	}
	if stale > 0 {
		return false, nil
	}
	t.expect = n
	t.sw = rowWriter{tx: t.tx, table: "entries", fresh: true}
	for _, chunk := range t.held {
		if err := t.writeExpected(chunk); err != nil {
			return false, err
		}
	}
	t.held, t.heldBytes = nil, 0
	return true, nil
}

// Expected reports whether the entries added so far are exactly the count
// ExpectBelow took: Commit then only writes the last batch, the rest went
// to their seqs while they were added.
func (t *ImportTx) Expected() bool {
	return t.expect > 0 && t.Added() == t.expect
}

// writeExpected writes es (numbered in the staging range) to entries at
// their final seqs under the expected count.
func (t *ImportTx) writeExpected(es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	shift := stageBase - (t.low - t.expect) // staged seq - final seq
	first := es[0].Seq - shift
	for i := range es {
		es[i].Seq -= shift
	}
	return t.sw.write(t.room, first, es)
}

// unexpect gives up the expected count: the rows written under it move to
// import_stage (renumbered back to the staging range), where the rest of
// the import goes too, and Commit copies them as for any spilled import.
func (t *ImportTx) unexpect() error {
	first := t.low - t.expect
	written := t.next - stageBase // flushed so far, all written
	shift := stageBase - first
	t.sw.close()
	t.expect = 0
	_, err := t.tx.Exec(`DELETE FROM import_stage`)
	if err == nil && written > 0 {
		_, err = t.tx.Exec(`INSERT INTO import_stage(`+rowCols+`) SELECT `+
			strings.Replace(rowCols, "seq,", "seq+?,", 1)+` FROM entries WHERE room=? AND seq>=? AND seq<? ORDER BY seq`,
			int64(shift), t.room, int64(first), int64(first+written))
		if err == nil {
			_, err = t.tx.Exec(`DELETE FROM entries WHERE room=? AND seq>=? AND seq<?`, t.room, int64(first), int64(first+written))
		}
	}
	if err != nil {
		return fmt.Errorf("session: import %s: %w", t.room, err)
	}
	t.staged = true
	return nil
}

// hold moves the buffered entries to the held ones.
func (t *ImportTx) hold() {
	for i := range t.buf {
		if n := len(t.held); n == 0 || len(t.held[n-1]) == cap(t.held[n-1]) {
			t.held = append(t.held, make([]Entry, 0, heldChunk))
		}
		last := &t.held[len(t.held)-1]
		*last = append(*last, t.buf[i])
		t.heldBytes += heldSize(&t.buf[i])
	}
	t.next += uint64(len(t.buf))
	clear(t.buf)
	t.buf = t.buf[:0]
}

// spill writes the held entries to import_stage, where the rest of the
// import goes too.
func (t *ImportTx) spill() error {
	if _, err := t.tx.Exec(`DELETE FROM import_stage`); err != nil {
		return fmt.Errorf("session: import %s: %w", t.room, err)
	}
	next := uint64(stageBase)
	for _, chunk := range t.held {
		if err := t.w.write(t.room, next, chunk); err != nil {
			return err
		}
		next += uint64(len(chunk))
	}
	t.held, t.heldBytes, t.staged = nil, 0, true
	return nil
}

// Commit writes the rest and the room's metadata (meta.ID must be the
// room; Low, Cursor and Head are set from the entries) and commits.
//
// For an import below a cached run (BeginImportBelow) meta is ignored: the
// staged entries move to low-n..low-1 and the run's low becomes low-n.
func (t *ImportTx) Commit(meta Room) (Room, error) {
	defer t.Rollback()
	if err := t.flush(); err != nil {
		return meta, err
	}
	if t.below {
		return Room{}, t.commitBelow()
	}
	if meta.ID != t.room {
		return meta, fmt.Errorf("session: import %s: metadata of %s", t.room, meta.ID)
	}
	meta.Low, meta.Cursor = 1, t.next-1
	meta.Head = max(meta.Head, meta.Cursor)
	if err := saveRoom(t.tx, meta); err != nil {
		return meta, err
	}
	if t.msgLo != 0 {
		if err := queueSearch(t.tx, t.room, t.msgLo, t.msgHi); err != nil {
			return meta, err
		}
	}
	if err := t.tx.Commit(); err != nil {
		return meta, fmt.Errorf("session: import %s: %w", t.room, err)
	}
	return meta, nil
}

// commitBelow copies the staged entries to low-n..low-1 and lowers the run.
func (t *ImportTx) commitBelow() error {
	n := t.Added()
	if n == 0 {
		return nil
	}
	if t.expect > 0 && n != t.expect {
		if err := t.unexpect(); err != nil {
			return err
		}
	}
	if n >= t.low {
		return fmt.Errorf("session: import %s: %d entries, %d free below seq %d: %w", t.room, n, t.low-1, t.low, ErrNoSeqsBelow)
	}
	first := t.low - n
	// Rows below a rebased run may exist (insertEntries replaces them):
	// deleting them first lets every row go in with INSERT OR FAIL, which
	// needs no statement journal.
	var err error
	if t.expect == 0 { // under the expected count they are all written, none stale
		_, err = t.tx.Exec(`DELETE FROM entries WHERE room=? AND seq>=? AND seq<?`, t.room, int64(first), int64(t.low))
	}
	if err == nil && t.expect > 0 {
		t.sw.close()
	} else if err == nil && t.staged {
		_, err = t.tx.Exec(`INSERT OR FAIL INTO entries(`+rowCols+`) SELECT `+
			strings.Replace(rowCols, "seq,", "seq-?,", 1)+` FROM import_stage ORDER BY seq`,
			int64(stageBase-first))
		if err == nil {
			_, err = t.tx.Exec(`DELETE FROM import_stage`)
		}
	} else if err == nil {
		err = t.writeHeld(first)
	}
	if err == nil {
		_, err = t.tx.Exec(`UPDATE rooms SET low=? WHERE room=?`, int64(first), t.room)
	}
	if err == nil && t.msgLo != 0 {
		shift := stageBase - first // staged seq - final seq
		err = queueSearch(t.tx, t.room, t.msgLo-shift, t.msgHi-shift)
	}
	if err == nil {
		err = t.tx.Commit()
	}
	if err != nil {
		return fmt.Errorf("session: import %s: %w", t.room, err)
	}
	return nil
}

// writeHeld writes the held entries to entries at first, first+1, ...
func (t *ImportTx) writeHeld(first uint64) error {
	w := rowWriter{tx: t.tx, table: "entries", fresh: true}
	defer w.close()
	next := first
	for _, chunk := range t.held {
		for i := range chunk {
			chunk[i].Seq = next + uint64(i)
		}
		if err := w.write(t.room, next, chunk); err != nil {
			return err
		}
		next += uint64(len(chunk))
	}
	t.held, t.heldBytes = nil, 0
	return nil
}

// ErrNoSeqsBelow is returned when the cached run starts too low for the
// imported entries to fit below it.
var ErrNoSeqsBelow = errors.New("no sequence numbers left below the cached run")

// Rollback abandons the import; nothing it added stays.
func (t *ImportTx) Rollback() {
	t.held = nil
	t.w.close()
	t.sw.close()
	t.tx.Rollback()
	t.release()
}
