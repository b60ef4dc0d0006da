package relay

import (
	"net"
	"sync"
	"time"
)

// corkListener wraps accepted connections in corkConn.
type corkListener struct{ net.Listener }

func (l corkListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &corkConn{Conn: c}, nil
}

// corkConn lets a connection's writer gather a burst of websocket frames
// into one write system call: between cork and uncork, writes are buffered.
// Fan-out to hundreds of clients is bound by write calls, not bytes, so a
// busy subscriber costs one call per burst instead of one per event.
type corkConn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	buf    []byte
	err    error

	dmu      sync.Mutex
	deadline time.Time // the write deadline last set on Conn
}

// deadlineSlack is how much later a new write deadline may be than the one
// set before it is passed on. gorilla/websocket sets the connection's write
// deadline before every frame it writes (now + WriteTimeout here); on a TCP
// connection each call re-arms a runtime timer under the poller's lock,
// which was about a tenth of the relay's CPU per paced delivery (issue 18).
// Passing it on at most once a second leaves a frame's deadline between
// WriteTimeout - 1 s and WriteTimeout after its write began; an earlier
// deadline (a close frame's) or none is always passed on.
const deadlineSlack = time.Second

func (c *corkConn) SetWriteDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	if !t.IsZero() && !c.deadline.IsZero() && !t.Before(c.deadline) && t.Sub(c.deadline) < deadlineSlack {
		return nil
	}
	c.deadline = t
	return c.Conn.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines, so the write one is no longer what
// SetWriteDeadline last passed on.
func (c *corkConn) SetDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.deadline = t
	return c.Conn.SetDeadline(t)
}

const corkFlushAt = 64 << 10

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return c.Conn.Write(p)
	}
	if c.err != nil {
		return 0, c.err
	}
	c.buf = append(c.buf, p...)
	if len(c.buf) >= corkFlushAt {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes what was buffered and returns to direct writes.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	err := c.flushLocked()
	if cap(c.buf) > 4*corkFlushAt {
		c.buf = nil // do not keep a replay-sized buffer per idle client
	}
	return err
}

func (c *corkConn) flushLocked() error {
	if c.err != nil {
		return c.err
	}
	_, err := c.Conn.Write(c.buf) // net.Conn.Write writes all or fails
	c.buf = c.buf[:0]
	if err != nil {
		c.err = err
	}
	return err
}
