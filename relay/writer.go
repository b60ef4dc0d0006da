package relay

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"fmt"
	"time"

	"mimichat/proto"
)

// request is one state-changing frame (submit, room_op, create_room) on its
// way to the group-commit writer.
type request struct {
	c    *conn
	user string
	f    proto.Frame
}

// outcome is what the dispatcher does once a batch is durable: answer the
// requester and fan out the request's events.
type outcome struct {
	c       *conn
	reply   proto.Frame
	events  []committed
	notices []notice
}

// committed is one stored event, ready for fan-out.
type committed struct {
	r     *room
	seq   uint64
	ends  string // user whose membership this event ends
	frame []byte // encoded proto.Event, as stored
}

// stmts are the writer's prepared statements.
type stmts struct {
	insEvent, dupOf, upMember, insRoom, upRoom *sql.Stmt
}

func prepare(db *sql.DB) (*stmts, error) {
	var s stmts
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.insEvent, `INSERT OR IGNORE INTO events(room, seq, ts, msg_id, ends, frame) VALUES(?,?,?,?,?,?)`},
		{&s.dupOf, `SELECT seq, ts FROM events WHERE room=? AND msg_id=?`},
		{&s.upMember, `INSERT INTO members(room, user, role, state, join_seq) VALUES(?,?,?,?,?)
			ON CONFLICT(room, user) DO UPDATE SET role=excluded.role, state=excluded.state, join_seq=excluded.join_seq`},
		{&s.insRoom, `INSERT INTO rooms(uri, name, topic, avatar, history, join_policy, receipts) VALUES(?,?,?,?,?,?,?)`},
		{&s.upRoom, `UPDATE rooms SET name=?, topic=?, avatar=?, history=?, join_policy=?, receipts=? WHERE uri=?`},
	} {
		st, err := db.Prepare(p.sql)
		if err != nil {
			return nil, fmt.Errorf("relay: prepare: %w", err)
		}
		*p.dst = st
	}
	return &s, nil
}

// runWriter is the single writer: it takes the first waiting request, gathers
// more for up to BatchWindow or MaxBatch, applies them all in one
// transaction, commits (fsync), and only then hands the outcomes to the
// dispatcher. One fsync thus covers a whole batch.
func (h *hub) runWriter() {
	defer close(h.out)
	batch := make([]*request, 0, h.cfg.MaxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		first, ok := <-h.in
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		open := true
	drain:
		for len(batch) < h.cfg.MaxBatch {
			select {
			case r, ok := <-h.in:
				if !ok {
					open = false
					break drain
				}
				batch = append(batch, r)
				continue
			default:
			}
			if h.cfg.BatchWindow <= 0 {
				break
			}
			timer.Reset(h.cfg.BatchWindow)
			select {
			case r, ok := <-h.in:
				if !timer.Stop() {
					<-timer.C
				}
				if !ok {
					open = false
					break drain
				}
				batch = append(batch, r)
			case <-timer.C:
				break drain
			}
		}
		start := time.Now()
		outs := h.commit(batch)
		h.metrics.commitNanos.Add(int64(time.Since(start)))
		h.metrics.commits.Add(1)
		h.metrics.committed.Add(int64(len(batch)))
		h.out <- outs
		if !open {
			return
		}
	}
}

// commit applies batch in one transaction. If the commit fails nothing is
// acked, every request gets an internal error, and the in-memory state is
// reloaded from the database so no half-applied change survives.
func (h *hub) commit(batch []*request) []outcome {
	outs := make([]outcome, len(batch))
	tx, err := h.store.w.BeginTx(context.Background(), nil)
	if err == nil {
		for i, req := range batch {
			if outs[i], err = h.apply(tx, req); err != nil {
				break
			}
		}
		if err == nil {
			err = tx.Commit()
		}
		if err != nil {
			tx.Rollback()
		}
	}
	if err != nil {
		h.log.Error("commit failed; batch refused", "requests", len(batch), "err", err)
		if rerr := h.reload(); rerr != nil {
			h.log.Error("reload after failed commit", "err", rerr)
		}
		for i, req := range batch {
			outs[i] = outcome{c: req.c, reply: errFrame(ridOf(req.f), roomOf(req.f), refuse(proto.CodeInternal, "storage failed; nothing was stored, retry"))}
		}
	}
	return outs
}

// apply applies one request inside the batch's transaction. A refusal is an
// outcome; an error (storage failed midway) aborts the whole batch, since
// memory may already be ahead of the database.
func (h *hub) apply(tx *sql.Tx, req *request) (outcome, error) {
	var out outcome
	var ref *refusal
	var err error
	switch f := req.f.(type) {
	case *proto.Submit:
		out, ref, err = h.applySubmit(tx, req.user, f)
	case *proto.RoomOp:
		out, ref, err = h.applyOp(tx, req.user, f)
	case *proto.CreateRoom:
		out, ref, err = h.applyCreate(tx, req.user, f)
	default:
		err = fmt.Errorf("writer got a %s frame", req.f.FrameType())
	}
	if err != nil {
		return outcome{}, fmt.Errorf("%s by %s: %w", req.f.FrameType(), req.user, err)
	}
	out.c = req.c
	if ref != nil {
		out.reply, out.events = errFrame(ridOf(req.f), roomOf(req.f), ref), nil
	}
	return out, nil
}

// nextStamp returns r's next seq and hub timestamp (never decreasing).
func (r *room) nextStamp() (uint64, int64) {
	ts := time.Now().UnixMilli()
	if ts < r.lastTS {
		ts = r.lastTS
	}
	return r.head + 1, ts
}

// appendEvent stores ev as r's next event and advances r's head. It returns
// false (and stores nothing) when ev's message ID is already in the room.
func (h *hub) appendEvent(tx *sql.Tx, r *room, ev *proto.Event, ends string) (committed, bool, error) {
	frame, err := proto.Encode(ev)
	if err != nil {
		return committed{}, false, err
	}
	var id, endsCol any
	if ev.ID != nil {
		id = ev.ID
	}
	if ends != "" {
		endsCol = ends
	}
	res, err := tx.Stmt(h.st.insEvent).Exec(r.uri, ev.Seq, ev.TS, id, endsCol, frame)
	if err != nil {
		return committed{}, false, fmt.Errorf("insert event: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return committed{}, false, err
	}
	r.head, r.lastTS = ev.Seq, ev.TS
	return committed{r: r, seq: ev.Seq, ends: ends, frame: frame}, true, nil
}

func (h *hub) applySubmit(tx *sql.Tx, user string, f *proto.Submit) (outcome, *refusal, error) {
	r := h.room(f.Room)
	if r == nil {
		return outcome{}, refuse(proto.CodeNoSuchRoom, "no room %s", f.Room), nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ref := r.canPost(user); ref != nil {
		return outcome{}, ref, nil
	}
	seq, ts := r.nextStamp()
	ev := &proto.Event{Room: r.uri, Seq: seq, TS: ts, Sender: user, Kind: proto.KindMessage, ID: f.ID, Content: f.Content}
	c, stored, err := h.appendEvent(tx, r, ev, "")
	if err != nil {
		return outcome{}, nil, err
	}
	ack := &proto.Ack{RID: f.RID, Room: r.uri, ID: f.ID, Seq: seq, TS: ts}
	if !stored {
		if err := tx.Stmt(h.st.dupOf).QueryRow(r.uri, f.ID).Scan(&ack.Seq, &ack.TS); err != nil {
			return outcome{}, nil, err
		}
		ack.Dup = true
		return outcome{reply: ack}, nil, nil
	}
	return outcome{reply: ack, events: []committed{c}}, nil, nil
}

func (h *hub) applyOp(tx *sql.Tx, user string, f *proto.RoomOp) (outcome, *refusal, error) {
	r := h.room(f.Room)
	if r == nil {
		return outcome{}, refuse(proto.CodeNoSuchRoom, "no room %s", f.Room), nil
	}
	if f.Op == proto.KindInvite {
		// Read in the writer's own transaction: no wait for a pool connection.
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM users WHERE uri=?`, f.Target).Scan(&n); err != nil {
			return outcome{}, nil, fmt.Errorf("look up user: %w", err)
		} else if n == 0 {
			return outcome{}, refuse(proto.CodeNoSuchUser, "no user %s on this relay", f.Target), nil
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ref := r.authorize(user, f)
	if ref != nil {
		return outcome{}, ref, nil
	}
	seq, ts := r.nextStamp()
	ev := &proto.Event{Room: r.uri, Seq: seq, TS: ts, Sender: user, Kind: f.Op, Target: f.Target, Value: f.Value, Reason: f.Reason}
	switch f.Op {
	case proto.KindInvite, proto.KindJoin, proto.KindRole:
		ev.Role = ch.role
	}
	if f.Op == proto.KindLeave || f.Op == proto.KindJoin {
		ev.Target = ""
	}
	c, stored, err := h.appendEvent(tx, r, ev, ch.ends)
	if err == nil && !stored {
		err = fmt.Errorf("seq %d already taken", seq)
	}
	if err == nil {
		r.apply(f, ch, seq)
		err = h.persistState(tx, r, ch.user)
	}
	if err != nil {
		return outcome{}, nil, err
	}
	out := outcome{reply: &proto.OK{RID: f.RID, Room: r.uri, Seq: seq, TS: ts}, events: []committed{c}}
	if n, ok := noticeFor(ev, f.Op, user, r.members[ch.user]); ok {
		out.notices = append(out.notices, n)
	}
	return out, nil, nil
}

// persistState writes r's metadata and user's membership row.
func (h *hub) persistState(tx *sql.Tx, r *room, user string) error {
	if _, err := tx.Stmt(h.st.upRoom).Exec(r.name, r.topic, r.avatar, r.history, r.join, r.receipt, r.uri); err != nil {
		return fmt.Errorf("update room: %w", err)
	}
	if user == "" {
		return nil
	}
	m := r.members[user]
	if _, err := tx.Stmt(h.st.upMember).Exec(r.uri, user, m.role, m.state, m.joinSeq); err != nil {
		return fmt.Errorf("update member: %w", err)
	}
	return nil
}

var slugEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func (h *hub) applyCreate(tx *sql.Tx, user string, f *proto.CreateRoom) (outcome, *refusal, error) {
	slug := f.Room
	if slug == "" {
		var b [10]byte
		rand.Read(b[:])
		slug = slugEncoding.EncodeToString(b[:])
	}
	uri := proto.RoomURI(h.domain, slug)
	if h.room(uri) != nil {
		return outcome{}, refuse(proto.CodeRoomExists, "room %s exists", uri), nil
	}
	r := newRoom(uri)
	if _, err := tx.Stmt(h.st.insRoom).Exec(uri, "", "", "", r.history, r.join, r.receipt); err != nil {
		return outcome{}, nil, fmt.Errorf("insert room: %w", err)
	}
	r.members[user] = &member{role: proto.RoleOwner, state: proto.StateJoined, joinSeq: 1}
	out := outcome{}
	ops := []*proto.RoomOp{{Op: proto.KindCreate}}
	for _, kv := range []struct {
		kind       proto.Kind
		value, def string
	}{{proto.KindName, f.Name, ""}, {proto.KindTopic, f.Topic, ""}, {proto.KindHistory, f.History, proto.HistoryShared}, {proto.KindJoinPolicy, f.Join, proto.JoinInvite}} {
		if kv.value != "" && kv.value != kv.def {
			ops = append(ops, &proto.RoomOp{Room: uri, Op: kv.kind, Value: kv.value})
		}
	}
	for _, op := range ops {
		seq, ts := r.nextStamp()
		ev := &proto.Event{Room: uri, Seq: seq, TS: ts, Sender: user, Kind: op.Op, Value: op.Value}
		if op.Op == proto.KindCreate {
			ev.Role = proto.RoleOwner
		}
		c, stored, err := h.appendEvent(tx, r, ev, "")
		if err == nil && !stored {
			err = fmt.Errorf("seq %d already taken", seq)
		}
		if err != nil {
			return outcome{}, nil, err
		}
		r.apply(op, change{}, seq)
		out.events = append(out.events, c)
	}
	if err := h.persistState(tx, r, user); err != nil {
		return outcome{}, nil, err
	}
	h.addRoom(r)
	out.reply = &proto.OK{RID: f.RID, Room: uri, Seq: 1, TS: r.lastTS}
	return out, nil, nil
}
