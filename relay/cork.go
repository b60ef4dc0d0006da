package relay

import (
	"net"
	"sync"
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
