package proto

// Notice (version 2) tells a user, on every live connection whether or not
// it is subscribed to the room, that its own standing in Room changed: it
// was invited, kicked, banned or unbanned, its role changed, or it joined or
// left on another connection. Seq is the event that changed it, From who
// did it, State and Role the user's membership now. A client refreshes its
// room list on receipt; the event itself stays in the room's log.
type Notice struct {
	Head
	Room  string `cbor:"room"`
	Seq   uint64 `cbor:"seq"`
	Kind  Kind   `cbor:"kind"`
	From  string `cbor:"from"`
	State State  `cbor:"state"`
	Role  Role   `cbor:"role,omitempty"`
}

func (*Notice) FrameType() Type { return TNotice }
