package session

import (
	"time"

	"mimichat/content"
	"mimichat/proto"
)

// Entry is one hub-sequenced item of a room's log: a content message or a
// room operation (protocol-06 orders participant-list and metadata changes
// with the messages). It is what the cache stores and the consumer receives.
// Seq is the hub's per-room sequence number (1-based, gap-free); Time is the
// hub-accepted timestamp.
type Entry struct {
	Room   string
	Seq    uint64
	Time   time.Time
	Sender string
	Kind   proto.Kind

	// proto.KindMessage: the message ID and the exact content bytes as
	// accepted (hash these, never a re-encoding).
	ID  content.MessageID
	Raw []byte
	// Undecryptable, for a message of an end-to-end encrypted room, says
	// why this device could not decrypt it (Raw is then empty and ID zero):
	// a UI shows "cannot decrypt: " and this, never nothing.
	Undecryptable string

	// Room operations: the user acted on, the new role, the new value (name,
	// topic, avatar, policy) and the reason shown to members.
	Target string
	Role   proto.Role
	Value  string
	Reason string

	// What the relay's event carried for end-to-end encryption, until the
	// entry is opened (e2ee.go): the ciphertext of a message, the ID its
	// sender claimed, and the MLS handshake of an operation.
	wire      []byte
	claimedID []byte
	mls       []byte
	proposals [][]byte
}

// IsMessage reports whether e carries MIMI content.
func (e *Entry) IsMessage() bool { return e.Kind == proto.KindMessage }

// entryFromProto copies a relay event into an Entry. A message's ID is
// derived from its sender, room and content (content-08 §3.3), not taken
// from the event: the relay cannot read content and does not check the ID
// the sender claimed. Content without a salt gets the zero ID, which no
// real message has.
func entryFromProto(ev *proto.Event) Entry {
	e := Entry{
		Room: ev.Room, Seq: ev.Seq, Time: msTime(ev.TS), Sender: ev.Sender, Kind: ev.Kind,
		Raw: ev.Content, Target: ev.Target, Role: ev.Role, Value: ev.Value, Reason: ev.Reason,
	}
	e.mls, e.proposals = ev.MLS, ev.Proposals
	if ev.Kind == proto.KindMessage {
		if isCiphertext(ev.Room, ev.Content) {
			// Opened in log order by openEntryLocked (e2ee.go).
			e.wire, e.claimedID, e.Raw = ev.Content, ev.ID, nil
			return e
		}
		if id, err := content.ComputeID(ev.Sender, ev.Room, ev.Content); err == nil {
			e.ID = id
		}
		return e
	}
	copy(e.ID[:], ev.ID)
	return e
}
