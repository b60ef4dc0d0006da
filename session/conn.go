package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"mimichat/content"
	"mimichat/proto"
)

// Timeouts of one connection.
const (
	handshakeTimeout = 10 * time.Second
	writeTimeout     = 10 * time.Second
	pingEvery        = 20 * time.Second
	readTimeout      = 3 * pingEvery // the relay answers our pings
	outQueue         = 1024          // frames waiting for the writer
	frameQueue       = 1024          // frames waiting for the processor
	frameBatch       = 256           // frames processed per cache transaction
)

// conn is one live websocket connection and the state that dies with it.
type conn struct {
	ws      *websocket.Conn
	welcome proto.Welcome
	out     chan []byte
	frames  chan proto.Frame
	done    chan struct{}
	nudge   chan struct{} // a notice arrived: refresh the room list now

	closeOnce sync.Once
	errMu     sync.Mutex
	err       error

	mu      sync.Mutex
	waiters map[uint64]chan proto.Frame
	fills   map[uint64]string            // gap-fill history requests: rid -> room
	submits map[uint64]content.MessageID // submit rid -> message
	sentAt  map[content.MessageID]time.Time
}

func (c *conn) fail(err error) {
	c.errMu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.errMu.Unlock()
	c.close()
}

func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.ws.Close()
	})
}

func (c *conn) cause() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

// send queues an encoded frame for the writer without blocking.
func (c *conn) send(f proto.Frame) error {
	b, err := proto.Encode(f)
	if err != nil {
		return err
	}
	select {
	case c.out <- b:
		return nil
	case <-c.done:
		return ErrOffline
	default:
		return fmt.Errorf("session: send queue full (%d frames)", outQueue)
	}
}

// request sends f (whose RID is rid) and waits for the answer with that rid.
// An error frame comes back as *RelayError.
func (c *conn) request(ctx context.Context, rid uint64, f proto.Frame) (proto.Frame, error) {
	ch := make(chan proto.Frame, 1)
	c.mu.Lock()
	c.waiters[rid] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiters, rid)
		c.mu.Unlock()
	}()
	if err := c.send(f); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if ef, ok := r.(*proto.ErrorFrame); ok {
			return nil, relayError(ef)
		}
		return r, nil
	case <-c.done:
		return nil, ErrOffline
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// answer hands a response to its waiter; false when nobody waits for rid.
func (c *conn) answer(rid uint64, f proto.Frame) bool {
	c.mu.Lock()
	ch, ok := c.waiters[rid]
	c.mu.Unlock()
	if ok {
		ch <- f // buffered 1, one answer per rid
	}
	return ok
}

// dial connects to the relay: Relay, or with Relays (the nodes of a relay
// cluster, docs/cluster.md) the first that answers, starting from the one
// last connected to, so a client of a node that died reconnects to another
// at once. A fatal refusal (the token) is not retried on the others.
func (s *Session) dial() (*conn, error) {
	urls := append([]string{s.opts.Relay}, s.opts.Relays...)
	s.mu.Lock()
	start := s.relayAt
	s.mu.Unlock()
	var err error
	for i := range urls {
		at := (start + i) % len(urls)
		var c *conn
		if c, err = s.dialURL(urls[at]); err == nil {
			s.mu.Lock()
			s.relayAt = at
			s.mu.Unlock()
			return c, nil
		}
		if fe := (*fatalError)(nil); errors.As(err, &fe) || s.ctx.Err() != nil {
			return nil, err
		}
	}
	return nil, err
}

// oldestFallback is the oldest protocol version dialURL falls back to:
// this client needs the version 5 keys, and no relay older than that is
// served.
const oldestFallback = 5

// dialURL connects to relay, says hello and reads the welcome. A relay
// that refuses the hello's version (an older relay: unsupported_version) is
// asked again with the version below, down to oldestFallback; the version
// it accepted is remembered for the next connections.
func (s *Session) dialURL(relay string) (*conn, error) {
	for {
		s.mu.Lock()
		v := s.helloV
		s.mu.Unlock()
		if v == 0 {
			v = proto.Version
		}
		c, err := s.dialVersion(relay, v)
		var ce *ConnError
		if err != nil && v > oldestFallback && errors.As(err, &ce) && ce.Code == proto.CodeUnsupportedVersion {
			s.mu.Lock()
			s.helloV = v - 1
			s.mu.Unlock()
			continue
		}
		if err != nil && errors.As(err, &ce) && ce.Code == proto.CodeAuthFailed && s.tokenFallback() {
			continue // the stored token was replaced: try the configured one
		}
		return c, err
	}
}

// dialVersion connects to relay and says hello with protocol version v.
func (s *Session) dialVersion(relay string, v uint64) (*conn, error) {
	ctx, cancel := context.WithTimeout(s.ctx, handshakeTimeout)
	defer cancel()
	d := websocket.Dialer{HandshakeTimeout: handshakeTimeout, Proxy: http.ProxyFromEnvironment}
	ws, resp, err := d.DialContext(ctx, relay, nil)
	if err != nil {
		if resp != nil {
			return nil, dialError(fmt.Errorf("session: dial %s: %w (HTTP %s)", relay, err, resp.Status), resp.StatusCode)
		}
		return nil, dialError(fmt.Errorf("session: dial %s: %w", relay, err), 0)
	}
	ws.SetReadLimit(max(int64(proto.DefaultMaxFrame)*16, proto.DefaultMaxHandshakeFrame))
	token := s.helloToken()
	hello, err := proto.Encode(&proto.Hello{V: v, Token: token, Client: s.opts.ClientName, Device: s.device.uri})
	if err != nil {
		ws.Close()
		return nil, &ConnError{Err: err}
	}
	deadline := time.Now().Add(handshakeTimeout)
	ws.SetWriteDeadline(deadline)
	ws.SetReadDeadline(deadline)
	if err := ws.WriteMessage(websocket.BinaryMessage, hello); err != nil {
		ws.Close()
		return nil, lostError(fmt.Errorf("session: hello: %w", err))
	}
	_, data, err := ws.ReadMessage()
	if err != nil {
		ws.Close()
		return nil, lostError(fmt.Errorf("session: waiting for welcome: %w", err))
	}
	f, err := proto.Decode(data)
	if err != nil {
		ws.Close()
		return nil, &ConnError{Problem: ProblemProtocol, Err: fmt.Errorf("session: waiting for welcome: %w", err)}
	}
	switch f := f.(type) {
	case *proto.Welcome:
		if f.User != s.opts.User {
			ws.Close()
			return nil, &ConnError{Problem: ProblemAuth, Err: &fatalError{fmt.Errorf("session: the token is %s's, but this session is %s's", f.User, s.opts.User)}}
		}
		// The relay bound the token to this device: keep it in the data
		// directory, the device's own credential from now on.
		if err := s.keepToken(token); err != nil {
			ws.Close()
			return nil, &ConnError{Err: err}
		}
		c := &conn{
			ws: ws, welcome: *f,
			out: make(chan []byte, outQueue), frames: make(chan proto.Frame, frameQueue), done: make(chan struct{}),
			nudge:   make(chan struct{}, 1),
			waiters: map[uint64]chan proto.Frame{}, fills: map[uint64]string{},
			submits: map[uint64]content.MessageID{}, sentAt: map[content.MessageID]time.Time{},
		}
		return c, nil
	case *proto.ErrorFrame:
		ws.Close()
		re := relayError(f)
		ce := relayConnError(re)
		switch f.Code {
		case proto.CodeAuthFailed, proto.CodeAuthRequired, proto.CodeUnsupportedVersion, proto.CodeDeviceRevoked:
			ce.Err = &fatalError{re}
		}
		return nil, ce
	default:
		ws.Close()
		return nil, &ConnError{Problem: ProblemProtocol, Err: fmt.Errorf("session: expected welcome, got %s", f.FrameType())}
	}
}

// fatalError ends reconnection until Reconnect: retrying cannot help.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// writer owns the socket's write side.
func (c *conn) writer() {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case b := <-c.out:
			c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := c.ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
				c.fail(fmt.Errorf("session: write: %w", err))
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				c.fail(fmt.Errorf("session: ping: %w", err))
				return
			}
		case <-c.done:
			c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			return
		}
	}
}

// reader decodes frames and queues them for the processor, in order.
func (c *conn) reader() {
	defer close(c.frames)
	c.ws.SetReadDeadline(time.Now().Add(readTimeout))
	c.ws.SetPongHandler(func(string) error {
		c.ws.SetReadDeadline(time.Now().Add(readTimeout))
		return nil
	})
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.fail(fmt.Errorf("session: relay closed the connection: %w", err))
			} else {
				c.fail(fmt.Errorf("session: read: %w", err))
			}
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(readTimeout))
		if typ != websocket.BinaryMessage {
			continue
		}
		f, err := proto.Decode(data)
		if err != nil {
			f = readEnvelope(data, err)
		}
		select {
		case c.frames <- f:
		case <-c.done:
			return
		}
	}
}
