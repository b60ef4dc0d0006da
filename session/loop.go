package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mimichat/proto"
)

// connectLoop keeps one connection up until Close, backing off between
// failed attempts.
func (s *Session) connectLoop() {
	defer s.wg.Done()
	attempt := 0
	for s.ctx.Err() == nil {
		s.setStatus(Status{State: Connecting, Attempt: attempt})
		c, err := s.dial()
		if err == nil {
			var reachedOnline bool
			reachedOnline, err = s.serve(c)
			if reachedOnline {
				attempt = 0
			}
		}
		if s.ctx.Err() != nil {
			return
		}
		err = lostError(err) // classified: dial's errors already are
		var fe *fatalError
		if errors.As(err, &fe) {
			s.setStatus(Status{State: Stopped, Attempt: attempt, Err: err})
			attempt = 0
			if !s.sleep(0) {
				return
			}
			continue
		}
		attempt++
		d := s.opts.Backoff.Delay(attempt)
		s.setStatus(Status{State: Offline, Attempt: attempt, NextRetry: time.Now().Add(d), Err: err})
		if !s.sleep(d) {
			return
		}
	}
}

// sleep waits d (forever when d is 0) or until Reconnect; false on Close.
func (s *Session) sleep(d time.Duration) bool {
	var tc <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-s.ctx.Done():
		return false
	case <-s.kick:
		return true
	case <-tc:
		return true
	}
}

// serve runs one connection until it ends. It reports whether it got
// Online, and why it ended.
func (s *Session) serve(c *conn) (bool, error) {
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		c.close()
		return false, ErrClosed
	}
	s.conn = c
	s.mu.Unlock()

	done := make(chan struct{}, 3)
	go func() { c.writer(); done <- struct{}{} }()
	go func() { c.reader(); done <- struct{}{} }()
	go func() { s.process(c); done <- struct{}{} }()

	online := false
	if err := s.resync(c); err != nil {
		c.fail(err)
	} else {
		if c.welcome.V >= e2eeVersion {
			// A device can be invited once its KeyPackages are on the
			// relay: upload them before saying Online.
			if err := s.topUpKeyPackages(c); err != nil && c.cause() == nil {
				s.q.push(ErrorEvent{fmt.Errorf("session: upload key packages: %w", err)})
			}
		}
		online = true
		s.setStatus(Status{State: Online})
		go func() { s.pump(c); done <- struct{}{} }()
		go func() { s.pollRooms(c); done <- struct{}{} }()
		go func() { s.keyPackageLoop(c); done <- struct{}{} }()
		go func() { s.rejoinLoop(c); done <- struct{}{} }()
		<-c.done
	}
	c.close()
	for range 3 {
		<-done
	}
	if online {
		<-done // the pump
		<-done // the room poll
		<-done // the key package top-up
		<-done // the rejoin loop
	}
	s.mu.Lock()
	s.conn = nil
	for _, r := range s.rooms {
		r.resetConn()
	}
	s.mu.Unlock()
	err := c.cause()
	if err == nil {
		err = errors.New("session: connection closed")
	}
	return online, err
}

// resync lists the user's rooms, records them, and subscribes to each
// joined room from its cursor. Replayed events flow through the processor
// as live ones do, so the consumer sees one ordered stream.
func (s *Session) resync(c *conn) error {
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	list, err := s.listRooms(ctx, c)
	if err != nil {
		return err
	}
	return s.subscribeAll(ctx, c, s.applyRoomList(list))
}

// subscribe asks for room's events after its cursor. A room never synced
// starts Backfill entries before the head; older ones come by scrollback.
func (s *Session) subscribe(ctx context.Context, c *conn, room string) error {
	s.mu.Lock()
	r, _ := s.roomLocked(room, proto.StateJoined)
	if r.Cursor == 0 && r.Head > s.opts.Backfill {
		r.Cursor = r.Head - s.opts.Backfill
		r.Low = r.Cursor + 1
		if err := s.store.SaveRoom(r.Room); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	since := r.Cursor
	r.subscribing = true // a room-list refresh meanwhile leaves it alone (subscribeAll)
	s.mu.Unlock()
	rid := s.rid()
	f, err := c.request(ctx, rid, &proto.Subscribe{RID: rid, Room: room, Since: since})
	if err == nil {
		if _, ok := f.(*proto.Subscribed); !ok {
			err = fmt.Errorf("got %s", f.FrameType())
		}
	}
	s.mu.Lock()
	if r, ok := s.rooms[room]; ok {
		// A removal past since, applied already, ended this subscription
		// at the relay as it replayed it: the room list says whether to
		// subscribe again (endSubscriptionLocked).
		live := err == nil && r.endedSeq <= since
		r.subscribed = r.subscribed || live
		r.subscribing = false
		if err == nil && !live {
			select {
			case c.nudge <- struct{}{}:
			default:
			}
		}
	}
	s.mu.Unlock()
	return err
}

// pollRooms refreshes the room list at once when the relay sends a notice
// (an invitation, kick, ban or role change of this user, or a join or leave
// on another device), and every RoomsPoll while c lives as a fallback: a
// version 1 relay pushes nothing.
func (s *Session) pollRooms(c *conn) {
	t := time.NewTicker(s.opts.RoomsPoll)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		case <-c.nudge:
		}
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		list, err := s.listRooms(ctx, c)
		if err == nil {
			err = s.subscribeAll(ctx, c, s.applyRoomList(list))
		}
		cancel()
		if err != nil && c.cause() == nil {
			s.q.push(ErrorEvent{fmt.Errorf("session: refresh rooms: %w", err)})
		}
	}
}

// process applies the relay's frames in arrival order, committing events to
// the cache in batches of up to frameBatch frames per transaction.
func (s *Session) process(c *conn) {
	batch := make([]proto.Frame, 0, frameBatch)
	for {
		f, ok := <-c.frames
		if !ok {
			return
		}
		batch = append(batch[:0], f)
	drain:
		for len(batch) < frameBatch {
			select {
			case f, ok := <-c.frames:
				if !ok {
					break drain
				}
				batch = append(batch, f)
			default:
				break drain
			}
		}
		s.mu.Lock()
		for _, f := range batch {
			s.handleFrame(c, f)
		}
		s.flushLocked(c)
		s.mu.Unlock()
	}
}

// handleFrame applies one frame; s.mu is held.
func (s *Session) handleFrame(c *conn, f proto.Frame) {
	switch f := f.(type) {
	case *proto.Event:
		s.acceptLocked(c, entryFromProto(f))
	case *proto.Subscribed:
		s.flushLocked(c)
		s.subscribedLocked(f)
		c.answer(f.RID, f)
	case *proto.SubscribedRooms:
		s.subscribedRoomsLocked(c, f)
	case *proto.HistoryPage:
		c.mu.Lock()
		room, isFill := c.fills[f.RID]
		delete(c.fills, f.RID)
		c.mu.Unlock()
		if !isFill {
			c.answer(f.RID, f)
			return
		}
		s.fillDoneLocked(c, room, f)
	case *proto.Ack:
		s.ackLocked(c, f)
	case *proto.ErrorFrame:
		s.flushLocked(c)
		s.relayErrorLocked(c, f)
	case *proto.Signal:
		s.q.push(SignalEvent{Room: f.Room, From: f.From, Kind: f.Kind, Value: f.Value})
	case *proto.OK:
		c.answer(f.RID, f)
	case *proto.RoomList:
		c.answer(f.RID, f)
	case *proto.RoomState:
		c.answer(f.RID, f)
	case *undecodable:
		s.q.push(f.report())
	case *proto.KeyPackagesStored:
		c.answer(f.RID, f)
	case *proto.KeyMaterial:
		c.answer(f.RID, f)
	case *proto.DeviceList:
		c.answer(f.RID, f)
	case *proto.DeviceToken:
		c.answer(f.RID, f)
	case *proto.WelcomeList:
		c.answer(f.RID, f)
	case *proto.WelcomePart:
		c.answer(f.RID, f)
	case *proto.GroupInfo:
		c.answer(f.RID, f)
	case *proto.MLSWelcome:
		// Accepting reads the stored Welcomes (Join); the push only
		// refreshes the room list, where the invitation shows.
		select {
		case c.nudge <- struct{}{}:
		default:
		}
	case *proto.KeyPackagesLow:
		if f.Device == s.device.uri {
			select {
			case s.kpLow <- struct{}{}:
			default:
			}
		}
	case *proto.Notice:
		// Coalesced: one refresh answers any number of notices queued
		// before it starts.
		select {
		case c.nudge <- struct{}{}:
		default:
		}
	}
}
