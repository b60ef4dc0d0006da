package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"mimichat/relay/store"
)

// The submission-key index (dedupe) in two levels, so that a commit's
// writes stay near the end of the file however large the store is (issue
// 18, BenchmarkSubmitsStored). A key is a SHA-256, so a b-tree keyed by it
// takes each new key at a random leaf: with the keys of a million events a
// batch of 500 submits dirtied ~500 leaves, each written to the WAL whole,
// seven times the bytes of the events themselves.
//
//   - submit_tail is the recent keys in arrival order (a rowid table, so
//     appends go to its last page); the writer holds them in memory
//     (keyTail.ids) for lookups. AppendBatch fills it in the same
//     transaction as the events, one statement per batch (a trigger on
//     events would make every event's insert a statement that writes
//     several rows, which SQLite journals page by page in a statement
//     journal: 30 % of the writer's CPU in a first profile).
//   - submit_index is every older key, in key order: (the key's first 8
//     bytes, the event's id), about 18 bytes an entry against 70 for the
//     old (room, key) index on events, so it stays in the writer's cache.
//   - Once the tail holds mergeAt keys, it is frozen and merged into
//     submit_index in key order, a slice per commit: mergeStepMin keys in
//     a commit of at most mergeStepMin keys, none in a larger one, and
//     mergeStepMin plus mergeCatchUp per key the commit appends once the
//     next merge is due (the open tail has reached mergeAt again). Each
//     slice is a narrow key range, so a whole merge rewrites each leaf of
//     the index about once. A burst of large commits thus merges nothing
//     until the tail has grown by mergeAt, and a sustained one merges every
//     key once, as before (BenchmarkStoredCommits with
//     MIMICHAT_STORED_COMMITS=600 measures that case). The merge's last
//     slice deletes the frozen rows from the tail in the same transaction;
//     its progress is saved now and then, so that a restart resumes it
//     (resumeMerge).
//
// A lookup takes the candidates of both levels by the 8-byte prefix and
// reads their events to compare room and whole key, so a prefix shared
// by two keys, or an entry left by a deleted event whose id was reused,
// never answers for another message. Exactly-once holds for every stored
// event however old (docs/protocol.md, "Resubmission"): a key is in the
// tail or the index from its event's commit on, and a trigger removes it
// when retention deletes the event.
const keyTables = `
CREATE TABLE IF NOT EXISTS submit_index(k BLOB NOT NULL, id INTEGER NOT NULL, PRIMARY KEY(k, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS submit_tail(n INTEGER PRIMARY KEY AUTOINCREMENT, id INTEGER NOT NULL, k BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS submit_tail_by_id ON submit_tail(id);
` + filterTable + `
CREATE TRIGGER IF NOT EXISTS events_key_gone AFTER DELETE ON events WHEN old.submit_key IS NOT NULL BEGIN
	DELETE FROM submit_index WHERE k = substr(old.submit_key, 1, 8) AND id = old.id;
	DELETE FROM submit_tail WHERE id = old.id;
END;
`

// addToTail inserts the keys AppendBatch appended into submit_tail in one
// statement: the rows as a JSON array of [n, id, hex prefix] (a VALUES list
// of a batch's 500 rows took SQLite longer to parse and bind than to
// insert).
func (s *Store) addToTail(ctx context.Context, tx *sql.Tx, rows []tailRow) error {
	if len(rows) == 0 {
		return nil
	}
	js := make([]byte, 0, len(rows)*48+2)
	js = append(js, '[')
	for i, r := range rows {
		if i > 0 {
			js = append(js, ',')
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], r.k)
		js = append(js, '[')
		js = strconv.AppendInt(js, r.n, 10)
		js = append(js, ',')
		js = strconv.AppendInt(js, r.id, 10)
		js = append(js, ',', '"')
		js = hex.AppendEncode(js, k[:r.klen])
		js = append(js, '"', ']')
	}
	js = append(js, ']')
	_, err := s.execCached(ctx, tx, tailInsert, string(js))
	if err != nil {
		return fmt.Errorf("sqlite store: add keys to the tail: %w", err)
	}
	return nil
}

// The statements of every commit that appends keys, prepared once at open
// (loadTail): SQLite would parse them again at each commit.
const (
	tailInsert = `INSERT INTO submit_tail(n, id, k)
		SELECT value->>0, value->>1, unhex(value->>2) FROM json_each(?)`
	// mergeInsert takes the slice's rows from submit_tail by n, so that
	// the rows of events deleted since they were added drop out of the
	// join; mergeInsertRows takes them as they are in memory (a seek into
	// submit_tail per key less), which mergeStep does only when no event
	// was deleted since they were added (keyTail.openDirty, frozenDirty).
	mergeInsert = `INSERT OR IGNORE INTO submit_index(k, id)
		SELECT k, id FROM submit_tail WHERE n IN (SELECT value FROM json_each(?))`
	mergeInsertRows = `INSERT OR IGNORE INTO submit_index(k, id)
		SELECT unhex(value->>0), value->>1 FROM json_each(?)`
	mergeDelete = `DELETE FROM submit_tail WHERE n <= ?`
	// mergeSave records a running merge's progress (mergeProgress) in the
	// transaction of the slice it covers; mergeForget drops it with the
	// merge's last slice.
	mergeSave = `INSERT INTO meta(key, value) VALUES('submit_merge', ?)
		ON CONFLICT(key) DO UPDATE SET value=excluded.value`
	mergeForget = `DELETE FROM meta WHERE key='submit_merge'`
)

// execCached runs query in tx with the writer's prepared statement.
func (s *Store) execCached(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.stmts.get(ctx, query, false); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// n in submit_tail numbers the rows in arrival order; the store assigns
// it (keyTail.nextN) and never reuses one (AUTOINCREMENT keeps the highest
// in sqlite_sequence across restarts): the merge deletes the frozen rows
// as the range n <= its last, which must not take a row added later.

// Merge thresholds: a merge starts when the tail holds
// max(mergeMinKeys, events/mergeFraction) keys. The fraction keeps a
// merge's cost per key constant as the index grows (a merge rewrites
// about every leaf of the index once); the floor keeps small stores from
// merging at all.
const (
	mergeMinKeys  = 65_536
	mergeFraction = 8
	// mergeStepMin is how many frozen keys a commit of at most
	// mergeStepMin keys merges while a merge runs: paced commits of a few
	// messages finish a merge long before the next is due. A larger
	// commit (the writer had requests queued: a burst, in which its
	// throughput is what counts) merges none until the next merge is due:
	// 32 keys a commit cost ~2.7 of the ~45 pages a commit of 470 small
	// events wrote to the WAL at 1 M stored events, and did little for
	// the merge (150,000 frozen keys take 4,700 such commits, far more
	// than the catch-up's share).
	mergeStepMin = 32
	// mergeCatchUp is how many frozen keys a commit merges per key it
	// appends, besides mergeStepMin, once the open tail has reached
	// mergeAt while a merge still runs (the next one is due). Below that
	// a commit merges mergeStepMin keys only, so that a burst of large
	// commits (a writer with requests queued: its throughput is what
	// counts) spends nearly nothing on the merge. Under a sustained burst
	// the frozen keys stay under about 4/3 mergeAt (a merge of F keys
	// ends before the open tail has grown by F/4 over mergeAt), so the
	// whole tail under about 2.7 mergeAt.
	mergeCatchUp = 4
	// mergeSaveParts: a running merge's progress is saved with its first
	// merged keys and then each time it has merged another
	// 1/mergeSaveParts of its keys (at least mergeStepMin), so a restart
	// redoes at most that much of it (a row of meta rewritten about once
	// per 2,300 keys merged at 1 M events, not every commit).
	mergeSaveParts = 64
)

// keyTail is the in-memory side of submit_tail and the merge in progress.
// AppendBatch (one caller at a time) is the only writer of everything but
// ids and absent, which Submitted reads and writes under mu.
type keyTail struct {
	mu sync.Mutex
	// ids maps a key prefix to the id of an event in submit_tail (it may be
	// of a deleted event); more holds the other ids of a prefix, nearly
	// always none. Values without pointers: the map holds up to a few
	// hundred thousand keys, which the GC then need not scan, and its
	// slots are 16 bytes.
	ids  map[uint64]int64
	more map[uint64][]int64
	// absent holds the keys (room + NUL + key) the last Submitted found
	// nowhere, valid while gen (the commits so far) is absentGen: a
	// batch's AppendBatch does not look them up again. Only AppendBatch
	// adds keys, so no commit since means still absent.
	absent         map[string]bool
	gen, absentGen uint64

	minKeys int       // merge floor (mergeMinKeys; tests lower it)
	lastID  int64     // the highest event id seen
	nextN   int64     // n of the next tail row
	open    []tailRow // tail rows not frozen, in n order (some may be of deleted events)
	frozen  []tailRow // the tail rows being merged, in key order; nil when no merge runs
	at      int       // frozen[:at] are merged
	lastN   int64     // the highest n of frozen
	savedAt int       // the progress saved in meta (submit_merge): frozen[:savedAt]
	resumed int       // keys found merged at open (a merge cut off by a restart; tests)

	// Whether events may have been deleted since the rows of open, of
	// frozen, were added (their rows then may be gone from submit_tail).
	// Retention sets deleted before it deletes; AppendBatch moves it to
	// both flags. Rows read at open are all there.
	deleted                atomic.Bool
	openDirty, frozenDirty bool

	filter       keyFilter // prefixes of submit_index (keyfilter.go), under mu
	filterBuilds int       // times it was built from submit_index since open (tests)
	merged       int64     // keys merged since open (benchmarks)
}

type tailRow struct {
	k    uint64
	n    int64
	id   int64
	klen int // bytes of the stored prefix (8 but for keys shorter than 8 bytes)
}

// prefix is a key's first 8 bytes as stored in k (shorter keys are padded
// with zeros in memory; the stored blob is substr's, and lookups compare
// whole keys anyway).
func prefix(key []byte) uint64 {
	var b [8]byte
	copy(b[:], key)
	return binary.BigEndian.Uint64(b[:])
}

// add records the tail row of event id under prefix k. An id may be
// listed twice under one prefix (a deleted event's row in the frozen tail,
// a new event that reused its id for the same bytes in the open one): each
// row is removed once.
func (t *keyTail) add(k uint64, id int64) {
	if _, ok := t.ids[k]; !ok {
		t.ids[k] = id
		return
	}
	t.more[k] = append(t.more[k], id)
}

func (t *keyTail) remove(k uint64, id int64) {
	first, ok := t.ids[k]
	if !ok {
		return
	}
	more := t.more[k]
	switch {
	case first == id && len(more) == 0:
		delete(t.ids, k)
		return
	case first == id:
		t.ids[k], more = more[0], more[1:]
	default:
		i := slices.Index(more, id)
		if i < 0 {
			return
		}
		more = slices.Delete(more, i, i+1)
	}
	if len(more) == 0 {
		delete(t.more, k)
	} else {
		t.more[k] = more
	}
}

// lookup adds the ids under prefix k to cands.
func (t *keyTail) lookup(k uint64, cands map[int64]bool) {
	first, ok := t.ids[k]
	if !ok {
		return
	}
	cands[first] = true
	if len(t.more) > 0 {
		for _, id := range t.more[k] {
			cands[id] = true
		}
	}
}

// mergeAt is the tail size at which a merge starts.
func (t *keyTail) mergeAt() int {
	return max(t.minKeys, int(t.lastID/mergeFraction))
}

// loadTail reads submit_tail into memory at open.
func (s *Store) loadTail(ctx context.Context) error {
	t := &s.keys
	t.absent = map[string]bool{}
	if t.minKeys == 0 {
		t.minKeys = mergeMinKeys
	}
	var count int
	err := s.w.QueryRowContext(ctx, `SELECT coalesce((SELECT max(id) FROM events), 0),
		max(coalesce((SELECT seq FROM sqlite_sequence WHERE name='submit_tail'), 0), coalesce((SELECT max(n) FROM submit_tail), 0)),
		(SELECT count(*) FROM submit_tail)`).Scan(&t.lastID, &t.nextN, &count)
	if err != nil {
		return fmt.Errorf("sqlite store: last event id: %w", err)
	}
	// Sized for the merge threshold's keys besides those stored, so that
	// commits seldom grow it (growing it was 6 % of the commits' CPU at 1 M
	// stored events, BenchmarkStoredCommits).
	t.ids, t.more = make(map[uint64]int64, count+t.mergeAt()), map[uint64][]int64{}
	t.open = make([]tailRow, 0, count)
	rows, err := s.w.QueryContext(ctx, `SELECT n, id, k FROM submit_tail ORDER BY n`)
	if err != nil {
		return fmt.Errorf("sqlite store: read the key tail: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r tailRow
		var k sql.RawBytes // read in place: prefix copies it
		if err := rows.Scan(&r.n, &r.id, &k); err != nil {
			return fmt.Errorf("sqlite store: read the key tail: %w", err)
		}
		r.k, r.klen = prefix(k), min(8, len(k))
		t.add(r.k, r.id)
		t.open = append(t.open, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite store: read the key tail: %w", err)
	}
	rows.Close()
	var tailMin int64
	if len(t.open) > 0 {
		tailMin = t.open[0].n
	}
	if err := s.loadFilter(ctx, tailMin, t.nextN); err != nil {
		return err
	}
	if err := s.resumeMerge(ctx); err != nil {
		return err
	}
	for _, q := range []string{tailInsert, mergeInsert, mergeInsertRows, mergeDelete, mergeSave, mergeForget} {
		s.stmts.get(ctx, q, true)
	}
	s.warmIndex(ctx)
	t.nextN++
	// A tail over the threshold with no merge to resume (a merge was
	// running when an older relay closed the store, or the threshold
	// was reached by the last commit) is frozen now rather than in the
	// first commit: sorting a few hundred thousand keys takes tens of
	// milliseconds.
	if t.frozen == nil && len(t.open) >= t.mergeAt() {
		t.frozen, t.lastN = byKey(t.open), t.open[len(t.open)-1].n
		t.open = nil
	}
	return nil
}

// byKey returns the rows of all of rows sorted by key (then n), in a new
// slice.
func byKey(rows ...[]tailRow) []tailRow {
	var n int
	for _, r := range rows {
		n += len(r)
	}
	out := make([]tailRow, 0, n)
	for _, r := range rows {
		out = append(out, r...)
	}
	slices.SortFunc(out, compareRows)
	return out
}

// compareRows orders tail rows by key, then n.
func compareRows(a, b tailRow) int {
	if c := cmp.Compare(a.k, b.k); c != 0 {
		return c
	}
	return cmp.Compare(a.n, b.n)
}

// lookupChunk bounds the parameters of one lookup query.
const lookupChunk = 256

// findKeys returns, for each of keys, the stamp of room's event stored
// under it (zero if none), as q (the writer's connection or its
// transaction) sees the store.
func (s *Store) findKeys(ctx context.Context, q rowsQueryer, room string, keys [][]byte) ([]store.Stamp, error) {
	out := make([]store.Stamp, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	cands := map[int64]bool{}
	var probe [][]byte // keys that may be in submit_index
	s.keys.mu.Lock()
	for _, k := range keys {
		p := prefix(k)
		s.keys.lookup(p, cands)
		if s.keys.filter.has(p) {
			probe = append(probe, k)
		}
	}
	s.keys.mu.Unlock()
	args := make([]any, 0, lookupChunk)
	for start := 0; start < len(probe); start += lookupChunk {
		chunk := probe[start:min(len(probe), start+lookupChunk)]
		args = args[:0]
		for _, k := range chunk {
			args = append(args, k[:min(8, len(k))])
		}
		err := scanIDs(ctx, q, `SELECT id FROM submit_index WHERE k IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, args, cands)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: look up submissions in %s: %w", room, err)
		}
	}
	if len(cands) == 0 {
		return out, nil
	}
	at := make(map[string][]int, len(keys))
	for i, k := range keys {
		at[string(k)] = append(at[string(k)], i)
	}
	ids := make([]int64, 0, len(cands))
	for id := range cands {
		ids = append(ids, id)
	}
	for start := 0; start < len(ids); start += lookupChunk {
		chunk := ids[start:min(len(ids), start+lookupChunk)]
		args = args[:0]
		args = append(args, room)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := q.QueryContext(ctx, `SELECT submit_key, seq, ts FROM events WHERE room=? AND id IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: look up submissions in %s: %w", room, err)
		}
		for rows.Next() {
			var k []byte
			var st store.Stamp
			if err := rows.Scan(&k, &st.Seq, &st.TS); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite store: look up submissions in %s: %w", room, err)
			}
			for _, i := range at[string(k)] {
				out[i] = st
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite store: look up submissions in %s: %w", room, err)
		}
	}
	return out, nil
}

func scanIDs(ctx context.Context, q rowsQueryer, query string, args []any, into map[int64]bool) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		into[id] = true
	}
	return rows.Err()
}

// tailChange is what a committed AppendBatch changes in keyTail; it is
// applied only once the transaction has committed.
type tailChange struct {
	added   []tailRow // keys the batch appended, numbered from keyTail.nextN
	froze   bool      // a merge started in this batch
	frozen  []tailRow // then: the open tail and added, in key order
	lastN   int64     // of frozen
	at      int       // merge progress after this batch
	savedAt int       // the progress saved in meta after this batch
	done    bool      // the merge finished in this batch
	lastID  int64
}

// mergeStep runs this batch's part of the key merge inside tx: it freezes
// the tail when it has reached mergeAt and no merge runs, then merges the
// next slice of the frozen keys, and deletes the frozen rows from the tail
// with the last one.
func (s *Store) mergeStep(ctx context.Context, tx *sql.Tx, c *tailChange) error {
	t := &s.keys
	if t.deleted.Swap(false) { // after this transaction began: see keyTail.deleted
		t.openDirty, t.frozenDirty = true, true
	}
	frozen, at, lastN := t.frozen, t.at, t.lastN
	dirty := t.frozenDirty
	if frozen == nil && len(t.open)+len(c.added) >= t.mergeAt() {
		c.froze = true
		c.frozen = byKey(t.open, c.added)
		if len(c.added) > 0 { // both are in n order
			c.lastN = c.added[len(c.added)-1].n
		} else {
			c.lastN = t.open[len(t.open)-1].n
		}
		frozen, at, lastN, dirty = c.frozen, 0, c.lastN, t.openDirty
	}
	if frozen == nil {
		return nil
	}
	step := mergeStepMin
	if len(c.added) > mergeStepMin {
		step = 0 // a large commit: see mergeStepMin
	}
	if !c.froze && len(t.open)+len(c.added) >= t.mergeAt() {
		step = mergeStepMin + mergeCatchUp*len(c.added)
	}
	end := min(len(frozen), at+step)
	c.at, c.savedAt = at, t.savedAt
	if c.froze {
		c.savedAt = 0
	}
	if end == at {
		return nil
	}
	// The filter has the slice's prefixes before the index does (keyfilter.go).
	t.mu.Lock()
	for _, r := range frozen[at:end] {
		t.filter.add(r.k, t.minKeys)
	}
	t.mu.Unlock()
	// The slice as a JSON array: one statement, whatever its length. If
	// events were deleted since its rows were added, only their n, so that
	// the rows gone from submit_tail drop out of the join.
	js := make([]byte, 0, 32*(end-at)+2)
	js = append(js, '[')
	for i, r := range frozen[at:end] {
		if i > 0 {
			js = append(js, ',')
		}
		if dirty {
			js = strconv.AppendInt(js, r.n, 10)
			continue
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], r.k)
		js = append(js, '[', '"')
		js = hex.AppendEncode(js, k[:r.klen])
		js = append(js, '"', ',')
		js = strconv.AppendInt(js, r.id, 10)
		js = append(js, ']')
	}
	js = append(js, ']')
	merge := mergeInsertRows
	if dirty {
		merge = mergeInsert
	}
	if _, err := s.execCached(ctx, tx, merge, string(js)); err != nil {
		return fmt.Errorf("sqlite store: merge keys: %w", err)
	}
	c.at = end
	if end < len(frozen) && (at == 0 || end-c.savedAt >= max(mergeStepMin, len(frozen)/mergeSaveParts)) {
		if _, err := s.execCached(ctx, tx, mergeSave, mergeProgress(lastN, frozen[end-1])); err != nil {
			return fmt.Errorf("sqlite store: save the key merge's progress: %w", err)
		}
		c.savedAt = end
	}
	if end == len(frozen) {
		if _, err := s.execCached(ctx, tx, mergeDelete, lastN); err != nil {
			return fmt.Errorf("sqlite store: drop merged keys from the tail: %w", err)
		}
		if _, err := s.execCached(ctx, tx, mergeForget); err != nil {
			return fmt.Errorf("sqlite store: drop merged keys from the tail: %w", err)
		}
		if err := saveFilter(ctx, tx, &t.filter, lastN); err != nil {
			return err
		}
		c.done = true
	}
	return nil
}

// apply makes a committed batch's change to the tail.
func (t *keyTail) apply(c *tailChange) {
	t.lastID = max(t.lastID, c.lastID)
	t.nextN += int64(len(c.added))
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen++
	for _, r := range c.added {
		t.add(r.k, r.id)
	}
	if c.froze {
		t.frozen, t.lastN = c.frozen, c.lastN
		t.frozenDirty, t.openDirty = t.openDirty, false
		clear(t.open)
		t.open = t.open[:0]
	} else {
		t.open = append(t.open, c.added...)
	}
	if c.froze {
		t.merged += int64(c.at)
	} else {
		t.merged += int64(c.at - t.at)
	}
	t.at, t.savedAt = c.at, c.savedAt
	if c.done {
		for _, r := range t.frozen {
			t.remove(r.k, r.id)
		}
		t.frozen, t.at, t.lastN, t.savedAt = nil, 0, 0, 0
		t.filter.clean()
	}
}

// warmIndexMax bounds the index warmIndex reads: one that would not stay in
// the writer's cache is not worth reading at open.
const warmIndexMax = writerCacheKiB << 10 / 2

// warmIndex reads submit_index's pages into the writer's cache at open
// (count(*) visits every page of the b-tree) when the index takes at most
// half the cache: the merges insert at random places of it, and right
// after a start each leaf they touch would be read from the OS inside a
// commit (BenchmarkSubmitsStored measures the first 32,000 submits after a
// start). About 25 MB and tens of milliseconds at 1 M keys; entries are
// ~18 bytes, about 24 with the b-tree's slack.
func (s *Store) warmIndex(ctx context.Context) {
	keys := 0
	for _, p := range s.keys.filter.parts {
		keys += p.keys
	}
	if keys == 0 || keys*24 > warmIndexMax {
		return
	}
	var n int
	s.w.QueryRowContext(ctx, `SELECT count(*) FROM submit_index`).Scan(&n) // only its reads matter
}

// mergeProgress is a running merge's progress as saved in meta
// (submit_merge): the highest n of its frozen rows, and the last row it
// merged by its key and n (the frozen rows are merged in key then n
// order): "lastN prefix-hex n". A position rather than a count: rows
// deleted since (retention) leave it valid.
func mergeProgress(lastN int64, last tailRow) string {
	return fmt.Sprintf("%d %016x %d", lastN, last.k, last.n)
}

// resumeMerge picks up, at open, a merge that a restart cut off: the rows
// it froze (n up to its saved lastN) are frozen again, those up to its
// saved position count as merged (their entries are in submit_index), and
// only the rest is merged. Before, a restart froze the whole tail again
// and merged every key of it anew. The filter gets the merged keys'
// prefixes now: the merge added them before inserting them, but the saved
// filter has them only once the merge ends (keyfilter.go). A saved
// progress no frozen row matches (an older relay finished that merge) is
// ignored, and overwritten by the next merge.
func (s *Store) resumeMerge(ctx context.Context) error {
	t := &s.keys
	var v string
	switch err := s.w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='submit_merge'`).Scan(&v); {
	case err == sql.ErrNoRows:
		return nil
	case err != nil:
		return fmt.Errorf("sqlite store: read the key merge's progress: %w", err)
	}
	var lastN, posN int64
	var posK uint64
	if _, err := fmt.Sscanf(v, "%d %x %d", &lastN, &posK, &posN); err != nil {
		return nil // not what mergeProgress wrote: merge anew
	}
	// t.open is in n order: the frozen rows are its first ones.
	i, _ := slices.BinarySearchFunc(t.open, lastN+1, func(r tailRow, n int64) int { return cmp.Compare(r.n, n) })
	if i == 0 {
		return nil
	}
	t.frozen, t.lastN = byKey(t.open[:i]), lastN
	t.open = slices.Clone(t.open[i:])
	t.at, _ = slices.BinarySearchFunc(t.frozen, tailRow{k: posK, n: posN + 1}, compareRows)
	t.savedAt, t.resumed = t.at, t.at
	for _, r := range t.frozen[:t.at] {
		t.filter.add(r.k, t.minKeys)
	}
	return nil
}
