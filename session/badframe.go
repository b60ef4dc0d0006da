package session

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"mimichat/proto"
)

// undecodable stands, in the frame queue, for a frame from the relay that
// proto.Decode refused (a damaged stored event, say). Failing the
// connection for it would reconnect, get the same bytes replayed and fail
// again for ever, so the session reports it and goes on; the event's seq
// then shows as a gap, which the relay answers without it, and the
// existing "not available" path moves the room past it.
type undecodable struct {
	proto.Head
	room string // "" when not even the envelope could be read
	seq  uint64
	size int
	err  error
}

func (*undecodable) FrameType() proto.Type { return "" }

// readEnvelope reads what it can of a frame that does not decode: its
// type, room and seq, ignoring every other key.
func readEnvelope(data []byte, err error) *undecodable {
	u := &undecodable{size: len(data), err: err}
	var env struct {
		T    string `cbor:"t"`
		Room string `cbor:"room"`
		Seq  uint64 `cbor:"seq"`
	}
	if cbor.Unmarshal(data, &env) == nil && env.T == string(proto.TEvent) {
		u.room, u.seq = env.Room, env.Seq
	}
	return u
}

// report is the ErrorEvent for the consumer; room and seq come from the
// relay, so they are printed quoted.
func (u *undecodable) report() ErrorEvent {
	if u.room == "" {
		return ErrorEvent{fmt.Errorf("session: skipped a %d-byte frame from the relay that does not decode: %w", u.size, u.err)}
	}
	return ErrorEvent{fmt.Errorf("session: skipped event %d of room %q: the relay sent it damaged (%w)", u.seq, u.room, u.err)}
}
