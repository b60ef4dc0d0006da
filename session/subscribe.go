package session

import (
	"context"
	"errors"
	"fmt"

	"mimichat/proto"
)

// Subscribing to every joined room after (re)connecting. A relay of
// protocol version 6 takes the rooms in subscribe_rooms batches (one request
// per 500 rooms); an older one gets one subscribe per room, at most
// maxSubscribing in flight at once, so a user in thousands of rooms never
// fills the connection's send queue or trips the relay's limits.

// batchSubscribeVersion is the first protocol version with subscribe_rooms.
const batchSubscribeVersion = 6

// maxSubscribing bounds the single subscribes in flight on a relay without
// subscribe_rooms.
const maxSubscribing = 32

// batchFrameBudget is how much of the relay's max_frame a subscribe_rooms
// frame may fill; the rest is headroom for the frame's own keys.
const batchFrameBudget = 3 * proto.DefaultMaxFrame / 4

// subscribeAll subscribes to the rooms not yet subscribed (nor being
// subscribed) on c, each from its cursor.
func (s *Session) subscribeAll(ctx context.Context, c *conn, rooms []string) error {
	s.mu.Lock()
	var todo []string
	for _, id := range rooms {
		r, _ := s.roomLocked(id, proto.StateJoined)
		if !r.subscribed && !r.subscribing {
			r.subscribing = true
			todo = append(todo, id)
		}
	}
	s.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	defer func() {
		s.mu.Lock()
		for _, id := range todo {
			if r, ok := s.rooms[id]; ok {
				r.subscribing = false
			}
		}
		s.mu.Unlock()
	}()
	if c.welcome.V >= batchSubscribeVersion {
		return s.subscribeBatched(ctx, c, todo)
	}
	return s.subscribeEach(ctx, c, todo)
}

// subscribeEach subscribes room by room, maxSubscribing at a time.
func (s *Session) subscribeEach(ctx context.Context, c *conn, rooms []string) error {
	type result struct {
		room string
		err  error
	}
	results := make(chan result, len(rooms))
	slots := make(chan struct{}, maxSubscribing)
	go func() {
		for _, room := range rooms {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				results <- result{room, ctx.Err()}
				continue
			}
			go func() {
				err := s.subscribe(ctx, c, room)
				<-slots
				results <- result{room, err}
			}()
		}
	}()
	var firstErr error
	for range rooms {
		r := <-results
		var re *RelayError
		switch {
		case r.err == nil:
		case errors.As(r.err, &re):
			// The room is gone for us (e.g. banned meanwhile): report it,
			// keep the other rooms going.
			s.q.push(ErrorEvent{fmt.Errorf("session: subscribe %s: %w", r.room, r.err)})
		case firstErr == nil:
			firstErr = fmt.Errorf("session: subscribe %s: %w", r.room, r.err)
		}
	}
	return firstErr
}

// subscribeBatched sends the rooms in subscribe_rooms frames, all at once,
// and waits for every answer. The answers are applied by the processor
// (subscribedRoomsLocked), in order with the replays that follow them.
func (s *Session) subscribeBatched(ctx context.Context, c *conn, rooms []string) error {
	cursors, err := s.startCursors(rooms)
	if err != nil {
		return err
	}
	budget := batchFrameBudget
	if mf := int(c.welcome.MaxFrame); mf > 0 {
		budget = 3 * mf / 4
	}
	type pending struct {
		rid uint64
		ch  chan proto.Frame
	}
	var sent []pending
	defer func() {
		c.mu.Lock()
		for _, p := range sent {
			delete(c.waiters, p.rid)
		}
		c.mu.Unlock()
	}()
	for len(cursors) > 0 {
		n, size := 0, 0
		for n < len(cursors) && n < proto.MaxSubscribeRooms {
			size += len(cursors[n].Room) + 24 // the entry's keys and seq
			if size > budget && n > 0 {
				break
			}
			n++
		}
		rid := s.rid()
		ch := make(chan proto.Frame, 1)
		c.mu.Lock()
		c.waiters[rid] = ch
		c.mu.Unlock()
		sent = append(sent, pending{rid, ch})
		if err := c.send(&proto.SubscribeRooms{RID: rid, Rooms: cursors[:n]}); err != nil {
			return fmt.Errorf("session: subscribe %d rooms: %w", n, err)
		}
		cursors = cursors[n:]
	}
	for _, p := range sent {
		select {
		case f := <-p.ch:
			if ef, ok := f.(*proto.ErrorFrame); ok {
				return fmt.Errorf("session: subscribe rooms: %w", relayError(ef))
			}
		case <-c.done:
			return ErrOffline
		case <-ctx.Done():
			return fmt.Errorf("session: subscribe rooms: %w", ctx.Err())
		}
	}
	return nil
}

// startCursors returns each room's cursor to subscribe from. A room never
// synced starts Backfill entries before its head (as subscribe does); the
// rooms moved so are saved in one transaction.
func (s *Session) startCursors(rooms []string) ([]proto.RoomCursor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]proto.RoomCursor, 0, len(rooms))
	var moved []Room
	for _, id := range rooms {
		r := s.rooms[id]
		if r.Cursor == 0 && r.Head > s.opts.Backfill {
			r.Cursor = r.Head - s.opts.Backfill
			r.Low = r.Cursor + 1
			moved = append(moved, r.Room)
		}
		out = append(out, proto.RoomCursor{Room: id, Since: r.Cursor})
	}
	if err := s.store.SaveRooms(moved); err != nil {
		return nil, err
	}
	return out, nil
}

// subscribedRoomsLocked applies a subscribed_rooms answer: each subscribed
// room's bounds (as subscribedLocked), each refusal reported, then the
// waiter answered.
func (s *Session) subscribedRoomsLocked(c *conn, f *proto.SubscribedRooms) {
	s.flushLocked(c)
	var changed []Room
	for _, rs := range f.Rooms {
		if r, ok := s.subscriptionLocked(rs.Room, rs.LastSeq, rs.FirstSeq); ok {
			changed = append(changed, r)
		}
		if r, ok := s.rooms[rs.Room]; ok {
			r.subscribed = true
		}
	}
	if err := s.store.SaveRooms(changed); err != nil {
		s.q.push(ErrorEvent{err})
	}
	for _, rr := range f.Refused {
		re := &RelayError{Code: rr.Code, Field: rr.Field, Reason: rr.Reason}
		s.q.push(ErrorEvent{fmt.Errorf("session: subscribe %s: %w", rr.Room, re)})
	}
	c.answer(f.RID, f)
}
