package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mimichat/proto"
)

// roomWelcomes fetches the Welcomes stored for this device for room, each
// with its bytes and its tree whole: from a version 9 relay page by page
// (welcome_list.more), reading an entry's Welcome or tree that did not fit
// a frame with get_welcome_part; from an older relay in its one list.
func (s *Session) roomWelcomes(ctx context.Context, c *conn, room string) ([]proto.PendingWelcome, error) {
	req := proto.Welcomes{Device: s.device.uri}
	if c.welcome.V >= proto.WelcomePagesVersion {
		req.Room = room
	}
	var out []proto.PendingWelcome
	for {
		f, err := s.readRequest(ctx, c, func(rid uint64) proto.Frame { req.RID = rid; return &req })
		if err != nil {
			return nil, fmt.Errorf("session: welcomes: %w", err)
		}
		list, ok := f.(*proto.WelcomeList)
		if !ok {
			return nil, fmt.Errorf("session: welcomes: unexpected answer %s", f.FrameType())
		}
		for _, w := range list.Welcomes {
			if w.Room != room {
				continue
			}
			if w.WelcomeSize > 0 {
				if w.Welcome, err = s.welcomePart(ctx, c, w, proto.PartWelcome, w.WelcomeSize); err != nil {
					return nil, err
				}
			}
			if w.TreeSize > 0 {
				if w.RatchetTree, err = s.welcomePart(ctx, c, w, proto.PartRatchetTree, w.TreeSize); err != nil {
					return nil, err
				}
			}
			out = append(out, w)
		}
		if !list.More || c.welcome.V < proto.WelcomePagesVersion {
			return out, nil
		}
		if len(list.Welcomes) == 0 {
			return nil, fmt.Errorf("session: welcomes: an empty page says more follow")
		}
		last := list.Welcomes[len(list.Welcomes)-1]
		req.AfterRoom, req.AfterSeq = last.Room, last.Seq
	}
}

// welcomePart reads one part of w, size bytes, in as many welcome_part
// frames as it takes.
func (s *Session) welcomePart(ctx context.Context, c *conn, w proto.PendingWelcome, part string, size uint64) ([]byte, error) {
	buf := make([]byte, 0, size)
	for uint64(len(buf)) < size {
		f, err := s.readRequest(ctx, c, func(rid uint64) proto.Frame {
			return &proto.GetWelcomePart{RID: rid, Device: s.device.uri, Room: w.Room, Seq: w.Seq, Part: part, Offset: uint64(len(buf))}
		})
		if err != nil {
			return nil, fmt.Errorf("session: welcome to %s #%d: %s from byte %d: %w", w.Room, w.Seq, part, len(buf), err)
		}
		p, ok := f.(*proto.WelcomePart)
		if !ok {
			return nil, fmt.Errorf("session: welcome to %s #%d: unexpected answer %s", w.Room, w.Seq, f.FrameType())
		}
		if p.Room != w.Room || p.Seq != w.Seq || p.Part != part || p.Size != size || p.Offset != uint64(len(buf)) {
			return nil, fmt.Errorf("session: welcome to %s #%d: %s part of %s #%d at %d of %d bytes, asked for %d of %d",
				w.Room, w.Seq, p.Part, p.Room, p.Seq, p.Offset, p.Size, len(buf), size)
		}
		buf = append(buf, p.Data...)
	}
	return buf, nil
}

// readRequest sends a read (welcomes, get_welcome_part) and waits out the
// relay's read budget: a page or part of megabytes puts the user's budget
// in debt (1 MiB a second by default), and the next read is refused
// rate_limited until it is paid, which is no reason to fail the join.
func (s *Session) readRequest(ctx context.Context, c *conn, f func(rid uint64) proto.Frame) (proto.Frame, error) {
	wait := 100 * time.Millisecond
	for {
		rid := s.rid()
		r, err := c.request(ctx, rid, f(rid))
		var re *RelayError
		if err == nil || !errors.As(err, &re) || re.Code != proto.CodeRateLimited {
			return r, err
		}
		if re.Retry > 0 {
			wait = re.Retry // the relay knows when the budget is paid
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		wait = min(2*wait, 5*time.Second)
	}
}
