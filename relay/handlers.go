package relay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/gorilla/websocket"

	"mimichat/proto"
	"mimichat/relay/store"
)

// readLoop reads and handles the client's frames until the connection ends.
func (c *conn) readLoop() {
	c.ws.SetReadDeadline(time.Now().Add(c.srv.cfg.ReadTimeout))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(c.srv.cfg.ReadTimeout))
	})
	c.ws.SetPingHandler(c.ping)
	for {
		mt, rd, err := c.ws.NextReader()
		if err != nil {
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(c.srv.cfg.ReadTimeout))
		data, tooBig, err := readFrame(rd, c.maxFrame())
		if err != nil {
			return
		}
		if !tooBig && len(data) > c.srv.cfg.MaxFrame && !handshakeFrame(data) {
			tooBig = true // only create_room and room_op may carry MLS handshakes beyond max_frame
		}
		if c.closing.Load() {
			continue // closed for a fatal error: drain until the close is written
		}
		switch {
		case tooBig:
			c.send(&proto.ErrorFrame{Code: proto.CodeFrameTooLarge, Reason: fmt.Sprintf("frames are at most %d bytes", c.srv.cfg.MaxFrame)})
			continue
		case mt != websocket.BinaryMessage:
			c.send(&proto.ErrorFrame{Code: proto.CodeNotBinary, Reason: "frames are binary CBOR messages"})
			continue
		}
		f, err := proto.Decode(data)
		if err != nil {
			var pe *proto.Error
			if !errors.As(err, &pe) {
				pe = &proto.Error{Code: proto.CodeMalformed, Reason: err.Error()}
			}
			c.send(&proto.ErrorFrame{RID: peekRID(data), Code: pe.Code, Field: pe.Field, Reason: pe.Reason})
			continue
		}
		c.srv.metrics.frames.Add(1)
		c.handle(f)
	}
}

// maxFrame is the largest frame the connection may send: version 5
// connections may send MLS handshakes (a Welcome and a GroupInfo with the
// ratchet tree) up to MaxHandshakeFrame in create_room and room_op.
func (c *conn) maxFrame() int {
	if c.v >= e2eeVersion {
		return max(c.srv.cfg.MaxFrame, c.srv.cfg.MaxHandshakeFrame)
	}
	return c.srv.cfg.MaxFrame
}

// handshakeFrame reports whether data is a create_room or room_op frame.
func handshakeFrame(data []byte) bool {
	var v struct {
		T proto.Type `cbor:"t"`
	}
	if cbor.Unmarshal(data, &v) != nil {
		return false
	}
	return v.T == proto.TCreateRoom || v.T == proto.TRoomOp
}

// peekRID recovers a request id from a frame that failed validation, so
// the client can tell which request was refused.
func peekRID(data []byte) uint64 {
	var v struct {
		RID uint64 `cbor:"rid"`
	}
	if cbor.Unmarshal(data, &v) != nil {
		return 0
	}
	return v.RID
}

func (c *conn) handle(f proto.Frame) {
	if c.keyPackageFrame(f) {
		return
	}
	var ref *refusal
	switch f := f.(type) {
	case *proto.Submit:
		ref = c.submit(f)
	case *proto.RoomOp, *proto.CreateRoom:
		// Room operations share the submit rate: each is a stored event.
		if wait, ok := c.srv.limits.write(c.user, time.Now()); !ok {
			ref = rateLimited(wait, "more than %g writes per second", c.srv.cfg.RatePerSec)
			break
		}
		if op, ok := f.(*proto.RoomOp); ok && op.Target != "" {
			if ref = c.userTarget(op); ref != nil {
				break
			}
		}
		if op, ok := f.(*proto.RoomOp); ok && op.Op == proto.KindInvite {
			if ref = c.inviteTarget(op); ref != nil {
				break
			}
		}
		if op, ok := f.(*proto.RoomOp); ok && op.Op == proto.KindExpiry {
			if _, ok := c.srv.db.(store.EventExpirer); !ok {
				ref = refuse(proto.CodeInvalidOp, "this relay's store cannot delete expired messages, so it does not accept a message expiry policy")
				break
			}
		}
		c.srv.hub.freshForOp(f)
		var e2 *e2eeRequest
		if e2, ref = c.e2eeRequest(f); ref != nil {
			break
		}
		c.toWriter(f, store.Key{}, e2)
	case *proto.Subscribe:
		ref = c.subscribeOne(f)
	case *proto.SubscribeRooms:
		ref = c.subscribeRooms(f)
	case *proto.Unsubscribe:
		c.srv.hub.unsubscribe(c, f.Room)
		c.send(&proto.OK{RID: f.RID, Room: f.Room})
	case *proto.History:
		if ref = c.needE2EEVersion(f.Room); ref != nil {
			break
		}
		ref = c.read(func() *refusal { return c.history(f) })
	case *proto.Welcomes:
		ref = c.read(func() *refusal { return c.welcomes(f) })
	case *proto.GetWelcomePart:
		ref = c.read(func() *refusal { return c.welcomePart(f) })
	case *proto.GetGroupInfo:
		ref = c.read(func() *refusal { return c.getGroupInfo(f) })
	case *proto.Signal:
		ref = c.signal(f)
	case *proto.Rooms:
		ref = c.read(func() *refusal {
			c.srv.limits.readCharge(c.user, c.send(c.srv.hub.roomList(c.user, f.RID, c.v)))
			return nil
		})
	case *proto.RoomInfo:
		ref = c.read(func() *refusal { return c.roomInfo(f) })
	case *proto.Hello:
		ref = refuse(proto.CodeInvalidOp, "already authenticated")
	case *proto.WelcomeList, *proto.MLSWelcome, *proto.GroupInfo, *proto.WelcomePart:
		ref = refuse(proto.CodeUnknownType, "a client does not send %s frames", f.FrameType())
	default:
		ref = refuse(proto.CodeUnknownType, "a client does not send %s frames", f.FrameType())
	}
	if ref != nil {
		c.refuse(ridOf(f), roomOf(f), ref)
	}
}

// refuse sends the error frame of a refusal, with its retry time to
// clients whose version knows the key.
func (c *conn) refuse(rid uint64, room string, ref *refusal) {
	ef := errFrame(rid, room, ref)
	c.srv.metrics.refusedMLS(ref.code)
	if c.v >= 4 && ref.retry > 0 {
		ef.RetryMS = uint64(ref.retry.Milliseconds())
	}
	c.send(ef)
	if ref.code == proto.CodeRateLimited {
		c.srv.metrics.rateLimited.Add(1)
		c.pause(ref.retry)
	}
}

// maxPause bounds how long a rate-limited connection goes unread at once.
const maxPause = time.Second

// pause stops reading the connection for d (at most maxPause), so a client
// that keeps requests in flight despite rate_limited is held back by TCP
// instead of costing a refusal per frame. Called on the reader goroutine;
// a client that waits retry_ms before retrying notices nothing.
func (c *conn) pause(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(min(d, maxPause))
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.done:
	}
}

// rateLimited is a rate_limited refusal to retry after wait.
func rateLimited(wait time.Duration, format string, args ...any) *refusal {
	ref := refuse(proto.CodeRateLimited, format, args...)
	ref.retry = wait
	ref.reason += fmt.Sprintf("; retry in %d ms", wait.Milliseconds())
	return ref
}

// read runs do, a read that charges the bytes it answers, in one of the
// user's read slots, and refuses it while the user's read budget is in
// debt.
func (c *conn) read(do func() *refusal) *refusal {
	release, ok := c.srv.limits.readSlot(c.user, c.done)
	if !ok {
		return nil // the connection is ending
	}
	defer release()
	if wait, ok := c.srv.limits.readAdmit(c.user, time.Now()); !ok {
		return rateLimited(wait, "more than %d bytes of reads per second", c.srv.cfg.ReadBytesPerSec)
	}
	return do()
}

// ping answers a websocket ping within the user's ping budget. Beyond it
// the ping gets a rate_limited error frame instead of a pong, which counts
// against the error budget, so a ping flood ends the connection.
func (c *conn) ping(data string) error {
	if wait, ok := c.srv.limits.ping(c.user, time.Now()); !ok {
		c.refuse(0, "", rateLimited(wait, "more than %g pings per second", c.srv.cfg.PingRate))
		return nil
	}
	err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.srv.cfg.WriteTimeout))
	var ne net.Error
	if err == websocket.ErrCloseSent || errors.As(err, &ne) {
		return nil // as gorilla's default handler: the connection is ending anyway
	}
	return err
}

// submit checks what needs no room state (size, rate), hashes the content
// into its submission key (the relay's dedupe key: content is opaque to
// it) and hands the message to the writer. The message ID is the client's
// claim; receivers derive it from sender, room and content themselves.
func (c *conn) submit(f *proto.Submit) *refusal {
	if len(f.Content) > c.srv.cfg.MaxContent {
		return refuse(proto.CodeContentTooLarge, "content is %d bytes; at most %d", len(f.Content), c.srv.cfg.MaxContent)
	}
	if wait, ok := c.srv.limits.write(c.user, time.Now()); !ok {
		return rateLimited(wait, "more than %g messages per second", c.srv.cfg.RatePerSec)
	}
	c.srv.hub.freshForPost(f.Room, c.user)
	e2, ref := c.submitE2EE(f)
	if ref != nil {
		return ref
	}
	c.srv.metrics.submits.Add(1)
	c.toWriter(f, store.SubmitKey(f.Content), e2)
	return nil
}

// userTarget refuses a room operation whose target is not a user URI of
// this relay (mimi://DOMAIN/u/NAME): a ban of "mimi://x" or of a room's URI
// would be stored as a member row nobody can ever match.
func (c *conn) userTarget(op *proto.RoomOp) *refusal {
	prefix := "mimi://" + c.srv.hub.domain + "/u/"
	name, ok := strings.CutPrefix(op.Target, prefix)
	if !ok || !proto.ValidSlug(name) {
		return &refusal{code: proto.CodeBadField, field: "target",
			reason: fmt.Sprintf("target must be a user of this relay, %sNAME (NAME: 1-64 of a-z 0-9 . _ -)", prefix)}
	}
	return nil
}

// inviteTarget refuses an invite of someone who is not a user of this
// relay. It reads the store here, not in the writer, so the writer's batch
// never waits on a read. A `relay user remove` from another process between
// this check and the writer's apply lets that one invite through; removal
// keeps the user's member rows anyway, so it leaves no state that removal
// itself does not.
func (c *conn) inviteTarget(op *proto.RoomOp) *refusal {
	if c.srv.hub.roomFresh(op.Room) == nil {
		return refuse(proto.CodeNoSuchRoom, "no room %s", op.Room)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.srv.db.UserByURI(ctx, op.Target)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refuse(proto.CodeNoSuchUser, "no user %s on this relay", op.Target)
	case err != nil:
		c.log.Error("look up invite target", "target", op.Target, "err", err)
		return refuse(proto.CodeInternal, "storage failed; retry")
	}
	return nil
}

// toWriter hands a request to the group-commit writer. At most MaxInflight
// requests per connection wait for their answer, so answers always fit the
// send queue; beyond that the reader stops reading (TCP pushes back).
// e2 is what the reader checked of an encrypted room's request (or nil).
func (c *conn) toWriter(f proto.Frame, key store.Key, e2 *e2eeRequest) {
	select {
	case c.inflight <- struct{}{}:
	case <-c.done:
		return
	}
	c.srv.hub.in <- &request{c: c, user: c.user, f: f, key: key, e2: e2}
}

func (c *conn) signal(f *proto.Signal) *refusal {
	if f.From != "" && f.From != c.user {
		return refuse(proto.CodeForbidden, "from is set by the relay")
	}
	if wait, ok := c.signals.takeN(time.Now(), c.srv.cfg.SignalRate, c.srv.cfg.SignalBurst, 1); !ok {
		return rateLimited(wait, "more than %g signals per second", c.srv.cfg.SignalRate)
	}
	return c.srv.hub.signal(c, f)
}

// history answers a scrollback page within the user's readable range.
func (c *conn) history(f *proto.History) *refusal {
	r, ref := c.srv.hub.roomForRead(f.Room)
	if ref != nil {
		return ref
	}
	r.mu.RLock()
	first, ref := r.readAccess(c.user)
	head := r.head
	r.mu.RUnlock()
	if ref != nil {
		return ref
	}
	before, limit := f.Before, int(f.Limit)
	if before == 0 || before > head+1 {
		before = head + 1
	}
	if limit == 0 {
		limit = 50
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs, more, err := c.srv.db.EventsBefore(ctx, r.uri, first, before, limit)
	if err != nil {
		c.srv.metrics.storeErrors.Add(1)
		c.log.Error("history", "room", r.uri, "err", err)
		return refuse(proto.CodeInternal, "storage failed; retry")
	}
	evs, cut := fitPage(evs, historyPageBudget)
	page := &proto.HistoryPage{RID: f.RID, Room: r.uri, More: more || cut, Events: make([]proto.Event, 0, len(evs))}
	for _, e := range evs {
		fr, err := proto.Decode(e.Frame)
		ev, ok := fr.(*proto.Event)
		if err != nil || !ok {
			// Left out: refusing the page would leave the client asking
			// for it for ever; without it, the client sees the seq is not
			// available and moves past it.
			c.log.Error("stored event does not decode; left out of a history page", "room", r.uri, "seq", e.Seq, "err", err)
			continue
		}
		page.Events = append(page.Events, *ev)
	}
	c.srv.limits.readCharge(c.user, c.send(page))
	return nil
}

// historyPageBudget bounds the event bytes of one history_page: the
// largest frame a client reads (proto.MaxRelayFrame) less room for the
// page's own fields. 500 events (proto.MaxHistoryLimit) of up to
// max_frame each could pass it, and a client refuses such a frame (its
// read fails and the connection closes), so it would ask for the same
// page again for ever.
const historyPageBudget = proto.MaxRelayFrame - 64<<10

// fitPage keeps the newest of evs (ascending) whose frames fit budget
// bytes, at least one; cut says it left older ones out, which the client
// reads with its next page (before the first one kept).
func fitPage(evs []store.Event, budget int) ([]store.Event, bool) {
	used := 0
	for i := len(evs) - 1; i >= 0; i-- {
		used += len(evs[i].Frame) + 16 // the frame's bytes and its array slot
		if used > budget && i < len(evs)-1 {
			return evs[i+1:], true
		}
	}
	return evs, false
}

func (c *conn) roomInfo(f *proto.RoomInfo) *refusal {
	r, ref := c.srv.hub.roomForRead(f.Room)
	if ref != nil {
		return ref
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if _, ref := r.readAccess(c.user); ref != nil {
		return ref
	}
	members := r.memberList()
	sort.Slice(members, func(i, j int) bool { return members[i].User < members[j].User })
	st := &proto.RoomState{RID: f.RID, Room: r.uri, Name: r.name, Topic: r.topic, Avatar: r.avatar,
		History: r.history, Join: r.join, LastSeq: r.head, Members: members}
	if c.v >= 2 {
		st.Receipts = r.receipt
	}
	if c.v >= e2eeVersion && r.grp != nil {
		st.Encrypted, st.Suite, st.Epoch = true, r.grp.suite, r.grp.hub.Epoch()
	}
	if c.v >= expiryVersion {
		st.Expiry = r.expiry
	}
	c.srv.limits.readCharge(c.user, c.send(st))
	return nil
}

// roomList lists the rooms user is joined to or invited to, for a client
// speaking protocol version v.
func (h *hub) roomList(user string, rid, v uint64) *proto.RoomList {
	h.mu.RLock()
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.RUnlock()
	out := &proto.RoomList{RID: rid, Rooms: []proto.RoomSummary{}}
	for _, r := range rooms {
		r.mu.RLock()
		if m := r.members[user]; m != nil && (m.state == proto.StateJoined || m.state == proto.StateInvited) {
			sum := proto.RoomSummary{Room: r.uri, Name: r.name, Topic: r.topic, Role: m.role, State: m.state, Head: r.head}
			if v >= 2 {
				sum.Receipts = r.receipt
			}
			if v >= e2eeVersion && r.grp != nil {
				sum.Encrypted, sum.Suite, sum.Epoch = true, r.grp.suite, r.grp.hub.Epoch()
			}
			if v >= expiryVersion {
				sum.Expiry = r.expiry
			}
			out.Rooms = append(out.Rooms, sum)
		}
		r.mu.RUnlock()
	}
	sort.Slice(out.Rooms, func(i, j int) bool { return out.Rooms[i].Room < out.Rooms[j].Room })
	return out
}

func errFrame(rid uint64, room string, ref *refusal) *proto.ErrorFrame {
	return &proto.ErrorFrame{RID: rid, Room: room, Code: ref.code, Field: ref.field, Reason: ref.reason, Epoch: ref.epoch}
}

// ridOf and roomOf read the correlation fields of a request frame.
func ridOf(f proto.Frame) uint64 {
	switch f := f.(type) {
	case *proto.Submit:
		return f.RID
	case *proto.RoomOp:
		return f.RID
	case *proto.CreateRoom:
		return f.RID
	case *proto.Subscribe:
		return f.RID
	case *proto.SubscribeRooms:
		return f.RID
	case *proto.Unsubscribe:
		return f.RID
	case *proto.History:
		return f.RID
	case *proto.Rooms:
		return f.RID
	case *proto.RoomInfo:
		return f.RID
	case *proto.Welcomes:
		return f.RID
	case *proto.GetWelcomePart:
		return f.RID
	case *proto.GetGroupInfo:
		return f.RID
	}
	return 0
}

func roomOf(f proto.Frame) string {
	switch f := f.(type) {
	case *proto.Submit:
		return f.Room
	case *proto.RoomOp:
		return f.Room
	case *proto.Subscribe:
		return f.Room
	case *proto.Unsubscribe:
		return f.Room
	case *proto.History:
		return f.Room
	case *proto.Signal:
		return f.Room
	case *proto.RoomInfo:
		return f.Room
	case *proto.GetGroupInfo:
		return f.Room
	}
	return ""
}
