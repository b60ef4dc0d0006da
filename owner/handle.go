package owner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// Options say how to reach or become a data directory's owner.
type Options struct {
	DataDir string
	User    string // the user's URI: the owner refuses requests of another user
	Command string // recorded in the lock for others' errors, e.g. "send"
	// Open opens the user's session; it is called only when this process
	// takes the lock. Acquire starts it at once, Own leaves that to the
	// caller.
	Open func() (*session.Session, error)
	// Grace is how long Close lets other processes' requests finish
	// before cutting them (they resume with the next owner). Default 5 s.
	Grace time.Duration
}

// Handle does a command's requests: on its own session when this process
// owns the data directory, else through the owner's control socket. Every
// request first makes sure of one or the other, so an owner that exits
// between two requests is replaced (by this process, if it gets the lock).
type Handle struct {
	o      Options
	lock   *Lock
	sess   *session.Session
	srv    *Server
	drain  chan struct{} // closed when the event drain ends; nil when the caller reads Events
	holder string        // the owner's record, for errors
}

// retryPause is how long a client waits before asking again when the lock
// is held but the socket does not answer (the owner is starting or exiting).
const retryPause = 20 * time.Millisecond

// Acquire returns a Handle for the headless commands: it takes the data
// directory's lock when free (then this process owns it, serves the control
// socket and discards the session's events, which it reads from the store)
// or finds the owner's socket. It fails only on a real error or when ctx
// ends while the owner neither answers nor exits.
func Acquire(ctx context.Context, o Options) (*Handle, error) {
	h := &Handle{o: o}
	if err := h.settle(ctx, true); err != nil {
		return nil, err
	}
	return h, nil
}

// Own waits for the data directory's lock (until ctx ends) and opens the
// session on it, not started: the terminal UI owns its directory, reads the
// session's events itself and starts it when its model is ready. Other
// processes reach it through the control socket (their requests that need
// the relay wait until the session is online).
func Own(ctx context.Context, o Options) (*Handle, error) {
	h := &Handle{o: o}
	for {
		ok, err := h.tryOwn(false)
		if err != nil {
			return nil, err
		}
		if ok {
			return h, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s: %w", h.holder, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Session is the owned session, nil when another process owns the
// directory.
func (h *Handle) Session() *session.Session { return h.sess }

// Owner reports whether this process owns the data directory.
func (h *Handle) Owner() bool { return h.sess != nil }

// tryOwn takes the lock if it is free and opens the session.
func (h *Handle) tryOwn(drain bool) (bool, error) {
	lk, err := TryLock(h.o.DataDir, h.o.Command)
	var le *LockedError
	if errors.As(err, &le) {
		h.holder = le.Error()
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s, err := h.o.Open()
	if err != nil {
		lk.Release()
		return false, err
	}
	srv, err := Serve(lk, s)
	if err != nil {
		s.Close()
		lk.Release()
		return false, err
	}
	h.lock, h.sess, h.srv = lk, s, srv
	if drain {
		h.drain = make(chan struct{})
		go func() {
			defer close(h.drain)
			for range s.Events() {
			}
		}()
		s.Start()
	}
	return true, nil
}

// settle makes this process the owner if the lock is free; else, with
// probe, it waits until the owner's socket answers a connection.
func (h *Handle) settle(ctx context.Context, probe bool) error {
	for {
		if h.sess != nil {
			return nil
		}
		ok, err := h.tryOwn(true)
		if err != nil || ok {
			return err
		}
		if !probe {
			return nil
		}
		c, err := h.dial(ctx)
		if err == nil {
			c.Close()
			return nil
		}
		if err := pause(ctx); err != nil {
			return fmt.Errorf("%s, and its control socket does not answer: %w", h.holder, err)
		}
	}
}

func pause(ctx context.Context) error {
	t := time.NewTimer(retryPause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Close gives the directory up if this process owns it: the control socket
// first (other processes' requests get the grace to finish), then the
// session and the lock.
func (h *Handle) Close() error {
	if h.sess == nil {
		return nil
	}
	grace := h.o.Grace
	if grace <= 0 {
		grace = 5 * time.Second
	}
	h.srv.Close(grace)
	err := h.sess.Close()
	if h.drain != nil {
		<-h.drain
	}
	h.lock.Release()
	h.sess = nil
	return err
}

// dial connects to the owner's socket and checks it runs as this uid.
func (h *Handle) dial(ctx context.Context) (*net.UnixConn, error) {
	var c net.Conn
	err := withSocketAddr(h.o.DataDir, func(addr string) error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, "unix", addr)
		return err
	})
	if err != nil {
		return nil, err
	}
	uc := c.(*net.UnixConn)
	if err := checkPeer(uc); err != nil {
		uc.Close()
		return nil, err
	}
	return uc, nil
}

// errGone: the owner could not be reached or went away before answering.
var errGone = errors.New("owner gone")

// call does one request, locally or on the owner's socket. safe says the
// request may be repeated with the next owner when this one stopped after
// receiving it (sends are idempotent by message ID; reads are reads).
// onResp sees each answer (a tail's stream has many); an error answer ends
// the call.
func (h *Handle) call(ctx context.Context, safe bool, req Request, doLocal func(local) error, onResp func(Response) error) error {
	for {
		if err := h.settle(ctx, false); err != nil {
			return err
		}
		if h.sess != nil {
			return doLocal(local{h.sess})
		}
		err := h.roundTrip(ctx, req, onResp)
		var ce *Error
		switch {
		case errors.Is(err, errGone) && ctx.Err() == nil:
			if err := pause(ctx); err != nil {
				return err
			}
		case errors.As(err, &ce) && ce.Code == CodeOwnerExiting && ctx.Err() == nil:
			// Asked again below, of the next owner.
		case errors.Is(err, errDelivered) && !safe:
			return fmt.Errorf("%s: %w", h.holder, ErrInterrupted)
		case errors.Is(err, errDelivered) && ctx.Err() == nil:
		default:
			return err
		}
	}
}

// errDelivered: the request was written but the owner closed the
// connection without answering.
var errDelivered = errors.New("owner closed the connection without an answer")

// roundTrip writes req on a new connection and reads answers until an
// error answer, EOF after at least one answer (a plain request's end), or
// onResp's error.
func (h *Handle) roundTrip(ctx context.Context, req Request, onResp func(Response) error) error {
	c, err := h.dial(ctx)
	if err != nil {
		return errGone
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	req.V, req.User = Version, h.o.User
	if dl, ok := ctx.Deadline(); ok {
		// The owner answers a little before the client gives up, so a
		// pending send is reported as pending, not as a lost answer.
		req.WaitMS = max(time.Until(dl).Milliseconds()-250, 1)
	}
	if err := writeMessage(c, req); err != nil {
		return errGone
	}
	answered := false
	for {
		var resp Response
		err := readMessage(c, &resp)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, io.EOF) && answered:
			return nil
		default:
			// EOF, a reset (an owner exiting with this connection not yet
			// accepted, or killed), a broken message: whether the owner did
			// the request is unknown.
			return fmt.Errorf("%w: %v", errDelivered, err)
		}
		answered = true
		if err := onResp(resp); err != nil {
			return err
		}
		if resp.Err != nil {
			return fromWire(resp.Err, resp.Item)
		}
		if resp.Entry == nil && resp.After == nil {
			return nil // a plain request's one answer
		}
	}
}

// Send stores raw (encoded content for room) in the outbox and waits for
// the relay's answer: the acked item, a *RefusedError, or a *PendingError
// when ctx ends first (the message stays in the outbox).
func (h *Handle) Send(ctx context.Context, room string, raw []byte) (session.OutboxItem, error) {
	var it session.OutboxItem
	err := h.call(ctx, true, Request{Op: OpSend, Room: room, Raw: raw}, func(l local) error {
		var err error
		it, err = l.send(ctx, room, raw)
		return err
	}, func(r Response) error {
		if r.Item != nil {
			it = itemFromWire(*r.Item)
		}
		return nil
	})
	return it, err
}

// Lookup finds a cached message of room by ID.
func (h *Handle) Lookup(ctx context.Context, room string, id content.MessageID) (session.Entry, bool, error) {
	var (
		e  session.Entry
		ok bool
	)
	err := h.call(ctx, true, Request{Op: OpLookup, Room: room, ID: id[:]}, func(l local) error {
		var err error
		e, ok, err = l.lookup(room, id)
		return err
	}, func(r Response) error {
		if r.Entry != nil {
			e, ok = entryFromWire(*r.Entry), r.Found
		}
		return nil
	})
	return e, ok, err
}

// Tail calls emit for room's entries after since (-1: only entries newer
// than the relay's head when the tail starts) in seq order, each exactly
// once, until ctx ends or emit returns an error (returned as is). When the
// owner changes, the tail resumes after the last entry emitted.
func (h *Handle) Tail(ctx context.Context, room string, since int64, emit func(session.Entry) error) error {
	var emitErr error
	track := func(e session.Entry) error {
		if since >= 0 && e.Seq <= uint64(since) {
			return nil // repeated by a new owner's stream
		}
		since = int64(e.Seq)
		if err := emit(e); err != nil {
			emitErr = err
			return err
		}
		return nil
	}
	for {
		req := Request{Op: OpTail, Room: room, Since: since}
		err := h.call(ctx, true, req, func(l local) error {
			return l.tail(ctx, room, since, func(after uint64) error { since = int64(after); return nil }, track)
		}, func(r Response) error {
			if r.After != nil && since < 0 {
				since = int64(*r.After)
			}
			if r.Entry != nil {
				return track(entryFromWire(*r.Entry))
			}
			return nil
		})
		if emitErr != nil {
			return emitErr
		}
		if err == nil && ctx.Err() == nil {
			continue // the owner ended the stream without an error: ask again
		}
		return err
	}
}

// Rooms lists the user's rooms as the relay has them.
func (h *Handle) Rooms(ctx context.Context) ([]proto.RoomSummary, error) {
	var rooms []proto.RoomSummary
	err := h.call(ctx, true, Request{Op: OpRooms}, func(l local) error {
		var err error
		rooms, err = l.rooms(ctx)
		return err
	}, func(r Response) error { rooms = r.Rooms; return nil })
	return rooms, err
}

// RoomOp runs one room operation.
func (h *Handle) RoomOp(ctx context.Context, op RoomOp) (session.OpResult, error) {
	var res session.OpResult
	err := h.call(ctx, false, Request{Op: OpRoomOp, RoomOp: &op}, func(l local) error {
		var err error
		res, err = l.roomOp(ctx, op)
		return err
	}, func(r Response) error { res = resultFromWire(r.Result); return nil })
	return res, err
}

// CreateRoom creates a room owned by the user.
func (h *Handle) CreateRoom(ctx context.Context, o session.CreateRoomOptions) (session.OpResult, error) {
	var res session.OpResult
	err := h.call(ctx, false, Request{Op: OpCreateRoom, Create: &o}, func(l local) error {
		var err error
		res, err = l.createRoom(ctx, o)
		return err
	}, func(r Response) error { res = resultFromWire(r.Result); return nil })
	return res, err
}

// RoomInfo asks the relay for a room's state and members.
func (h *Handle) RoomInfo(ctx context.Context, room string) (*proto.RoomState, error) {
	var st *proto.RoomState
	err := h.call(ctx, true, Request{Op: OpRoomInfo, Room: room}, func(l local) error {
		var err error
		st, err = l.roomInfo(ctx, room)
		return err
	}, func(r Response) error { st = r.State; return nil })
	return st, err
}

// Devices lists the user's devices (session.UserDevices).
func (h *Handle) Devices(ctx context.Context) ([]session.UserDevice, error) {
	var ds []session.UserDevice
	err := h.call(ctx, true, Request{Op: OpDevices}, func(l local) error {
		var err error
		ds, err = l.devices(ctx)
		return err
	}, func(r Response) error { ds = r.Devices; return nil })
	return ds, err
}

// RemoveDevice removes one of the user's other devices from every room's
// group and from the relay (session.RemoveDevice).
func (h *Handle) RemoveDevice(ctx context.Context, device string) (session.DeviceRemoval, error) {
	var res session.DeviceRemoval
	err := h.call(ctx, false, Request{Op: OpRemoveDev, Device: device}, func(l local) error {
		var err error
		res, err = l.removeDevice(ctx, device)
		return err
	}, func(r Response) error {
		if r.Removal != nil {
			res = *r.Removal
		}
		return nil
	})
	return res, err
}

// NewDeviceToken asks the relay for a token for another device of the user
// (session.NewDeviceToken): a secret, shown once.
func (h *Handle) NewDeviceToken(ctx context.Context) (string, time.Time, error) {
	var tok string
	var expires time.Time
	err := h.call(ctx, false, Request{Op: OpDeviceTok}, func(l local) error {
		var err error
		tok, expires, err = l.newDeviceToken(ctx)
		return err
	}, func(r Response) error {
		if r.DeviceToken == nil {
			return errors.New("owner: no device token in the answer")
		}
		tok, expires = r.DeviceToken.Token, time.UnixMilli(r.DeviceToken.Expires)
		return nil
	})
	return tok, expires, err
}

// Outbox lists the outbox: pending, failed and recently acked messages.
func (h *Handle) Outbox(ctx context.Context) ([]session.OutboxItem, error) {
	var items []session.OutboxItem
	err := h.call(ctx, true, Request{Op: OpOutbox}, func(l local) error {
		var err error
		items, err = l.outbox()
		return err
	}, func(r Response) error {
		items = make([]session.OutboxItem, len(r.Items))
		for i, w := range r.Items {
			items[i] = itemFromWire(w)
		}
		return nil
	})
	return items, err
}

// Retry sends a failed message again and waits for the relay's answer, as
// Send does.
func (h *Handle) Retry(ctx context.Context, id content.MessageID) (session.OutboxItem, error) {
	return h.itemCall(ctx, Request{Op: OpRetry, ID: id[:]}, func(l local) (session.OutboxItem, error) {
		return l.retry(ctx, id)
	})
}

// Drop removes a failed (or acked) message from the outbox.
func (h *Handle) Drop(ctx context.Context, id content.MessageID) (session.OutboxItem, error) {
	return h.itemCall(ctx, Request{Op: OpDrop, ID: id[:]}, func(l local) (session.OutboxItem, error) {
		return l.drop(id)
	})
}

// itemCall runs an outbox request that answers with one item, locally or
// through the owner.
func (h *Handle) itemCall(ctx context.Context, req Request, do func(local) (session.OutboxItem, error)) (session.OutboxItem, error) {
	var it session.OutboxItem
	err := h.call(ctx, true, req, func(l local) error {
		var err error
		it, err = do(l)
		return err
	}, func(r Response) error {
		if r.Item != nil {
			it = itemFromWire(*r.Item)
		}
		return nil
	})
	return it, err
}

func resultFromWire(w *WireResult) session.OpResult {
	if w == nil {
		return session.OpResult{}
	}
	r := session.OpResult{Room: w.Room, Seq: w.Seq}
	if w.Time != 0 {
		r.Time = time.UnixMilli(w.Time).UTC()
	}
	return r
}
