package session

import (
	"context"
	"fmt"
	"sort"

	"mimichat/proto"
)

// The relay's room list is the room as of its head, and it is read on a
// goroutine of its own while the connection's goroutine applies entries.
// A list answered before a rename (a topic, a role or membership change, a
// read receipts change) can therefore be applied after the entry: taken
// whole, it put the old value back until the next list, ~15 s later. So
// each field remembers the seq it is known as of, and a list replaces it
// only when the list's head is not older.

// known is, per field of a room this session shows, the seq its value is
// known as of: the entry that set it, or the head of the room list it was
// taken from; 0 when neither (from the cache, or never set).
type known struct {
	name, topic, role, state, receipts uint64
}

// roomList is a relay's room list and when it was asked for.
type roomList struct {
	rooms []proto.RoomSummary
	// asked is Session.listsAsked once this list was asked for: a room the
	// list leaves out whose state was set since (roomSync.stateAsked not
	// below asked) may have been joined after the list was made.
	asked uint64
}

// listRooms asks the relay on c for the user's rooms.
func (s *Session) listRooms(ctx context.Context, c *conn) (roomList, error) {
	s.mu.Lock()
	s.listsAsked++
	asked := s.listsAsked
	s.mu.Unlock()
	rid := s.rid()
	f, err := c.request(ctx, rid, &proto.Rooms{RID: rid})
	if err != nil {
		return roomList{}, fmt.Errorf("session: list rooms: %w", err)
	}
	list, ok := f.(*proto.RoomList)
	if !ok {
		return roomList{}, fmt.Errorf("session: list rooms: unexpected answer %s", f.FrameType())
	}
	return roomList{rooms: list.Rooms, asked: asked}, nil
}

// roomLocked returns room's sync state, made in state st when the session
// has not heard of the room: it then learnt of the room from the log or a
// subscription, after every room list asked so far.
func (s *Session) roomLocked(room string, st proto.State) (*roomSync, bool) {
	r, ok := s.rooms[room]
	if !ok {
		r = &roomSync{Room: Room{ID: room, State: st, Low: 1}, stateAsked: s.listsAsked}
		s.rooms[room] = r
	}
	return r, ok
}

// applyRoomList records the relay's view of the user's rooms and returns
// the joined ones, to subscribe.
func (s *Session) applyRoomList(l roomList) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var joined []string
	var changed []Room // saved in one transaction: a user may be in thousands of rooms
	defer func() {
		if err := s.store.SaveRooms(changed); err != nil {
			s.q.push(ErrorEvent{err})
		}
	}()
	for _, sum := range l.rooms {
		seen[sum.Room] = true
		r, ok := s.rooms[sum.Room]
		if !ok {
			r = &roomSync{Room: Room{ID: sum.Room, Low: 1}}
			s.rooms[sum.Room] = r
		}
		before := r.Room
		r.takeSummary(sum)
		r.Head = max(r.Head, sum.Head)
		if sum.Encrypted {
			s.markEncryptedLocked(sum.Room, s.suiteOf(sum))
		}
		if !ok || before != r.Room {
			changed = append(changed, r.Room)
		}
		if !ok || roomMeta(before) != roomMeta(r.Room) || before.Head != r.Head {
			s.q.push(RoomEvent{Room: r.Room})
		}
		if r.State == proto.StateJoined {
			joined = append(joined, sum.Room)
		}
	}
	for id, r := range s.rooms {
		if seen[id] || r.State == proto.StateNone || r.State == proto.StateBanned {
			continue
		}
		if r.stateAsked >= l.asked {
			// Joined or invited since the list was asked: the list may
			// be older.
			continue
		}
		// Gone while we were away (kicked, left on another device).
		r.State = proto.StateNone
		changed = append(changed, r.Room)
		s.q.push(RoomEvent{Room: r.Room})
	}
	sort.Strings(joined)
	return joined
}

// takeSummary takes the name, topic, role, state and read receipts policy
// of a room list's summary, each unless this session knows it as of a seq
// past the summary's head (then the list is older than what it applied).
func (r *roomSync) takeSummary(sum proto.RoomSummary) {
	h := sum.Head
	if h >= r.known.name {
		r.Name, r.known.name = sum.Name, h
	}
	if h >= r.known.topic {
		r.Topic, r.known.topic = sum.Topic, h
	}
	if h >= r.known.role {
		r.Role, r.known.role = sum.Role, h
	}
	if h >= r.known.state {
		r.State, r.known.state = sum.State, h
	}
	// A version 1 relay states no policy.
	if sum.Receipts != "" && h >= r.known.receipts {
		r.receipts, r.known.receipts = sum.Receipts, h
	}
}
