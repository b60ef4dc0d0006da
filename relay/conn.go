package relay

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"mimichat/proto"
	"mimichat/relay/store"
)

type itemKind uint8

const (
	itemFrame       itemKind = iota // an encoded reply
	itemEvent                       // a live room event (deduplicated by seq)
	itemSignal                      // an ephemeral signal
	itemReplay                      // start a subscription: replay from the database after seq
	itemReplayRooms                 // start a batch of subscriptions: write data (the answer), replay rooms in turn
	itemUnsub                       // stop a subscription
	itemClose                       // close the connection after what is queued before
)

// outItem is one entry of a connection's bounded send queue.
type outItem struct {
	kind itemKind
	room string
	seq  uint64
	data []byte // an encoded frame: a reply, or an event or signal shared by every subscriber
	// rooms are the subscriptions of an itemReplayRooms marker, answer
	// its subscribed_rooms frame (heads filled in when written).
	rooms  []replayFrom
	answer *proto.SubscribedRooms
	// reserved: a subscription's answer or replay marker, queued under a
	// replay token in room of its own (not counted against SendQueue)
	reserved bool
	// slot: the answer to a request that holds one of the connection's
	// MaxInflight slots, freed once the answer is written (not when it
	// is queued), so unwritten answers never outgrow the queue
	slot bool
}

// conn is one authenticated websocket client. Its reader goroutine handles
// requests; its writer goroutine alone writes to the socket, draining the
// bounded queue. Anything that finds the queue full disconnects the client
// instead of waiting: a slow reader never slows the relay or other clients.
type conn struct {
	srv  *Server
	ws   *websocket.Conn
	cork *corkConn // nil if the connection cannot batch writes
	user string
	v    uint64 // protocol version spoken (proto.MinVersion..proto.Version)
	// device is the device the connection acts as: the one its token is
	// bound to (per-device tokens) or else the one the hello named
	// (version 5), or "".
	device string
	// named is the device the hello named, or "": the connection gets the
	// mls_welcome frames of that device.
	named string
	log   *slog.Logger

	queue    chan outItem
	queueMax int           // items the queue may hold besides reserved ones
	reserved atomic.Int64  // reserved items queued
	inflight chan struct{} // one token per request at the writer
	replays  chan struct{} // one token per replay marker queued or being replayed
	done     chan struct{}
	killOnce sync.Once
	closing  atomic.Bool // a fatal error is queued: send nothing more, handle no more frames

	mu    sync.Mutex
	rooms map[*room]struct{} // rooms subscribed to, for cleanup
	errs  errBudget

	signals bucket // ephemeral signal rate, per connection
}

// track remembers r for cleanup. Called with r.mu held.
func (c *conn) track(r *room) {
	c.mu.Lock()
	c.rooms[r] = struct{}{}
	c.mu.Unlock()
}

// enqueue adds it to the send queue without blocking; a full queue
// disconnects the client (it resumes from its cursor when it reconnects).
func (c *conn) enqueue(it outItem) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	if it.reserved {
		c.reserved.Add(1)
	} else if len(c.queue)-int(c.reserved.Load()) >= c.queueMax {
		c.srv.metrics.slowKills.Add(1)
		c.kill(websocket.ClosePolicyViolation, "send queue full")
		return false
	}
	select {
	case c.queue <- it:
		return true
	default:
		c.srv.metrics.slowKills.Add(1)
		c.kill(websocket.ClosePolicyViolation, "send queue full")
		return false
	}
}

// send encodes f and queues it. Error frames the client caused count
// against its error budget (the relay's own internal failures do not, nor
// rate_limited, which pauses the connection's reading instead); a client
// over budget gets a fatal error and is closed.
// It returns the encoded size (0 if nothing was queued).
func (c *conn) send(f proto.Frame) int { return c.sendItem(f, false) }

// answerRequest sends the answer to a request that took an in-flight slot
// (toWriter); the writer frees the slot once the answer is on the socket.
// Before, the slot was freed when the answer was queued, so a pipelining
// client reading its acks slower than the relay committed let answers pile
// up past the send queue and was disconnected ("send queue full") instead
// of being pushed back.
func (c *conn) answerRequest(f proto.Frame) { c.sendItem(f, true) }

func (c *conn) sendItem(f proto.Frame, slot bool) int {
	if c.closing.Load() {
		if slot {
			c.freeSlot()
		}
		return 0
	}
	n := c.queueFrameItem(f, slot)
	if ef, ok := f.(*proto.ErrorFrame); ok && !ef.Fatal && ef.Code != proto.CodeInternal && ef.Code != proto.CodeRateLimited {
		c.mu.Lock()
		over := c.errs.add(time.Now())
		c.mu.Unlock()
		if over {
			c.fatal(proto.CodeTooManyErrors, "too many bad or refused frames")
		}
	}
	return n
}

// queueFrame encodes f and queues it, returning its size (0 if it was not
// queued).
func (c *conn) queueFrame(f proto.Frame) int { return c.queueFrameItem(f, false) }

func (c *conn) queueFrameItem(f proto.Frame, slot bool) int {
	data, err := proto.Encode(f)
	if err != nil {
		c.log.Error("encode frame", "type", f.FrameType(), "err", err)
		if slot {
			c.freeSlot()
		}
		return 0
	}
	if !c.enqueue(outItem{kind: itemFrame, data: data, slot: slot}) {
		if slot {
			c.freeSlot()
		}
		return 0
	}
	return len(data)
}

// freeSlot frees one in-flight slot (a request answered and written, or
// one whose answer will never be written).
func (c *conn) freeSlot() {
	select {
	case <-c.inflight:
	default:
	}
}

// fatal queues a fatal error frame and closes the connection after it.
// Only the first call does anything: frames the client sends meanwhile are
// neither answered nor logged again.
func (c *conn) fatal(code proto.Code, reason string) {
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	c.log.Info("closing connection", "code", code, "reason", reason)
	c.queueFrame(&proto.ErrorFrame{Code: code, Reason: reason, Fatal: true})
	c.enqueue(outItem{kind: itemClose})
}

// kill closes the connection now, from any goroutine, without blocking.
func (c *conn) kill(code int, reason string) {
	c.killOnce.Do(func() {
		close(c.done)
		c.log.Info("disconnecting", "reason", reason)
		go func() {
			msg := websocket.FormatCloseMessage(code, reason)
			c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(100*time.Millisecond))
			c.ws.Close()
		}()
	})
}

// cursor is the writer's position in one subscribed room.
type cursor struct {
	last  uint64 // last seq written
	ended bool   // the user's membership ended; write nothing more
	// waiting: the room is in a batch whose replay has not reached it yet;
	// a live event of it first replays what it skips (no gap to warn of).
	waiting bool
}

// writerState is what the writer goroutine alone keeps between items.
type writerState struct {
	cursors map[string]*cursor
	// batch holds the rooms of batched subscriptions still to replay, in
	// order; the writer replays one room at a time and drains the queue in
	// between, so live events do not pile up behind a long batch.
	batch []batchedReplay
}

// batchedReplay is one room of a batch still to replay. last marks the
// batch's final room: its replay token is given back after it.
type batchedReplay struct {
	room string
	last bool
}

const replayPage = 256

// writeLoop is the connection's only socket writer.
func (c *conn) writeLoop() {
	defer c.kill(websocket.CloseNormalClosure, "writer stopped")
	w := &writerState{cursors: map[string]*cursor{}}
	ping := time.NewTicker(c.srv.cfg.PingInterval)
	defer ping.Stop()
	for {
		var err error
		if len(w.batch) > 0 {
			// Queued items first, then the next room of the batch: the
			// replay goes as fast as the client reads, live events keep
			// flowing meanwhile.
			select {
			case <-c.done:
				return
			case <-ping.C:
				err = c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.srv.cfg.WriteTimeout))
			case it := <-c.queue:
				err = c.writeBurst(it, w)
			default:
				err = c.replayBatched(w)
			}
		} else {
			select {
			case <-c.done:
				return
			case <-ping.C:
				err = c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.srv.cfg.WriteTimeout))
			case it := <-c.queue:
				err = c.writeBurst(it, w)
			}
		}
		if err != nil {
			if !errors.Is(err, errClosing) {
				c.log.Debug("write", "err", err)
			}
			return
		}
	}
}

// replayBatched replays the next room of w.batch, corked like a burst.
func (c *conn) replayBatched(w *writerState) error {
	next := w.batch[0]
	w.batch = w.batch[1:]
	if len(w.batch) == 0 {
		w.batch = nil // let the backing array go
	}
	if next.last {
		defer c.releaseReplayToken()
	}
	cur := w.cursors[next.room]
	if cur == nil || !cur.waiting {
		return nil // unsubscribed, or subscribed again meanwhile (that replay covers it)
	}
	cur.waiting = false
	if c.cork != nil {
		c.cork.cork()
	}
	err := c.replay(next.room, cur, 0)
	if c.cork != nil {
		if ferr := c.cork.uncork(); err == nil {
			err = ferr
		}
	}
	return err
}

var errClosing = errors.New("closing")

// writeShared writes data, a frame shared by every subscriber, as one
// binary message. gorilla's server write copies it into the connection's
// buffer and frames it there, allocating nothing. A PreparedMessage, built
// once per event, cost more than the copies it saved: each build framed
// the event through a throwaway connection with a 4 KiB buffer (issue 18:
// 6 % of a paced relay's CPU, with 50 subscribers per event).
func (c *conn) writeShared(data []byte) error {
	return c.ws.WriteMessage(websocket.BinaryMessage, data)
}

// maxBurst bounds how many queued items one write call may gather.
const maxBurst = 256

// writeBurst writes it and whatever else is already queued (up to
// maxBurst) with writes corked, so the burst leaves in one system call.
func (c *conn) writeBurst(it outItem, w *writerState) error {
	if c.cork == nil || (len(c.queue) == 0 && it.kind != itemReplay) {
		return c.write(it, w)
	}
	c.cork.cork()
	err := c.write(it, w)
	for n := 1; err == nil && n < maxBurst && len(c.queue) > 0; n++ {
		err = c.write(<-c.queue, w)
	}
	if ferr := c.cork.uncork(); err == nil {
		err = ferr
	}
	return err
}

func (c *conn) write(it outItem, w *writerState) error {
	if it.reserved {
		c.reserved.Add(-1)
	}
	if it.slot {
		defer c.freeSlot()
	}
	cursors := w.cursors
	c.ws.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	switch it.kind {
	case itemFrame:
		return c.ws.WriteMessage(websocket.BinaryMessage, it.data)
	case itemSignal:
		if cursors[it.room] == nil {
			return nil
		}
		return c.writeShared(it.data)
	case itemEvent:
		cur := cursors[it.room]
		if cur == nil || cur.ended || it.seq <= cur.last {
			return nil
		}
		if it.seq > cur.last+1 {
			// A room whose batched replay has not come yet replays up to
			// its live event now. Otherwise this cannot happen if fan-out
			// is in order; heal by reading the gap.
			if !cur.waiting {
				c.log.Warn("gap in live events; replaying", "room", it.room, "have", cur.last, "got", it.seq)
			}
			if err := c.replay(it.room, cur, it.seq-1); err != nil || cur.ended {
				return err
			}
		}
		cur.last = it.seq
		c.srv.metrics.delivered.Add(1)
		return c.writeShared(it.data)
	case itemReplay:
		defer c.releaseReplayToken()
		cur := &cursor{last: it.seq}
		cursors[it.room] = cur
		return c.replay(it.room, cur, 0)
	case itemReplayRooms:
		for i, rf := range it.rooms {
			cursors[rf.room] = &cursor{last: rf.seq, waiting: true}
			w.batch = append(w.batch, batchedReplay{room: rf.room, last: i == len(it.rooms)-1})
		}
		if len(it.rooms) == 0 {
			c.releaseReplayToken()
		}
		return c.writeSubscribedRooms(it.answer)
	case itemUnsub:
		delete(cursors, it.room)
	case itemClose:
		c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "closed by relay"), time.Now().Add(time.Second))
		return errClosing
	}
	return nil
}

// replay writes the stored events of room after cur.last (up to upTo, or all
// when upTo is 0), stopping after an event that ends this user's membership.
func (c *conn) replay(room string, cur *cursor, upTo uint64) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	r := c.srv.hub.room(room)
	for {
		var evs []store.Event
		cached, err := false, error(nil)
		if r != nil {
			evs, cached, err = r.tail.after(ctx, c.srv.hub.tails, c.srv.db, room, cur.last, replayPage)
		}
		if err == nil && !cached {
			evs, err = c.srv.db.EventsAfter(ctx, room, cur.last, replayPage)
		}
		if err != nil {
			return err
		}
		for _, e := range evs {
			if upTo > 0 && e.Seq > upTo {
				return nil
			}
			c.ws.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
			if err := c.ws.WriteMessage(websocket.BinaryMessage, e.Frame); err != nil {
				return err
			}
			cur.last = e.Seq
			c.srv.metrics.replayed.Add(1)
			if e.Ends == c.user {
				cur.ended = true
				return nil
			}
		}
		if len(evs) < replayPage {
			return nil
		}
	}
}

// readFrame reads one websocket message of at most max bytes. A larger
// message is drained and reported as too large, so the connection survives.
func readFrame(r io.Reader, max int) ([]byte, bool, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, false, err
	}
	if len(data) > max {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return nil, true, err
		}
		return nil, true, nil
	}
	return data, false, nil
}
