package owner

import (
	"context"
	"fmt"
	"time"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// RoomOp is one room operation of the headless `room` command.
type RoomOp struct {
	Op     string     `cbor:"op"` // invite kick ban unban join leave role set-name set-topic set-receipts
	Room   string     `cbor:"room"`
	User   string     `cbor:"user,omitempty"`   // invite kick ban unban role
	Role   proto.Role `cbor:"role,omitempty"`   // role
	Value  string     `cbor:"value,omitempty"`  // set-name set-topic; set-receipts: on or off
	Reason string     `cbor:"reason,omitempty"` // kick ban
}

// RoomOps are the operations RoomOp.Op may name.
var RoomOps = []string{"invite", "kick", "ban", "unban", "join", "leave", "role", "set-name", "set-topic", "set-receipts"}

// do runs op on s.
func (op RoomOp) do(ctx context.Context, s *session.Session) (session.OpResult, error) {
	switch op.Op {
	case "invite":
		return s.Invite(ctx, op.Room, op.User)
	case "kick":
		return s.Kick(ctx, op.Room, op.User, op.Reason)
	case "ban":
		return s.Ban(ctx, op.Room, op.User, op.Reason)
	case "unban":
		return s.Unban(ctx, op.Room, op.User)
	case "join":
		return s.Join(ctx, op.Room)
	case "leave":
		return s.Leave(ctx, op.Room)
	case "role":
		return s.SetRole(ctx, op.Room, op.User, op.Role)
	case "set-name":
		return s.SetName(ctx, op.Room, op.Value)
	case "set-topic":
		return s.SetTopic(ctx, op.Room, op.Value)
	case "set-receipts":
		return s.SetReadReceipts(ctx, op.Room, op.Value == proto.ReceiptsOn)
	}
	return session.OpResult{}, fmt.Errorf("owner: room operation %q: want one of %v", op.Op, RoomOps)
}

// local does the requests on the session this process owns; the control
// socket's server answers other processes through it, so both see the same
// behaviour.
type local struct {
	s *session.Session
}

// online waits until the session is connected: requests that need the
// relay fail with the connection's error when ctx ends first.
func (l local) online(ctx context.Context) error {
	if err := l.s.WaitOnline(ctx); err != nil {
		// Not wrapped: a tail that ran out of --timeout before it got
		// online failed, one that printed until then did not.
		return fmt.Errorf("%w: %v", ErrNoRelay, err)
	}
	return nil
}

// send enqueues raw (idempotent: the same content is the same message ID,
// so a send repeated after an owner's exit finds its row) and waits for its
// outcome.
func (l local) send(ctx context.Context, room string, raw []byte) (session.OutboxItem, error) {
	it, err := l.s.SendRaw(room, raw)
	if err != nil {
		return it, err
	}
	return l.wait(ctx, it.ID)
}

// wait waits until the outbox item id is acked (nil error), refused
// (*RefusedError) or ctx ends (*PendingError). It reads the store, which the
// session updates before it emits the OutboxEvent that Changed signals.
func (l local) wait(ctx context.Context, id content.MessageID) (session.OutboxItem, error) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		changed := l.s.Changed()
		it, err := l.s.Store().OutboxItem(id)
		if err != nil {
			return it, err
		}
		switch it.State {
		case session.Acked:
			return it, nil
		case session.Failed:
			return it, &RefusedError{Item: it}
		}
		select {
		case <-ctx.Done():
			pe := &PendingError{Item: it}
			if st := l.s.Status(); st.Err != nil {
				pe.Last = st.Err.Error()
			}
			return it, pe
		case <-l.s.Done():
			return it, &PendingError{Item: it, Last: session.ErrClosed.Error()}
		case <-changed:
		case <-tick.C:
		}
	}
}

func (l local) lookup(room string, id content.MessageID) (session.Entry, bool, error) {
	return l.s.Store().EntryByID(room, id)
}

// tail calls emit for room's entries after since (-1: after what the relay
// had when the tail started), in seq order, each once, until ctx ends or
// emit fails. Entries come from the cache, which holds one contiguous run:
// reading after the last emitted seq can neither skip nor repeat one.
func (l local) tail(ctx context.Context, room string, since int64, start func(after uint64) error, emit func(session.Entry) error) error {
	if err := l.online(ctx); err != nil {
		return err
	}
	r, ok := l.s.Room(room)
	if !ok || r.State != proto.StateJoined && r.State != "" {
		return fmt.Errorf("room %s: %w", room, ErrUnknownRoom)
	}
	var last uint64
	if since >= 0 {
		last = uint64(since)
		if err := l.fetchBelow(ctx, room, last); err != nil {
			return err
		}
	} else {
		last = max(r.Cursor, r.Head)
	}
	if err := start(last); err != nil {
		return err
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		changed := l.s.Changed()
		page, err := l.s.Store().After(room, last, 500)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := emit(e); err != nil {
				return err
			}
			last = e.Seq
		}
		if len(page) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.s.Done():
			return session.ErrClosed
		case <-changed:
		case <-tick.C:
		}
	}
}

// fetchBelow extends the cached run down to after+1 from the relay, so the
// cache alone answers a tail from after.
func (l local) fetchBelow(ctx context.Context, room string, after uint64) error {
	for range 10000 { // at most 5 million entries of scrollback
		r, _ := l.s.Room(room)
		if r.Low <= after+1 {
			return nil
		}
		page, more, err := l.s.History(ctx, room, r.Low, proto.MaxHistoryLimit)
		if err != nil {
			return err
		}
		if !more || len(page) == 0 {
			return nil
		}
	}
	return nil
}

func (l local) rooms(ctx context.Context) ([]proto.RoomSummary, error) {
	if err := l.online(ctx); err != nil {
		return nil, err
	}
	return l.s.ListRooms(ctx)
}

func (l local) roomOp(ctx context.Context, op RoomOp) (session.OpResult, error) {
	if err := l.online(ctx); err != nil {
		return session.OpResult{}, err
	}
	return op.do(ctx, l.s)
}

func (l local) createRoom(ctx context.Context, o session.CreateRoomOptions) (session.OpResult, error) {
	if err := l.online(ctx); err != nil {
		return session.OpResult{}, err
	}
	return l.s.CreateRoom(ctx, o)
}

func (l local) roomInfo(ctx context.Context, room string) (*proto.RoomState, error) {
	if err := l.online(ctx); err != nil {
		return nil, err
	}
	return l.s.RoomInfo(ctx, room)
}

func (l local) devices(ctx context.Context) ([]session.UserDevice, error) {
	if err := l.online(ctx); err != nil {
		return nil, err
	}
	return l.s.UserDevices(ctx)
}

func (l local) removeDevice(ctx context.Context, device string) (session.DeviceRemoval, error) {
	if err := l.online(ctx); err != nil {
		return session.DeviceRemoval{}, err
	}
	return l.s.RemoveDevice(ctx, device)
}

func (l local) newDeviceToken(ctx context.Context) (string, time.Time, error) {
	if err := l.online(ctx); err != nil {
		return "", time.Time{}, err
	}
	return l.s.NewDeviceToken(ctx)
}

func (l local) outbox() ([]session.OutboxItem, error) { return l.s.Outbox() }

// retry requeues a failed message and waits for its new outcome; a pending
// one is only waited for, an acked one is reported as such.
func (l local) retry(ctx context.Context, id content.MessageID) (session.OutboxItem, error) {
	it, err := l.s.Store().OutboxItem(id)
	if err != nil {
		return it, err
	}
	switch it.State {
	case session.Acked:
		return it, fmt.Errorf("message %s was delivered (seq %d): %w", id, it.Seq, ErrNotFailed)
	case session.Failed:
		if err := l.s.Retry(id); err != nil {
			return it, err
		}
	}
	return l.wait(ctx, id)
}

// drop removes a failed or acked message. A pending one may be on its way
// (its submit sent, the ack not back): dropping it would not unsend it.
func (l local) drop(id content.MessageID) (session.OutboxItem, error) {
	it, err := l.s.Store().OutboxItem(id)
	if err != nil {
		return it, err
	}
	if it.State == session.Pending {
		return it, fmt.Errorf("message %s is pending (it may already be on its way): %w", id, ErrNotFailed)
	}
	return it, l.s.Discard(id)
}
