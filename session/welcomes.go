package session

import (
	"context"
	"fmt"

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
		rid := s.rid()
		req.RID = rid
		f, err := c.request(ctx, rid, &req)
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
		rid := s.rid()
		f, err := c.request(ctx, rid, &proto.GetWelcomePart{RID: rid, Device: s.device.uri, Room: w.Room, Seq: w.Seq, Part: part, Offset: uint64(len(buf))})
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
