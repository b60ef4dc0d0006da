package proto

import "fmt"

// Batched subscribe (version 6). A client in thousands of rooms subscribes
// to them with a few subscribe_rooms frames instead of one subscribe per
// room: one answer per frame, and the relay replays the rooms one after the
// other, paced by how fast the client reads, so the burst never fills the
// connection's send queue.

// Frame types of the batched subscribe (version 6).
const (
	TSubscribeRooms  Type = "subscribe_rooms"
	TSubscribedRooms Type = "subscribed_rooms"
)

// MaxSubscribeRooms caps the rooms of one subscribe_rooms frame; a client in
// more rooms sends several frames. It also keeps the frame under
// DefaultMaxFrame with room URIs of ordinary length.
const MaxSubscribeRooms = 500

// RoomCursor is one room of a subscribe_rooms frame: events after Since (0
// for all the client may see), as in subscribe.
type RoomCursor struct {
	Room  string `cbor:"room"`
	Since uint64 `cbor:"since"`
}

// SubscribeRooms subscribes to every room of Rooms at once, each from its
// own cursor. Answer: subscribed_rooms, then each room's replay in the
// order of Rooms (a room's live events may come earlier), then live events.
type SubscribeRooms struct {
	Head
	RID   uint64       `cbor:"rid"`
	Rooms []RoomCursor `cbor:"rooms"`
}

// RoomSubscribed is one accepted room of subscribed_rooms: Head and From as
// in subscribed.
type RoomSubscribed struct {
	Room     string `cbor:"room"`
	LastSeq  uint64 `cbor:"head"`
	FirstSeq uint64 `cbor:"from"`
}

// RoomRefused is one refused room of subscribed_rooms, with the code and
// reason a subscribe of that room alone would have got.
type RoomRefused struct {
	Room   string `cbor:"room"`
	Code   Code   `cbor:"code"`
	Field  string `cbor:"field,omitempty"`
	Reason string `cbor:"reason"`
}

// SubscribedRooms answers subscribe_rooms: every room of the request is in
// Rooms (subscribed) or in Refused (not subscribed, with why).
type SubscribedRooms struct {
	Head
	RID     uint64           `cbor:"rid"`
	Rooms   []RoomSubscribed `cbor:"rooms,omitempty"`
	Refused []RoomRefused    `cbor:"refused,omitempty"`
}

func (*SubscribeRooms) FrameType() Type  { return TSubscribeRooms }
func (*SubscribedRooms) FrameType() Type { return TSubscribedRooms }

// newSubscribeRoomsFrame returns an empty frame of version 6's types, or nil.
func newSubscribeRoomsFrame(t Type) Frame {
	switch t {
	case TSubscribeRooms:
		return new(SubscribeRooms)
	case TSubscribedRooms:
		return new(SubscribedRooms)
	}
	return nil
}

// validateSubscribeRoomsFrame checks the field rules of a version 6 frame;
// handled is false for other frames.
func validateSubscribeRoomsFrame(f Frame) (handled bool, err error) {
	switch f := f.(type) {
	case *SubscribeRooms:
		if len(f.Rooms) == 0 {
			return true, badField("rooms", "no room")
		}
		if len(f.Rooms) > MaxSubscribeRooms {
			return true, badField("rooms", "at most %d rooms, got %d", MaxSubscribeRooms, len(f.Rooms))
		}
		seen := make(map[string]bool, len(f.Rooms))
		for i, rc := range f.Rooms {
			if err := needURI("room", rc.Room); err != nil {
				return true, badField("rooms", "room %d: %s", i, err.(*Error).Reason)
			}
			if seen[rc.Room] {
				return true, badField("rooms", "room %d: %s is listed twice", i, rc.Room)
			}
			seen[rc.Room] = true
		}
	case *SubscribedRooms:
		for _, rs := range f.Rooms {
			if err := needURI("room", rs.Room); err != nil {
				return true, err
			}
		}
		for _, rr := range f.Refused {
			if err := needURI("room", rr.Room); err != nil {
				return true, err
			}
			if rr.Code == "" {
				return true, badField("refused", "room %s: missing error code", rr.Room)
			}
		}
	default:
		return false, nil
	}
	return true, nil
}

// Error formats a refusal like the error frame of a single subscribe.
func (r RoomRefused) Error() string {
	if r.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", r.Code, r.Reason, r.Field)
	}
	return fmt.Sprintf("%s: %s", r.Code, r.Reason)
}
