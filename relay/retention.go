package relay

import (
	"context"
	"time"

	"mimichat/relay/store"
)

// expiryVersion is the protocol version whose room_state and room_list
// carry a room's message expiry.
const expiryVersion = 5

// sweep enforces Config.Retain and Config.RetainBlobs, and expires Welcomes
// after welcomeLife: every SweepEvery it deletes events older than Retain
// (each room keeps its last event, so its seqs continue) and blobs older
// than RetainBlobs (row first, then file: a crash between leaves only a
// file nobody can fetch). Every ExpireEvery it enforces rooms' message
// expiry policies (expireRooms). Clients asking for deleted history get
// empty pages, which they report as "not available" and skip, as for
// history they may not see.
func (s *Server) sweep() {
	defer close(s.sweepDone)
	t := time.NewTicker(s.cfg.SweepEvery)
	defer t.Stop()
	s.sweepOnce(time.Now())
	expirer, expire := s.db.(store.EventExpirer)
	var expireC <-chan time.Time
	if expire {
		et := time.NewTicker(s.cfg.ExpireEvery)
		defer et.Stop()
		expireC = et.C
		s.expireRooms(expirer, time.Now())
	}
	for {
		select {
		case <-s.stopWatch:
			return
		case now := <-t.C:
			s.sweepOnce(now)
		case now := <-expireC:
			s.expireRooms(expirer, now)
		}
	}
}

// expireRooms deletes, in each room with a message expiry policy, the
// events older than its lifetime, the room's last event included (the
// store keeps the room's head, so its seqs continue). Replays of the room
// read the store while its events are deleted, and its tail cache is then
// dropped, so no replay serves them from memory.
func (s *Server) expireRooms(db store.EventExpirer, now time.Time) {
	type due struct {
		r      *room
		cutoff int64
	}
	var rooms []due
	s.hub.mu.RLock()
	for _, r := range s.hub.rooms {
		r.mu.RLock()
		if r.expiry > 0 {
			rooms = append(rooms, due{r, now.Add(-time.Duration(r.expiry) * time.Second).UnixMilli()})
		}
		r.mu.RUnlock()
	}
	s.hub.mu.RUnlock()
	for _, d := range rooms {
		ctx, cancel := s.sweepContext()
		d.r.tail.beginExpiry()
		n, err := db.ExpireRoomEvents(ctx, d.r.uri, d.cutoff)
		cancel()
		// An error may have deleted some: drop the tail either way.
		d.r.tail.endExpiry(s.hub.tails, n > 0 || err != nil)
		if err != nil {
			s.log.Error("room expiry: delete events", "room", d.r.uri, "err", err)
		}
		if n > 0 {
			s.log.Info("room expiry: deleted events", "room", d.r.uri, "count", n)
		}
	}
}

// welcomeLife is how long a Welcome waits for its device (protocol
// version 5): a device offline longer joins by external commit instead.
const welcomeLife = 30 * 24 * time.Hour

// sweepContext bounds one sweep's store work to a minute, and ends it when
// the relay shuts down: Shutdown waits for the sweep, and a cluster node
// whose store has lost its quorum used to hold Shutdown for the rest of
// that minute (57 s in TestClusterRecheckQuietWhileNoLeader).
func (s *Server) sweepContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	go func() {
		select {
		case <-s.stopWatch:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func (s *Server) sweepOnce(now time.Time) {
	ctx, cancel := s.sweepContext()
	defer cancel()
	if n, err := s.db.DeleteWelcomesBefore(ctx, now.Add(-welcomeLife)); err != nil {
		s.log.Error("retention: delete welcomes", "err", err)
	} else if n > 0 {
		s.log.Info("retention: deleted welcomes", "count", n, "older_than", welcomeLife.String())
	}
	if s.cfg.Retain > 0 {
		n, err := s.db.DeleteEventsBefore(ctx, now.Add(-s.cfg.Retain).UnixMilli())
		if err != nil {
			s.log.Error("retention: delete events", "err", err)
		} else if n > 0 {
			s.log.Info("retention: deleted events", "count", n, "older_than", s.cfg.Retain.String())
		}
	}
	s.sweepOrphansDue(ctx, now)
	if s.cfg.RetainBlobs > 0 {
		ids, err := s.db.DeleteBlobsBefore(ctx, now.Add(-s.cfg.RetainBlobs))
		if err != nil {
			s.log.Error("retention: delete blobs", "err", err)
		}
		for _, id := range ids {
			if err := s.blobs.remove(ctx, id); err != nil {
				s.log.Warn("retention: remove blob bytes", "id", id, "err", err)
			}
		}
		if len(ids) > 0 {
			s.log.Info("retention: deleted blobs", "count", len(ids), "older_than", s.cfg.RetainBlobs.String())
		}
	}
}
