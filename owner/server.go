package owner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"mimichat/session"
)

// Server answers other processes of the user on the data directory's
// control socket, doing their requests on the owned session.
type Server struct {
	l    local
	user string
	ln   *net.UnixListener
	path string

	ctx    context.Context // cancelled when the grace ends: cuts what still runs
	cancel context.CancelFunc

	mu       sync.Mutex
	closing  bool
	inflight sync.WaitGroup // requests that are not streams
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup // handler goroutines
}

// Serve listens on the control socket of lk's data directory and answers
// requests with s. The caller must hold lk: a socket file left by a killed
// owner is removed first, which is safe only under the lock.
func Serve(lk *Lock, s *session.Session) (*Server, error) {
	path := filepath.Join(lk.Dir(), SocketFile)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("owner: remove stale socket: %w", err)
	}
	var ln *net.UnixListener
	err := withSocketAddr(lk.Dir(), func(addr string) error {
		var err error
		ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: addr, Net: "unix"})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("owner: control socket: %w", err)
	}
	ln.SetUnlinkOnClose(false) // Close removes it, while the lock is still held
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("owner: control socket: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &Server{l: local{s}, user: s.User(), ln: ln, path: path, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}
	srv.wg.Add(1)
	go srv.accept()
	return srv, nil
}

func (srv *Server) accept() {
	defer srv.wg.Done()
	for {
		c, err := srv.ln.AcceptUnix()
		if err != nil {
			return // closed
		}
		srv.mu.Lock()
		if srv.closing {
			srv.mu.Unlock()
			c.Close()
			return
		}
		srv.conns[c] = struct{}{}
		srv.wg.Add(1)
		srv.mu.Unlock()
		go func() {
			defer srv.wg.Done()
			srv.handle(c)
			c.Close()
			srv.mu.Lock()
			delete(srv.conns, c)
			srv.mu.Unlock()
		}()
	}
}

// Close stops answering: the socket is removed at once (new clients wait
// for the lock, then own the directory), requests under way get up to grace
// to finish, then they and the tail streams are cut with owner_exiting
// (sends and tails resume with the next owner: a send is idempotent by
// message ID, a tail resumes after its last seq). Call it before closing
// the session and releasing the lock.
func (srv *Server) Close(grace time.Duration) error {
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		return nil
	}
	srv.closing = true
	srv.mu.Unlock()
	err := srv.ln.Close()
	os.Remove(srv.path)
	done := make(chan struct{})
	go func() { srv.inflight.Wait(); close(done) }()
	t := time.NewTimer(grace)
	select {
	case <-done:
	case <-t.C:
	}
	t.Stop()
	srv.cancel()
	srv.mu.Lock()
	for c := range srv.conns {
		// A stream blocked writing to a client that stopped reading.
		c.SetDeadline(time.Now().Add(time.Second))
	}
	srv.mu.Unlock()
	srv.wg.Wait()
	return err
}

func (srv *Server) handle(c *net.UnixConn) {
	if err := checkPeer(c); err != nil {
		return
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var req Request
	if err := readMessage(c, &req); err != nil {
		return
	}
	c.SetReadDeadline(time.Time{})
	reply := func(r Response) error {
		r.V = Version
		return writeMessage(c, r)
	}
	fail := func(code Code, format string, args ...any) {
		reply(Response{Err: &WireError{Code: code, Message: fmt.Sprintf(format, args...)}})
	}
	switch {
	case req.V != Version:
		fail(CodeUnsupportedVersion, "control protocol version %d, this owner speaks %d", req.V, Version)
		return
	case req.User != srv.user:
		fail(CodeWrongUser, "the data directory %s belongs to %s, not %s: give %s's client a data directory of its own (the --data-dir flag or client.data_dir in the config file)",
			filepath.Dir(srv.path), srv.user, req.User, req.User)
		return
	}
	stream := req.Op == OpTail
	srv.mu.Lock()
	closing := srv.closing
	if !closing && !stream {
		srv.inflight.Add(1)
	}
	srv.mu.Unlock()
	if closing {
		fail(CodeOwnerExiting, "%v", ErrOwnerExiting)
		return
	}
	if !stream {
		defer srv.inflight.Done()
	}
	ctx, cancel := context.WithCancel(srv.ctx)
	defer cancel()
	if req.WaitMS > 0 {
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.WaitMS)*time.Millisecond)
		defer cancel()
	}
	// A client writes nothing after its request: a read that returns means
	// it closed the connection (a tail's end, a killed client), and what it
	// asked for is no longer awaited.
	go func() {
		var b [1]byte
		c.Read(b[:])
		cancel()
	}()
	resp, err := srv.do(ctx, &req, c)
	if err != nil {
		if srv.ctx.Err() != nil {
			code := CodeInterrupted
			if req.Op == OpSend || req.Op == OpTail || req.Op == OpRetry || req.Op == OpLookup || req.Op == OpOutbox || req.Op == OpRooms || req.Op == OpRoomInfo || req.Op == OpDevices {
				code = CodeOwnerExiting // safe to ask the next owner
			}
			fail(code, "%v", ErrOwnerExiting)
			return
		}
		resp.Err = toWire(err)
	}
	reply(resp)
}

// do runs one request. A tail writes its entries itself and returns only
// when it ends.
func (srv *Server) do(ctx context.Context, req *Request, c net.Conn) (Response, error) {
	l := srv.l
	switch req.Op {
	case OpSend:
		it, err := l.send(ctx, req.Room, req.Raw)
		return itemResponse(it), err
	case OpRetry:
		id, err := idFromWire(req.ID)
		if err != nil {
			return Response{}, badRequest(err)
		}
		it, err := l.retry(ctx, id)
		return itemResponse(it), err
	case OpDrop:
		id, err := idFromWire(req.ID)
		if err != nil {
			return Response{}, badRequest(err)
		}
		it, err := l.drop(id)
		return itemResponse(it), err
	case OpLookup:
		id, err := idFromWire(req.ID)
		if err != nil {
			return Response{}, badRequest(err)
		}
		e, ok, err := l.lookup(req.Room, id)
		if err != nil || !ok {
			return Response{}, err
		}
		w := entryToWire(e)
		return Response{Entry: &w, Found: true}, nil
	case OpTail:
		err := l.tail(ctx, req.Room, req.Since, func(after uint64) error {
			return writeMessage(c, Response{V: Version, After: &after})
		}, func(e session.Entry) error {
			w := entryToWire(e)
			return writeMessage(c, Response{V: Version, Entry: &w})
		})
		return Response{}, err
	case OpRooms:
		rooms, err := l.rooms(ctx)
		return Response{Rooms: rooms}, err
	case OpRoomOp:
		if req.RoomOp == nil {
			return Response{}, badRequest(errors.New("room_op is missing"))
		}
		res, err := l.roomOp(ctx, *req.RoomOp)
		return resultResponse(res), err
	case OpCreateRoom:
		var o session.CreateRoomOptions
		if req.Create != nil {
			o = *req.Create
		}
		res, err := l.createRoom(ctx, o)
		return resultResponse(res), err
	case OpRoomInfo:
		st, err := l.roomInfo(ctx, req.Room)
		return Response{State: st}, err
	case OpDevices:
		ds, err := l.devices(ctx)
		return Response{Devices: ds}, err
	case OpDeviceTok:
		tok, expires, err := l.newDeviceToken(ctx)
		if err != nil {
			return Response{}, err
		}
		return Response{DeviceToken: &WireDeviceToken{Token: tok, Expires: expires.UnixMilli()}}, nil
	case OpRemoveDev:
		if req.Device == "" {
			return Response{}, badRequest(errors.New("device is missing"))
		}
		res, err := l.removeDevice(ctx, req.Device)
		return Response{Removal: &res}, err
	case OpOutbox:
		items, err := l.outbox()
		out := make([]WireItem, len(items))
		for i, it := range items {
			out[i] = itemToWire(it)
		}
		return Response{Items: out}, err
	}
	return Response{}, badRequest(fmt.Errorf("unknown op %q", req.Op))
}

type badRequestError struct{ err error }

func (e badRequestError) Error() string { return "bad request: " + e.err.Error() }

func badRequest(err error) error { return badRequestError{err} }

func itemResponse(it session.OutboxItem) Response {
	if it.ID.IsZero() {
		return Response{}
	}
	w := itemToWire(it)
	return Response{Item: &w}
}

func resultResponse(r session.OpResult) Response {
	w := WireResult{Room: r.Room, Seq: r.Seq}
	if !r.Time.IsZero() {
		w.Time = r.Time.UnixMilli()
	}
	return Response{Result: &w}
}
