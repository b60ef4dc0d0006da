package session

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"mimichat/content"
	"mimichat/proto"
)

// Room is what the client knows about one room, kept in the cache.
//
// The cache holds one contiguous run of the room's log, Low..Cursor: new
// entries extend it at the top (Commit), scrollback extends it at the bottom
// (CommitOlder). So a page inside the run never needs the network, and
// Cursor is exactly where a subscription resumes.
type Room struct {
	ID     string // the room URI
	Name   string
	Topic  string
	Role   proto.Role  // this user's role
	State  proto.State // this user's membership
	Head   uint64      // the relay's last seq when last heard (unread = Head-Cursor)
	Low    uint64      // lowest cached seq of the run (Cursor+1 when empty)
	Cursor uint64      // highest cached seq
}

// ErrGap is returned when entries do not continue the cached run; the cache
// never stores a hole.
var ErrGap = errors.New("entries do not continue the cached run")

const roomCols = `room, name, topic, role, state, head, low, cursor`

func scanRoom(sc interface{ Scan(...any) error }) (Room, error) {
	var (
		r                 Room
		role, state       string
		head, low, cursor int64
	)
	err := sc.Scan(&r.ID, &r.Name, &r.Topic, &role, &state, &head, &low, &cursor)
	r.Role, r.State, r.Head, r.Low, r.Cursor = proto.Role(role), proto.State(state), uint64(head), uint64(low), uint64(cursor)
	return r, err
}

// Rooms lists the cached rooms in ID order.
func (s *Store) Rooms() ([]Room, error) {
	rows, err := s.db.Query(`SELECT ` + roomCols + ` FROM rooms ORDER BY room`)
	if err != nil {
		return nil, fmt.Errorf("session: cache rooms: %w", err)
	}
	defer rows.Close()
	var out []Room
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, fmt.Errorf("session: cache rooms: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("session: cache rooms: %w", err)
	}
	return out, nil
}

// Room reads one room; ok is false when it is not cached.
func (s *Store) Room(id string) (r Room, ok bool, err error) {
	r, err = scanRoom(s.db.QueryRow(`SELECT `+roomCols+` FROM rooms WHERE room=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Room{}, false, nil
	}
	if err != nil {
		return Room{}, false, fmt.Errorf("session: cache room %s: %w", id, err)
	}
	return r, true, nil
}

// SaveRoom writes room as given, run bounds included. The session uses it
// for metadata changes and to start a fresh run (a first sync that skips a
// long backlog, or history visibility that starts later).
func (s *Store) SaveRoom(r Room) error {
	return saveRoom(s.db, r)
}

// SaveRooms writes the metadata of rooms in one transaction.
func (s *Store) SaveRooms(rooms []Room) error {
	if len(rooms) == 0 {
		return nil
	}
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("session: cache save rooms: %w", err)
	}
	defer tx.Rollback()
	for _, r := range rooms {
		if err := saveRoom(tx, r); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("session: cache save rooms: %w", err)
	}
	return nil
}

type execer interface {
	Exec(q string, args ...any) (sql.Result, error)
}

func saveRoom(db execer, r Room) error {
	if r.Low == 0 {
		r.Low = 1
	}
	_, err := db.Exec(`INSERT INTO rooms(`+roomCols+`) VALUES(?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(room) DO UPDATE SET name=excluded.name, topic=excluded.topic, role=excluded.role,
		state=excluded.state, head=excluded.head, low=excluded.low, cursor=excluded.cursor`,
		r.ID, r.Name, r.Topic, string(r.Role), string(r.State), int64(r.Head), int64(r.Low), int64(r.Cursor))
	if err != nil {
		return fmt.Errorf("session: cache save room %s: %w", r.ID, err)
	}
	return nil
}

// Commit appends entries, which must continue the stored cursor, and writes
// room's metadata, in one transaction. It returns the room as stored.
func (s *Store) Commit(room Room, entries []Entry) (Room, error) {
	return s.CommitGroup(room, entries, nil)
}

// CommitGroup is Commit that also saves the room's MLS group state as it is
// after processing entries (nil: unchanged), in the same transaction: a
// crash never leaves an entry recorded but unprocessed, or processed but
// unrecorded (which would replay it into a ratchet that already used it).
func (s *Store) CommitGroup(room Room, entries []Entry, group *GroupSave) (Room, error) {
	stored, err := s.CommitRooms([]RoomBatch{{Room: room, Entries: entries, Group: group}})
	if err != nil {
		return room, err
	}
	return stored[0], nil
}

// RoomBatch is one room's part of CommitRooms: entries continuing the
// stored cursor, the room's metadata, and its MLS group state (nil: none
// to save).
type RoomBatch struct {
	Room    Room
	Entries []Entry
	Group   *GroupSave
}

// CommitRooms commits every batch (as CommitGroup would each) in one
// transaction: a session catching up in thousands of rooms pays one
// durable commit per flush, not one per room. It returns the rooms as
// stored, in order; on an error nothing is stored.
func (s *Store) CommitRooms(batches []RoomBatch) ([]Room, error) {
	tx, err := s.db.Begin()
	if err != nil {
		return nil, fmt.Errorf("session: cache commit: %w", err)
	}
	defer tx.Rollback()
	out := make([]Room, len(batches))
	var afters []func()
	for i, b := range batches {
		var after func()
		if out[i], after, err = s.commitRoom(tx, b.Room, b.Entries, b.Group); err != nil {
			return nil, err
		}
		afters = append(afters, after)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("session: cache commit: %w", err)
	}
	for _, after := range afters {
		after()
	}
	return out, nil
}

// commitRoom writes one room's batch inside tx; after is to run once tx
// is committed (saveGroups).
func (s *Store) commitRoom(tx *sql.Tx, room Room, entries []Entry, group *GroupSave) (Room, func(), error) {
	stored, err := scanRoom(tx.QueryRow(`SELECT `+roomCols+` FROM rooms WHERE room=?`, room.ID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		stored = Room{Low: 1}
	case err != nil:
		return room, nil, fmt.Errorf("session: cache commit %s: %w", room.ID, err)
	}
	room.Low, room.Cursor = stored.Low, stored.Cursor
	if err := insertEntries(tx, room.ID, room.Cursor+1, entries); err != nil {
		return room, nil, err
	}
	if n := len(entries); n > 0 {
		room.Cursor = entries[n-1].Seq
		room.Head = max(room.Head, room.Cursor)
	}
	if err := saveRoom(tx, room); err != nil {
		return room, nil, err
	}
	after, err := s.saveGroups(tx, map[string]*GroupSave{room.ID: group})
	if err != nil {
		return room, nil, err
	}
	return room, after, nil
}

// CommitOlder prepends a scrollback page: entries must end just below the
// run's Low. It returns the new Low.
func (s *Store) CommitOlder(roomID string, entries []Entry) (uint64, error) {
	tx, err := s.db.Begin()
	if err != nil {
		return 0, fmt.Errorf("session: cache commit older %s: %w", roomID, err)
	}
	defer tx.Rollback()
	r, err := scanRoom(tx.QueryRow(`SELECT `+roomCols+` FROM rooms WHERE room=?`, roomID))
	if err != nil {
		return 0, fmt.Errorf("session: cache commit older %s: %w", roomID, err)
	}
	if len(entries) == 0 {
		return r.Low, nil
	}
	first := entries[0].Seq
	if first+uint64(len(entries)) != r.Low {
		return 0, fmt.Errorf("session: cache commit older %s: page %d..%d does not end below low %d: %w",
			roomID, first, entries[len(entries)-1].Seq, r.Low, ErrGap)
	}
	if err := insertEntries(tx, roomID, first, entries); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(`UPDATE rooms SET low=? WHERE room=?`, int64(first), roomID); err != nil {
		return 0, fmt.Errorf("session: cache commit older %s: %w", roomID, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("session: cache commit older %s: %w", roomID, err)
	}
	return first, nil
}

// insertBatch is how many rows one INSERT statement writes: per-statement
// overhead (database/sql, the driver, VDBE setup) dominates single-row
// inserts, so imports and backfills write many rows per statement.
const insertBatch = 64

// rowCols are the columns of entries, and of import_stage in the same order.
const rowCols = `room, seq, hub_ms, sender, kind, msg_id, raw, target, role, value, reason`

const entryParams = 11

// insertEntries writes entries, which must be room's and numbered from next
// on, and queues their messages for the search index. Rows below a rebased
// run may already exist; they are replaced.
func insertEntries(tx *sql.Tx, room string, next uint64, entries []Entry) error {
	w := rowWriter{tx: tx, table: "entries"}
	defer w.close()
	if err := w.write(room, next, entries); err != nil {
		return err
	}
	if lo, hi, ok := messageSpan(entries); ok {
		return queueSearch(tx, room, lo, hi)
	}
	return nil
}

// rowWriter writes entries into table (entries or import_stage) with one
// prepared insertBatch-row statement, kept for as long as the writer: an
// import writes thousands of batches, and preparing a 704-parameter
// statement for each costs as much as a tenth of the import.
type rowWriter struct {
	tx    *sql.Tx
	table string
	// fresh: every row is new (an import's own rows), so INSERT OR FAIL:
	// SQLite then needs no statement journal, which a multi-row OR REPLACE
	// keeps for NOT NULL columns without a default (a tenth of an import's
	// CPU went to copying pages into it).
	fresh bool
	full  *sql.Stmt
	args  []any
}

func (w *rowWriter) close() {
	if w.full != nil {
		w.full.Close()
		w.full = nil
	}
}

func (w *rowWriter) write(room string, next uint64, entries []Entry) error {
	if w.args == nil {
		w.args = make([]any, 0, insertBatch*entryParams)
	}
	for start := 0; start < len(entries); start += insertBatch {
		chunk := entries[start:min(start+insertBatch, len(entries))]
		w.args = w.args[:0]
		for i := range chunk {
			e := &chunk[i]
			if e.Room != room || e.Seq != next {
				return fmt.Errorf("session: cache insert %s: entry of %s seq %d where seq %d was due: %w", room, e.Room, e.Seq, next, ErrGap)
			}
			var id []byte
			value := e.Value
			if e.IsMessage() {
				id = e.ID[:]
				value = e.Undecryptable // a message has no value of its own
			}
			w.args = append(w.args, e.Room, int64(e.Seq), e.Time.UnixMilli(), e.Sender, string(e.Kind), id, e.Raw,
				emptyAsNull(e.Target), emptyAsNull(string(e.Role)), emptyAsNull(value), emptyAsNull(e.Reason))
			next++
		}
		var err error
		if len(chunk) == insertBatch {
			if w.full == nil {
				if w.full, err = w.tx.Prepare(w.insertSQL(insertBatch)); err != nil {
					return fmt.Errorf("session: cache insert %s: %w", room, err)
				}
			}
			_, err = w.full.Exec(w.args...)
		} else {
			_, err = w.tx.Exec(w.insertSQL(len(chunk)), w.args...)
		}
		if err != nil {
			return fmt.Errorf("session: cache insert %s seq %d..%d: %w", room, chunk[0].Seq, chunk[len(chunk)-1].Seq, err)
		}
	}
	return nil
}

// insertSQL is the INSERT of n rows into the writer's table.
func (w *rowWriter) insertSQL(n int) string {
	var b strings.Builder
	verb := "INSERT OR REPLACE INTO "
	if w.fresh {
		verb = "INSERT OR FAIL INTO "
	}
	b.WriteString(verb + w.table + "(" + rowCols + ") VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,coalesce(?,''),coalesce(?,''),coalesce(?,''),coalesce(?,''))")
	}
	return b.String()
}

// EntryByID finds a cached message of room by its message ID.
func (s *Store) EntryByID(room string, id content.MessageID) (Entry, bool, error) {
	es, err := s.query(`SELECT `+entryCols+` FROM entries e WHERE e.msg_id=? AND e.room=? LIMIT 1`, id[:], room)
	if err != nil || len(es) == 0 {
		return Entry{}, false, err
	}
	return es[0], true, nil
}

// After returns up to n cached entries of room with seq > after, oldest
// first: reading forward, as tail does.
func (s *Store) After(room string, after uint64, n int) ([]Entry, error) {
	return s.query(`SELECT `+entryCols+` FROM entries e WHERE e.room=? AND e.seq>? ORDER BY e.seq LIMIT ?`, room, int64(min(after, 1<<62)), n)
}

// Recent returns the last n cached entries of room, oldest first.
func (s *Store) Recent(room string, n int) ([]Entry, error) {
	return s.Before(room, 1<<62, n)
}

// Before returns up to n cached entries of room's run with seq < before,
// oldest first: one page of scrollback.
func (s *Store) Before(room string, before uint64, n int) ([]Entry, error) {
	if n <= 0 {
		return nil, nil
	}
	before = min(before, 1<<62)
	out, err := s.query(`SELECT `+entryCols+` FROM entries e JOIN rooms r ON r.room = e.room
		WHERE e.room=? AND e.seq<? AND e.seq>=r.low ORDER BY e.seq DESC LIMIT ?`, room, int64(before), n)
	if err != nil {
		return nil, err
	}
	slices.Reverse(out)
	return out, nil
}

const entryCols = `e.room, e.seq, e.hub_ms, e.sender, e.kind, e.msg_id, e.raw, e.target, e.role, e.value, e.reason`

func (s *Store) query(q string, args ...any) ([]Entry, error) {
	var out []Entry
	err := s.queryEach(q, func(e Entry) { out = append(out, e) }, args...)
	return out, err
}

// queryEach calls fn with each entry q selects (entryCols), in order.
func (s *Store) queryEach(q string, fn func(Entry), args ...any) error {
	rows, err := s.db.Query(q, args...)
	if err != nil {
		return fmt.Errorf("session: cache read: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			e          Entry
			seq, ms    int64
			kind, role string
			id         []byte
		)
		if err := rows.Scan(&e.Room, &seq, &ms, &e.Sender, &kind, &id, &e.Raw, &e.Target, &role, &e.Value, &e.Reason); err != nil {
			return fmt.Errorf("session: cache read: %w", err)
		}
		e.Seq, e.Time, e.Kind, e.Role = uint64(seq), msTime(ms), proto.Kind(kind), proto.Role(role)
		copy(e.ID[:], id)
		if e.IsMessage() {
			e.Undecryptable, e.Value = e.Value, ""
		}
		fn(e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("session: cache read: %w", err)
	}
	return nil
}

// emptyAsNull binds "" as NULL, which insertSQL's coalesce turns back into
// the empty string: the driver copies every string argument into C memory (a malloc and
// a free), and four of a message row's columns are always empty (issue 18:
// 4 of its 11 arguments; the import's writer spent about a tenth less CPU).
func emptyAsNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}
