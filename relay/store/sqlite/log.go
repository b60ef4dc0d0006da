package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"mimichat/relay/store"
)

// LoadRooms reads every room with its members and last stamp.
func (s *Store) LoadRooms(ctx context.Context) ([]store.RoomState, error) {
	rows, err := s.w.QueryContext(ctx, `SELECT uri, name, topic, avatar, history, join_policy, receipts, expiry FROM rooms ORDER BY uri`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: load rooms: %w", err)
	}
	var out []store.RoomState
	at := map[string]int{}
	for rows.Next() {
		var r store.RoomState
		if err := rows.Scan(&r.URI, &r.Name, &r.Topic, &r.Avatar, &r.History, &r.JoinPolicy, &r.Receipts, &r.Expiry); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite store: load rooms: %w", err)
		}
		at[r.URI] = len(out)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: load rooms: %w", err)
	}

	rows, err = s.w.QueryContext(ctx, `SELECT room, user, role, state, join_seq FROM members ORDER BY room, user`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: load members: %w", err)
	}
	for rows.Next() {
		var m store.Member
		if err := rows.Scan(&m.Room, &m.User, &m.Role, &m.State, &m.JoinSeq); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite store: load members: %w", err)
		}
		if i, ok := at[m.Room]; ok {
			out[i].Members = append(out[i].Members, m)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: load members: %w", err)
	}

	// One probe of the (room, seq) key per room: GROUP BY room would read
	// every event of every room at each start.
	// A room whose whole log expired has its head in room_heads.
	rows, err = s.w.QueryContext(ctx, `SELECT uri, seq, ts FROM (SELECT uri,
		coalesce((SELECT seq FROM events WHERE room=uri ORDER BY seq DESC LIMIT 1), (SELECT seq FROM room_heads WHERE room=uri)) AS seq,
		coalesce((SELECT ts FROM events WHERE room=uri ORDER BY seq DESC LIMIT 1), (SELECT ts FROM room_heads WHERE room=uri)) AS ts
		FROM rooms) WHERE seq IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: load heads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uri string
		var last store.Stamp
		if err := rows.Scan(&uri, &last.Seq, &last.TS); err != nil {
			return nil, fmt.Errorf("sqlite store: load heads: %w", err)
		}
		if i, ok := at[uri]; ok {
			out[i].Last = last
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: load heads: %w", err)
	}
	if err := s.loadGroups(ctx, out, at); err != nil {
		return nil, err
	}
	return out, nil
}

// AppendBatch stores b in one transaction on the writer's connection; the
// commit fsyncs (SyncFull) before it returns.
func (s *Store) AppendBatch(ctx context.Context, b store.Batch) (err error) {
	if err := s.Damaged(); err != nil {
		return fmt.Errorf("sqlite store: writes refused until the database is repaired: %w", err)
	}
	t0 := time.Now()
	s.waitRestart() // the one the last commit started, if it still runs
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// heads holds each room's last stamp as of this batch; a room is known
	// once it is stored or upserted here.
	heads := map[string]store.Stamp{}
	qtx := cachedTx{tx, &s.stmts}
	for _, r := range b.Rooms {
		_, err := tx.ExecContext(ctx, `INSERT INTO rooms(uri, name, topic, avatar, history, join_policy, receipts, expiry) VALUES(?,?,?,?,?,?,?,?)
			ON CONFLICT(uri) DO UPDATE SET name=excluded.name, topic=excluded.topic, avatar=excluded.avatar,
			history=excluded.history, join_policy=excluded.join_policy, receipts=excluded.receipts, expiry=excluded.expiry`,
			r.URI, r.Name, r.Topic, r.Avatar, r.History, r.JoinPolicy, r.Receipts, r.Expiry)
		if err != nil {
			return fmt.Errorf("sqlite store: upsert room %s: %w", r.URI, err)
		}
		if _, ok := heads[r.URI]; !ok {
			if h, ok := s.heads.get(r.URI); ok {
				heads[r.URI] = h
			} else if heads[r.URI], _, err = head(ctx, qtx, r.URI); err != nil {
				return err
			}
		}
	}
	known := func(room string) (store.Stamp, error) {
		if h, ok := heads[room]; ok {
			return h, nil
		}
		if h, ok := s.heads.get(room); ok {
			heads[room] = h
			return h, nil
		}
		h, exists, err := head(ctx, qtx, room)
		if err != nil {
			return h, err
		}
		if !exists {
			return h, fmt.Errorf("sqlite store: room %s: %w", room, store.ErrNotFound)
		}
		heads[room] = h
		return h, nil
	}
	for _, m := range b.Members {
		if _, err := known(m.Room); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO members(room, user, role, state, join_seq) VALUES(?,?,?,?,?)
			ON CONFLICT(room, user) DO UPDATE SET role=excluded.role, state=excluded.state, join_seq=excluded.join_seq`,
			m.Room, m.User, m.Role, m.State, m.JoinSeq)
		if err != nil {
			return fmt.Errorf("sqlite store: upsert member %s of %s: %w", m.User, m.Room, err)
		}
	}
	var change tailChange
	if err := s.refuseStoredKeys(ctx, tx, b.Events); err != nil {
		return err
	}
	ins := tx.StmtContext(ctx, s.ins)
	for _, e := range b.Events {
		h, err := known(e.Room)
		if err != nil {
			return err
		}
		switch {
		case e.Seq != h.Seq+1:
			return fmt.Errorf("sqlite store: event %s #%d: %w: the room's last seq is %d", e.Room, e.Seq, store.ErrConflict, h.Seq)
		case e.TS < h.TS:
			return fmt.Errorf("sqlite store: event %s #%d: %w: ts %d is before the room's last ts %d", e.Room, e.Seq, store.ErrConflict, e.TS, h.TS)
		}
		var key, ends any
		if e.Key != nil {
			key = e.Key
		}
		if e.Ends != "" {
			ends = e.Ends
		}
		res, err := ins.ExecContext(ctx, e.Room, e.Seq, e.TS, key, ends, e.Frame)
		if err != nil {
			return fmt.Errorf("sqlite store: insert event %s #%d: %w", e.Room, e.Seq, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("sqlite store: insert event %s #%d: %w", e.Room, e.Seq, err)
		}
		change.lastID = max(change.lastID, id)
		if e.Key != nil {
			n := s.keys.nextN + int64(len(change.added))
			change.added = append(change.added, tailRow{k: prefix(e.Key), n: n, id: id, klen: min(8, len(e.Key))})
		}
		heads[e.Room] = store.Stamp{Seq: e.Seq, TS: e.TS}
	}
	if err := s.addToTail(ctx, tx, change.added); err != nil {
		return err
	}
	if err := s.mergeStep(ctx, tx, &change); err != nil {
		return err
	}
	if err := appendGroups(ctx, tx, b, known); err != nil {
		return err
	}
	t1 := time.Now()
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite store: commit: %w", err)
	}
	t2 := time.Now()
	s.heads.set(heads)
	s.keys.apply(&change)
	if s.walOver.CompareAndSwap(true, false) {
		// After this return, not before: the batch is durable, and its acks
		// and fan-out need not wait for the restart (issue 18). It takes the
		// writer's one connection, so the next commit runs after it.
		done := make(chan struct{})
		s.restartMu.Lock()
		s.restartDone = done
		s.restartMu.Unlock()
		go func() {
			defer close(done)
			s.restartWAL()
		}()
	}
	s.lastCommit = CommitTimes{Statements: t1.Sub(t0), Commit: t2.Sub(t1), Restart: time.Since(t2)}
	return nil
}

// roomHeadCache caches each room's last stamp as of the last commit, so a
// commit does not query it (issue 18: the query was a tenth of a paced
// commit's CPU, prepared or not). Only AppendBatch appends events and
// stores rooms, rooms are never deleted, and retention keeps a room's last
// event (or its stamp in room_heads), so a cached head stays true until
// the next commit updates it; a failed commit changes nothing.
type roomHeadCache struct {
	mu    sync.Mutex
	heads map[string]store.Stamp
}

func (c *roomHeadCache) get(room string) (store.Stamp, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.heads[room]
	return h, ok
}

// set records a committed batch's heads.
func (c *roomHeadCache) set(heads map[string]store.Stamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.heads == nil {
		c.heads = make(map[string]store.Stamp, len(heads))
	}
	for room, h := range heads {
		c.heads[room] = h
	}
}

// headQuery is a room's existence and last stamp.
const headQuery = `SELECT EXISTS(SELECT 1 FROM rooms WHERE uri=?1),
		coalesce((SELECT seq FROM events WHERE room=?1 ORDER BY seq DESC LIMIT 1), (SELECT seq FROM room_heads WHERE room=?1), 0),
		coalesce((SELECT ts FROM events WHERE room=?1 ORDER BY seq DESC LIMIT 1), (SELECT ts FROM room_heads WHERE room=?1), 0)`

// head returns room's last stamp and whether the room exists.
func head(ctx context.Context, tx cachedTx, room string) (store.Stamp, bool, error) {
	var h store.Stamp
	var exists bool
	err := tx.QueryRowContext(ctx, headQuery, room).Scan(&exists, &h.Seq, &h.TS)
	if err != nil {
		return h, false, fmt.Errorf("sqlite store: head of %s: %w", room, err)
	}
	return h, exists, nil
}

// Head returns room's last stamp.
func (s *Store) Head(ctx context.Context, room string) (store.Stamp, error) {
	var h store.Stamp
	err := s.r.QueryRowContext(ctx, `SELECT seq, ts FROM events WHERE room=?1
		UNION ALL SELECT seq, ts FROM room_heads WHERE room=?1 ORDER BY seq DESC LIMIT 1`, room).Scan(&h.Seq, &h.TS)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("sqlite store: head of %s: %w", room, err)
	}
	return h, nil
}

// Submitted looks keys up on the writer's connection (the writer calls it
// once per batch and room, and it must see the writer's last commit).
func (s *Store) Submitted(ctx context.Context, room string, keys [][]byte) ([]store.Stamp, error) {
	out, err := s.findKeys(ctx, cachedDB{&s.stmts}, room, keys)
	if err != nil {
		return nil, err
	}
	t := &s.keys
	t.mu.Lock()
	if t.absentGen != t.gen {
		clear(t.absent)
		t.absentGen = t.gen
	}
	for i, st := range out {
		if st.Seq == 0 {
			t.absent[room+"\x00"+string(keys[i])] = true
		}
	}
	t.mu.Unlock()
	return out, nil
}

// refuseStoredKeys returns ErrDuplicate if a keyed event of evs has its
// key already in its room, stored or earlier in evs. Keys that Submitted
// found absent with no commit since (the writer's lookup of this very
// batch) are not looked up again.
func (s *Store) refuseStoredKeys(ctx context.Context, tx *sql.Tx, evs []store.Event) error {
	byRoom := map[string][][]byte{}
	seqs := map[string][]uint64{}
	inBatch := map[string]bool{}
	t := &s.keys
	for _, e := range evs {
		if e.Key == nil {
			continue
		}
		rk := e.Room + "\x00" + string(e.Key)
		if inBatch[rk] {
			return fmt.Errorf("sqlite store: event %s #%d: %w (twice in the batch)", e.Room, e.Seq, store.ErrDuplicate)
		}
		inBatch[rk] = true
		t.mu.Lock()
		checked := t.absentGen == t.gen && t.absent[rk]
		t.mu.Unlock()
		if checked {
			continue
		}
		byRoom[e.Room] = append(byRoom[e.Room], e.Key)
		seqs[e.Room] = append(seqs[e.Room], e.Seq)
	}
	for room, keys := range byRoom {
		stamps, err := s.findKeys(ctx, cachedTx{tx, &s.stmts}, room, keys)
		if err != nil {
			return err
		}
		for i, st := range stamps {
			if st.Seq != 0 {
				return fmt.Errorf("sqlite store: event %s #%d: %w (stored at #%d)", room, seqs[room][i], store.ErrDuplicate, st.Seq)
			}
		}
	}
	return nil
}

const eventCols = `seq, ts, submit_key, coalesce(ends,''), frame`

// EventsAfter reads up to limit events of room after seq after.
func (s *Store) EventsAfter(ctx context.Context, room string, after uint64, limit int) ([]store.Event, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT `+eventCols+` FROM events WHERE room=? AND seq>? ORDER BY seq LIMIT ?`, room, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: read events of %s: %w", room, err)
	}
	return scanEvents(rows, room)
}

// EventsBefore reads the newest up to limit events of room in [from, before).
func (s *Store) EventsBefore(ctx context.Context, room string, from, before uint64, limit int) ([]store.Event, bool, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT `+eventCols+` FROM events WHERE room=? AND seq>=? AND seq<? ORDER BY seq DESC LIMIT ?`,
		room, from, before, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("sqlite store: read history of %s: %w", room, err)
	}
	evs, err := scanEvents(rows, room)
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

func scanEvents(rows *sql.Rows, room string) ([]store.Event, error) {
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		e := store.Event{Room: room}
		if err := rows.Scan(&e.Seq, &e.TS, &e.Key, &e.Ends, &e.Frame); err != nil {
			return nil, fmt.Errorf("sqlite store: scan event of %s: %w", room, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: read events of %s: %w", room, err)
	}
	return out, nil
}
