package relay

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"mimichat/content"
	"mimichat/proto"
)

// startRelay runs a real relay on 127.0.0.1:0 over a fresh data directory.
func startRelay(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Data == "" {
		cfg.Data = t.TempDir()
	}
	cfg.Listen = "127.0.0.1:0"
	if cfg.Domain == "" {
		cfg.Domain = "example.com"
	}
	if cfg.Logger == nil {
		cfg.Logger = discard()
	}
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func addUser(t testing.TB, s *Store, name string) string {
	t.Helper()
	_, tok, err := s.AddUser("example.com", name)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// client is a test websocket client speaking proto. A reader goroutine
// decodes every frame into frames.
type client struct {
	t      testing.TB
	ws     *websocket.Conn
	user   string
	frames chan proto.Frame
	closed chan struct{}
	err    error // why the connection ended, set before closed closes
	wmu    sync.Mutex
	rid    uint64
	stash  []proto.Frame // events and signals skipped while waiting for a reply
}

func dialRaw(t testing.TB, addr string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// dial connects and authenticates with the current protocol version.
func dial(t testing.TB, addr, token string) *client {
	return dialVersion(t, addr, token, proto.Version)
}

// dialVersion connects speaking protocol version v.
func dialVersion(t testing.TB, addr, token string, v uint64) *client {
	t.Helper()
	c := &client{t: t, ws: dialRaw(t, addr), frames: make(chan proto.Frame, 1<<16), closed: make(chan struct{})}
	t.Cleanup(func() { c.ws.Close() })
	go c.readLoop()
	c.send(&proto.Hello{V: v, Token: token, Client: "relay-test"})
	w := expect[*proto.Welcome](c)
	if w.V != v {
		t.Fatalf("welcome speaks version %d, want %d", w.V, v)
	}
	c.user = w.User
	return c
}

func (c *client) readLoop() {
	defer close(c.closed)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.err = err
			return
		}
		f, err := proto.Decode(data)
		if err != nil {
			c.err = fmt.Errorf("relay sent an undecodable frame: %w", err)
			return
		}
		c.frames <- f
	}
}

func (c *client) send(f proto.Frame) {
	c.t.Helper()
	data, err := proto.Encode(f)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(data)
}

func (c *client) sendRaw(data []byte) {
	if err := c.trySendRaw(data); err != nil {
		c.t.Errorf("write: %v", err)
	}
}

// trySendRaw writes data and returns the write error, for tests in which
// the relay may close the connection before the client stops writing.
func (c *client) trySendRaw(data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(websocket.BinaryMessage, data)
}

func (c *client) nextRID() uint64 {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.rid++
	return c.rid
}

// next returns the next frame, failing the test after timeout.
func (c *client) next(timeout time.Duration) proto.Frame {
	c.t.Helper()
	select {
	case f := <-c.frames:
		return f
	case <-time.After(timeout):
		c.t.Fatalf("%s: no frame within %v", c.user, timeout)
	}
	return nil
}

// expect skips events and signals until a frame of type T arrives.
func expect[T proto.Frame](c *client) T {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f := c.next(time.Until(deadline))
		if v, ok := f.(T); ok {
			return v
		}
		switch f.(type) {
		case *proto.Event, *proto.Signal, *proto.Notice, *proto.KeyPackagesLow, *proto.MLSWelcome:
			c.stash = append(c.stash, f)
			continue
		case *proto.Subscribed:
			continue
		}
		c.t.Fatalf("%s: want %T, got %#v", c.user, *new(T), f)
	}
}

// expectError waits for an error frame and checks its code.
func (c *client) expectError(code proto.Code) *proto.ErrorFrame {
	c.t.Helper()
	e := expect[*proto.ErrorFrame](c)
	if e.Code != code {
		c.t.Fatalf("%s: want error %s, got %s (%s)", c.user, code, e.Code, e.Reason)
	}
	return e
}

func (c *client) createRoom(slug string, f proto.CreateRoom) string {
	c.t.Helper()
	f.RID, f.Room = c.nextRID(), slug
	c.send(&f)
	return expect[*proto.OK](c).Room
}

// op runs a room operation and returns the ok, or the error frame.
func (c *client) op(room string, op proto.Kind, target string, mod ...func(*proto.RoomOp)) (*proto.OK, *proto.ErrorFrame) {
	c.t.Helper()
	f := &proto.RoomOp{RID: c.nextRID(), Room: room, Op: op, Target: target}
	for _, m := range mod {
		m(f)
	}
	c.send(f)
	deadline := time.Now().Add(5 * time.Second)
	for {
		switch v := c.next(time.Until(deadline)).(type) {
		case *proto.OK:
			return v, nil
		case *proto.ErrorFrame:
			return nil, v
		case *proto.Event, *proto.Signal, *proto.Notice, *proto.KeyPackagesLow, *proto.MLSWelcome:
			c.stash = append(c.stash, v)
		}
	}
}

func (c *client) mustOp(room string, op proto.Kind, target string, mod ...func(*proto.RoomOp)) *proto.OK {
	c.t.Helper()
	ok, ef := c.op(room, op, target, mod...)
	if ef != nil {
		c.t.Fatalf("%s %s %s: %s: %s", c.user, op, target, ef.Code, ef.Reason)
	}
	return ok
}

// message builds MIMI content from c's user in room, with its ID.
func message(t testing.TB, user, room, text string) *proto.Submit {
	t.Helper()
	b := content.Builder{Sender: user, Room: room}
	m, err := b.Text(text)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	id, err := content.ComputeID(user, room, raw)
	if err != nil {
		t.Fatal(err)
	}
	return &proto.Submit{Room: room, ID: id[:], Content: raw}
}

// post submits text and waits for its ack.
func (c *client) post(room, text string) *proto.Ack {
	c.t.Helper()
	s := message(c.t, c.user, room, text)
	s.RID = c.nextRID()
	c.send(s)
	a := expect[*proto.Ack](c)
	if a.RID != s.RID || !bytes.Equal(a.ID, s.ID) {
		c.t.Fatalf("ack for rid %d, want %d", a.RID, s.RID)
	}
	return a
}

func (c *client) subscribe(room string, since uint64) *proto.Subscribed {
	c.t.Helper()
	c.send(&proto.Subscribe{RID: c.nextRID(), Room: room, Since: since})
	for {
		switch v := c.next(5 * time.Second).(type) {
		case *proto.Subscribed:
			return v
		case *proto.ErrorFrame:
			c.t.Fatalf("%s subscribe %s: %s: %s", c.user, room, v.Code, v.Reason)
		case *proto.Event, *proto.Signal, *proto.Notice, *proto.KeyPackagesLow, *proto.MLSWelcome:
			c.stash = append(c.stash, v)
		}
	}
}

// events collects events of room until n arrive or timeout passes.
func (c *client) events(room string, n int, timeout time.Duration) []*proto.Event {
	c.t.Helper()
	var out []*proto.Event
	keep := c.stash[:0]
	for _, f := range c.stash {
		if e, ok := f.(*proto.Event); ok && e.Room == room && len(out) < n {
			out = append(out, e)
		} else {
			keep = append(keep, f)
		}
	}
	c.stash = keep
	deadline := time.After(timeout)
	for len(out) < n {
		select {
		case f := <-c.frames:
			if e, ok := f.(*proto.Event); ok && e.Room == room {
				out = append(out, e)
			}
		case <-deadline:
			return out
		}
	}
	return out
}

// exactEvents collects n events of room, then checks no more arrive soon.
func (c *client) exactEvents(room string, n int) []*proto.Event {
	c.t.Helper()
	evs := c.events(room, n, 10*time.Second)
	if len(evs) != n {
		c.t.Fatalf("%s: %d events, want %d", c.user, len(evs), n)
	}
	if extra := c.events(room, 1, 200*time.Millisecond); len(extra) > 0 {
		c.t.Fatalf("%s: unexpected event %+v after %d", c.user, extra[0], n)
	}
	return evs
}

// waitClosed waits for the relay to close c.
func (c *client) waitClosed(timeout time.Duration) bool {
	select {
	case <-c.closed:
		return true
	case <-time.After(timeout):
		return false
	}
}

func healthz(t testing.TB, addr string) int {
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
