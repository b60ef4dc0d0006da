package relay

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
)

// request is one state-changing frame (submit, room_op, create_room) on its
// way to the group-commit writer.
type request struct {
	c    *conn
	user string
	f    proto.Frame
	key  store.Key    // a submit's store.SubmitKey, hashed by the connection's reader
	e2   *e2eeRequest // what the reader checked of an encrypted room's request, or nil
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

// runWriter is the single writer: it takes the first waiting request and
// every other one already queued (up to MaxBatch; with a BatchWindow it
// also waits that long for more), applies them all in one transaction,
// commits (fsync), and only then hands the outcomes to the dispatcher. One
// fsync thus covers a whole batch: what arrives during a commit waits for
// the next one, so batches grow with the load by themselves, and a request
// that finds the writer idle is committed at once (issue 18: the 200 µs
// window every paced message used to wait became milliseconds on a busy
// machine, where a timer fires late).
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
		h.rec = commitRec{taken: start, n: len(batch)}
		outs := h.commit(batch)
		h.metrics.observeCommit(len(batch), time.Since(start))
		if t := h.trace.Load(); t != nil {
			t.add(h.rec)
		}
		if h.dispatchInline(outs) {
			h.dispatch(outs)
		} else {
			h.dispatching.Add(1)
			h.out <- outs
		}
		if !open {
			return
		}
	}
}

// pending is one batch on its way to the store: what to write, and the
// stamps of the submission keys already in the log (stored, or earlier in
// this batch), by room and key.
type pending struct {
	b      store.Batch
	seen   map[seenKey]store.Stamp
	byRoom map[string][][]byte // the batch's submission keys, for lookup
}

// reset empties p for the next batch, keeping its memory: the writer
// reuses one pending (AppendBatch keeps nothing of a batch).
func (p *pending) reset() {
	if p.seen == nil {
		p.seen, p.byRoom = map[seenKey]store.Stamp{}, map[string][][]byte{}
	}
	clear(p.seen)
	for room, keys := range p.byRoom {
		if len(keys) == 0 { // not in the last batch: forget the room
			delete(p.byRoom, room)
			continue
		}
		clear(keys)
		p.byRoom[room] = keys[:0]
	}
	clear(p.b.Events) // drop the frames for the collector
	p.b.Rooms, p.b.Members, p.b.Events = p.b.Rooms[:0], p.b.Members[:0], p.b.Events[:0]
	clear(p.b.Groups)
	clear(p.b.Welcomes)
	p.b.Groups, p.b.Welcomes, p.b.DropWelcomes = p.b.Groups[:0], p.b.Welcomes[:0], p.b.DropWelcomes[:0]
}

type seenKey struct {
	room string
	key  store.Key
}

// lookup asks the store, once per room, which of the batch's submits are
// already in the log, so their resubmissions are answered with the
// original stamp instead of a new seq.
func (h *hub) lookup(ctx context.Context, batch []*request, p *pending) error {
	for _, req := range batch {
		if f, ok := req.f.(*proto.Submit); ok {
			p.byRoom[f.Room] = append(p.byRoom[f.Room], req.key[:])
		}
	}
	for room, keys := range p.byRoom {
		if len(keys) == 0 || h.room(room) == nil {
			continue
		}
		stamps, err := h.db.Submitted(ctx, room, keys)
		if err != nil {
			return err
		}
		for i, st := range stamps {
			if st.Seq != 0 {
				p.seen[seenKey{room, store.Key(keys[i])}] = st
			}
		}
	}
	return nil
}

// damageReporter is a store whose background integrity check can find
// damage after start (the SQLite store).
type damageReporter interface{ Damaged() error }

// commit applies batch in memory and stores it in one AppendBatch. If that
// fails nothing is acked, every request gets an internal error, and the
// in-memory state is reloaded from the store so no half-applied change
// survives.
func (h *hub) commit(batch []*request) []outcome {
	batch, synced := h.takeSync(batch)
	outs := make([]outcome, len(batch))
	if d, ok := h.db.(damageReporter); ok && d.Damaged() != nil {
		// A background check found damage: store nothing more until the
		// operator repairs the database (the log says how).
		for i, req := range batch {
			outs[i] = outcome{c: req.c, reply: errFrame(ridOf(req.f), roomOf(req.f),
				refuse(proto.CodeInternal, "the relay's database is damaged; nothing is stored until it is repaired, retry later"))}
		}
		return outs
	}
	ctx := context.Background()
	p := &h.pending
	p.reset()
	err := h.lookup(ctx, batch, p)
	if err == nil {
		for i, req := range batch {
			if outs[i], err = h.apply(p, req); err != nil {
				break
			}
		}
	}
	if err == nil {
		h.rec.appending = time.Now()
		err = h.db.AppendBatch(ctx, p.b)
		h.rec.stored = time.Now()
		if lc, ok := h.db.(lastCommitter); ok && err == nil {
			h.rec.store = lc.LastCommit()
		}
		if n := len(p.b.Events); n > 0 {
			h.rec.room, h.rec.first, h.rec.last = p.b.Events[n-1].Room, p.b.Events[0].Seq, p.b.Events[n-1].Seq
		}
	}
	if err == nil && h.cl != nil {
		h.noteCommitted(&p.b)
		h.cl.announce(&p.b)
	}
	if err != nil && h.cl != nil {
		if again, ok := h.retryAfterConflict(batch, err); ok {
			return append(synced, again...)
		}
	}
	if err != nil {
		h.metrics.storeErrors.Add(1)
		h.log.Error("commit failed; batch refused", "requests", len(batch), "err", err)
		if rerr := h.reload(); rerr != nil {
			h.log.Error("reload after failed commit", "err", rerr)
		} else if h.cl != nil { // another node's events may be why: deliver them
			synced = append(synced, h.deliverNew(nil)...)
		}
		for i, req := range batch {
			outs[i] = outcome{c: req.c, reply: errFrame(ridOf(req.f), roomOf(req.f), refuse(proto.CodeInternal, "storage failed; nothing was stored, retry"))}
		}
	}
	if len(synced) > 0 {
		return append(synced, outs...)
	}
	return outs
}

// apply applies one request to memory and adds what it stores to the
// batch. A refusal is an outcome; an error aborts the whole batch, since
// memory may already be ahead of the store.
func (h *hub) apply(p *pending, req *request) (outcome, error) {
	var out outcome
	var ref *refusal
	var err error
	switch f := req.f.(type) {
	case *proto.Submit:
		out, ref, err = h.applySubmit(p, req.user, f, req.key[:], req.e2)
	case *proto.RoomOp:
		out, ref, err = h.applyOp(p, req.user, f, req.e2)
	case *proto.CreateRoom:
		out, ref, err = h.applyCreate(p, req.user, f, req.e2)
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

// appendEvent adds ev to the batch as r's next event (key: a message's
// submission key) and advances r's head.
func (h *hub) appendEvent(p *pending, r *room, ev *proto.Event, ends string, key []byte) (committed, error) {
	frame, err := proto.Encode(ev)
	if err != nil {
		return committed{}, err
	}
	p.b.Events = append(p.b.Events, store.Event{Room: r.uri, Seq: ev.Seq, TS: ev.TS, Key: key, Ends: ends, Frame: frame})
	r.head, r.lastTS = ev.Seq, ev.TS
	return committed{r: r, seq: ev.Seq, ends: ends, frame: frame}, nil
}

// applySubmit appends a message, or answers a resubmission (same content
// bytes in the same room: the same submission key) with the original
// stamp and dup, storing nothing.
func (h *hub) applySubmit(p *pending, user string, f *proto.Submit, key []byte, e2 *e2eeRequest) (outcome, *refusal, error) {
	r := h.room(f.Room)
	if r == nil {
		return outcome{}, refuse(proto.CodeNoSuchRoom, "no room %s", f.Room), nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ref := r.canPost(user); ref != nil {
		return outcome{}, ref, nil
	}
	sk := seenKey{r.uri, store.Key(key)}
	if st, ok := p.seen[sk]; ok {
		return outcome{reply: &proto.Ack{RID: f.RID, Room: r.uri, ID: f.ID, Seq: st.Seq, TS: st.TS, Dup: true}}, nil, nil
	}
	if r.grp != nil {
		// After dedupe: a retry of a stored ciphertext is a dup, however
		// far the epoch has moved since.
		if e2 == nil {
			return outcome{}, refuse(proto.CodeInternal, "encrypted room's submit not checked"), nil
		}
		if cur := r.grp.hub.Epoch(); e2.epoch > cur || cur-e2.epoch > uint64(r.grp.hub.PastEpochs) {
			h.metrics.refusedMLS(proto.CodeStaleEpoch)
			return outcome{}, &refusal{code: proto.CodeStaleEpoch, field: "content", epoch: cur,
				reason: fmt.Sprintf("message of epoch %d; the room is at epoch %d and accepts the last %d", e2.epoch, cur, r.grp.hub.PastEpochs)}, nil
		}
	}
	seq, ts := r.nextStamp()
	ev := &proto.Event{Room: r.uri, Seq: seq, TS: ts, Sender: user, Kind: proto.KindMessage, ID: f.ID, Content: f.Content}
	c, err := h.appendEvent(p, r, ev, "", key)
	if err != nil {
		return outcome{}, nil, err
	}
	p.seen[sk] = store.Stamp{Seq: seq, TS: ts}
	return outcome{reply: &proto.Ack{RID: f.RID, Room: r.uri, ID: f.ID, Seq: seq, TS: ts}, events: []committed{c}}, nil, nil
}

// applyOp authorizes and applies a room operation. An invite's target was
// checked to be a user by the connection's reader (users are never
// removed, so that answer still holds).
func (h *hub) applyOp(p *pending, user string, f *proto.RoomOp, e2 *e2eeRequest) (outcome, *refusal, error) {
	r := h.room(f.Room)
	if r == nil {
		return outcome{}, refuse(proto.CodeNoSuchRoom, "no room %s", f.Room), nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ch, ref := r.authorize(user, f)
	if ref != nil {
		return outcome{}, ref, nil
	}
	groupChanged := false
	if r.grp != nil {
		if e2 == nil {
			return outcome{}, refuse(proto.CodeInternal, "encrypted room's operation not checked"), nil
		}
		var err error
		groupChanged, ref, err = r.checkOpMLS(&opCommit{op: f, actor: user, device: e2.device, bound: e2.bound, ch: ch, welcome: e2.welcome, noDevices: e2.noDevices})
		if err != nil {
			return outcome{}, nil, err
		}
		if ref != nil {
			h.metrics.refusedMLS(ref.code)
			return outcome{}, ref, nil
		}
	}
	seq, ts := r.nextStamp()
	ev := &proto.Event{Room: r.uri, Seq: seq, TS: ts, Sender: user, Kind: f.Op, Target: f.Target, Value: f.Value, Reason: f.Reason,
		MLS: f.MLS, Proposals: f.Proposals}
	switch f.Op {
	case proto.KindInvite, proto.KindJoin, proto.KindRole:
		ev.Role = ch.role
	}
	if f.Op == proto.KindLeave || f.Op == proto.KindJoin {
		ev.Target = ""
	}
	c, err := h.appendEvent(p, r, ev, ch.ends, nil)
	if err != nil {
		return outcome{}, nil, err
	}
	r.apply(f, ch, seq)
	h.persistState(p, r, ch.user)
	out := outcome{reply: &proto.OK{RID: f.RID, Room: r.uri, Seq: seq, TS: ts}, events: []committed{c}}
	if n, ok := noticeFor(ev, f.Op, user, r.members[ch.user]); ok {
		out.notices = append(out.notices, n)
	}
	if groupChanged {
		p.b.Groups = append(p.b.Groups, r.grp.record(r.uri))
	}
	if r.grp != nil && ch.ends != "" {
		p.b.DropWelcomes = append(p.b.DropWelcomes, store.RoomUser{Room: r.uri, User: ch.ends})
	}
	if r.grp != nil && f.Op == proto.KindInvite {
		now := time.Now()
		var tree []byte
		if e2.welcomeTree {
			tree = r.grp.ratchetTree() // the Welcome's epoch: the commit was just applied
		}
		for _, d := range e2.welcome {
			p.b.Welcomes = append(p.b.Welcomes, store.Welcome{Device: d.URI, User: f.Target, Room: r.uri, Seq: seq, Data: f.Welcome, Created: now, RatchetTree: tree})
			if n, ok := welcomeNotice(r.uri, seq, f.Target, d.URI, f.Welcome); ok {
				out.notices = append(out.notices, n)
			}
		}
	}
	return out, nil, nil
}

// persistState adds r's metadata and user's membership to the batch.
func (h *hub) persistState(p *pending, r *room, user string) {
	p.b.Rooms = append(p.b.Rooms, store.Room{URI: r.uri, Name: r.name, Topic: r.topic, Avatar: r.avatar,
		History: r.history, JoinPolicy: r.join, Receipts: r.receipt, Expiry: r.expiry})
	if m := r.members[user]; user != "" && m != nil {
		p.b.Members = append(p.b.Members, store.Member{Room: r.uri, User: user, Role: string(m.role), State: string(m.state), JoinSeq: m.joinSeq})
	}
}

var slugEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func (h *hub) applyCreate(p *pending, user string, f *proto.CreateRoom, e2 *e2eeRequest) (outcome, *refusal, error) {
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
	if e2 != nil && e2.group != nil {
		r.grp, r.encrypted = e2.group, true
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
		c, err := h.appendEvent(p, r, ev, "", nil)
		if err != nil {
			return outcome{}, nil, err
		}
		r.apply(op, change{}, seq)
		out.events = append(out.events, c)
	}
	h.persistState(p, r, user) // the room's row goes first in the batch, before its events
	if r.grp != nil {
		p.b.Groups = append(p.b.Groups, r.grp.record(uri))
	}
	h.addRoom(r)
	out.reply = &proto.OK{RID: f.RID, Room: uri, Seq: 1, TS: r.lastTS}
	return out, nil, nil
}
