package relay

import (
	"context"
	"os"
	"path/filepath"
	"time"
)

// sweep enforces Config.Retain and Config.RetainBlobs, and expires Welcomes
// after welcomeLife: every SweepEvery it
// deletes events older than Retain (each room keeps its last event, so
// its seqs continue) and blobs older than RetainBlobs (row first, then
// file: a crash between leaves only a file nobody can fetch). Clients
// asking for deleted history get empty pages, which they report as "not
// available" and skip, as for history they may not see.
func (s *Server) sweep() {
	defer close(s.sweepDone)
	t := time.NewTicker(s.cfg.SweepEvery)
	defer t.Stop()
	for {
		s.sweepOnce(time.Now())
		select {
		case <-s.stopWatch:
			return
		case <-t.C:
		}
	}
}

// welcomeLife is how long a Welcome waits for its device (protocol
// version 5): a device offline longer joins by external commit instead.
const welcomeLife = 30 * 24 * time.Hour

func (s *Server) sweepOnce(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
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
	if s.cfg.RetainBlobs > 0 {
		ids, err := s.db.DeleteBlobsBefore(ctx, now.Add(-s.cfg.RetainBlobs))
		if err != nil {
			s.log.Error("retention: delete blobs", "err", err)
		}
		for _, id := range ids {
			if err := os.Remove(filepath.Join(s.blobs.dir, id)); err != nil && !os.IsNotExist(err) {
				s.log.Warn("retention: remove blob file", "id", id, "err", err)
			}
		}
		if len(ids) > 0 {
			s.log.Info("retention: deleted blobs", "count", len(ids), "older_than", s.cfg.RetainBlobs.String())
		}
	}
}
