package owner

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/fxamacker/cbor/v2"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// The control socket protocol: on one connection the client writes one
// Request and reads Responses (one for a plain request; a stream of Entry
// responses for tail, which the client ends by closing the connection).
// Each message is a 4-byte big-endian length and a CBOR map.

// Version is the protocol version; a request of another version gets
// CodeUnsupportedVersion.
const Version = 1

// maxMessage bounds one message: content is at most proto.DefaultMaxContent,
// plus the envelope; an outbox listing is paged below it.
const maxMessage = 8 << 20

// Op names a request.
type Op string

// The requests: what the headless commands do.
const (
	OpSend       Op = "send"          // Room, Raw, WaitMS: enqueue and wait for the ack
	OpLookup     Op = "lookup"        // Room, ID: a cached message (edit and delete need it)
	OpTail       Op = "tail"          // Room, Since: a stream of entries
	OpRooms      Op = "rooms"         // the relay's room list
	OpRoomOp     Op = "room_op"       // RoomOp
	OpCreateRoom Op = "create_room"   // Create
	OpRoomInfo   Op = "room_info"     // Room
	OpOutbox     Op = "outbox"        // the outbox's items
	OpRetry      Op = "retry"         // ID, WaitMS: requeue a failed message and wait for the ack
	OpDrop       Op = "drop"          // ID: remove a failed or acked message
	OpDevices    Op = "devices"       // the user's devices
	OpRemoveDev  Op = "remove_device" // Device: remove one of the user's other devices
	OpDeviceTok  Op = "device_token"  // a relay token for another device of the user (a secret: the socket is the user's only)
)

// Request is what a client sends.
type Request struct {
	V      int                        `cbor:"v"`
	Op     Op                         `cbor:"op"`
	User   string                     `cbor:"user"` // must be the owner's user
	Room   string                     `cbor:"room,omitempty"`
	Raw    []byte                     `cbor:"raw,omitempty"`
	ID     []byte                     `cbor:"id,omitempty"`
	Since  int64                      `cbor:"since"` // tail: print after this seq; -1: only new entries
	WaitMS int64                      `cbor:"wait_ms,omitempty"`
	RoomOp *RoomOp                    `cbor:"room_op,omitempty"`
	Create *session.CreateRoomOptions `cbor:"create,omitempty"`
	Device string                     `cbor:"device,omitempty"`
}

// Response is what the owner answers.
type Response struct {
	V      int                 `cbor:"v"`
	Err    *WireError          `cbor:"err,omitempty"`
	Item   *WireItem           `cbor:"item,omitempty"`
	Items  []WireItem          `cbor:"items,omitempty"`
	Entry  *WireEntry          `cbor:"entry,omitempty"`
	Rooms  []proto.RoomSummary `cbor:"rooms,omitempty"`
	Result *WireResult         `cbor:"result,omitempty"`
	State  *proto.RoomState    `cbor:"state,omitempty"`
	Found  bool                `cbor:"found,omitempty"`
	// Devices answers devices; Removal answers remove_device.
	Devices []session.UserDevice   `cbor:"devices,omitempty"`
	Removal *session.DeviceRemoval `cbor:"removal,omitempty"`
	// DeviceToken answers device_token.
	DeviceToken *WireDeviceToken `cbor:"device_token,omitempty"`
	// After opens a tail's stream: the entries that follow have seqs
	// above it (the head when the tail started, for "only new entries"),
	// so a client that must resume with another owner knows where.
	After *uint64 `cbor:"after,omitempty"`
}

// Code is a typed error of the control protocol.
type Code string

// The error codes.
const (
	CodeBadRequest         Code = "bad_request"         // malformed or unknown request
	CodeUnsupportedVersion Code = "unsupported_version" // Request.V is not Version
	CodeWrongUser          Code = "wrong_user"          // the data directory belongs to another user
	CodeOffline            Code = "offline"             // the owner is not connected to the relay
	CodeNoRelay            Code = "no_relay"            // the owner could not connect to the relay before the wait ended
	CodeRelayRefused       Code = "relay_refused"       // the relay refused (Relay holds its code)
	CodeRefused            Code = "refused"             // the message was refused for good; it is Failed in the outbox
	CodePending            Code = "pending"             // not acknowledged before the wait; kept in the outbox
	CodeNotInOutbox        Code = "not_in_outbox"       // no such outbox item
	CodeNotFailed          Code = "not_failed"          // drop of a pending item, retry of an acked one
	CodeUnknownRoom        Code = "unknown_room"        // tail of a room the user is not in
	CodeOwnerExiting       Code = "owner_exiting"       // the owner is stopping; the request was not done, ask the next owner
	CodeInterrupted        Code = "interrupted"         // the owner stopped during the request; its outcome is unknown
	CodeTimeout            Code = "timeout"             // the request's wait ran out
	CodeInternal           Code = "internal"            // anything else (Message says what)
)

// WireError is an error on the wire.
type WireError struct {
	Code    Code                `cbor:"code"`
	Message string              `cbor:"message"`
	Relay   *session.RelayError `cbor:"relay,omitempty"`
}

// WireItem is an outbox item on the wire.
type WireItem struct {
	LocalID  int64  `cbor:"local_id"`
	Room     string `cbor:"room"`
	ID       []byte `cbor:"id"`
	Raw      []byte `cbor:"raw,omitempty"`
	State    int    `cbor:"state"`
	Attempts int    `cbor:"attempts"`
	Err      string `cbor:"err,omitempty"`
	Created  int64  `cbor:"created_ms"`
	Seq      uint64 `cbor:"seq,omitempty"`
	Time     int64  `cbor:"hub_ms,omitempty"`
}

// WireEntry is a log entry on the wire.
type WireEntry struct {
	Room   string     `cbor:"room"`
	Seq    uint64     `cbor:"seq"`
	Time   int64      `cbor:"hub_ms"`
	Sender string     `cbor:"sender"`
	Kind   proto.Kind `cbor:"kind"`
	ID     []byte     `cbor:"id,omitempty"`
	Raw    []byte     `cbor:"raw,omitempty"`
	Target string     `cbor:"target,omitempty"`
	Role   proto.Role `cbor:"role,omitempty"`
	Value  string     `cbor:"value,omitempty"`
	Reason string     `cbor:"reason,omitempty"`
}

// WireResult is a room operation's place in the log.
type WireResult struct {
	Room string `cbor:"room"`
	Seq  uint64 `cbor:"seq"`
	Time int64  `cbor:"hub_ms"`
}

func itemToWire(it session.OutboxItem) WireItem {
	w := WireItem{LocalID: it.LocalID, Room: it.Room, ID: it.ID[:], Raw: it.Raw, State: int(it.State),
		Attempts: it.Attempts, Err: it.Err, Created: it.Created.UnixMilli(), Seq: it.Seq}
	if !it.Time.IsZero() {
		w.Time = it.Time.UnixMilli()
	}
	return w
}

func itemFromWire(w WireItem) session.OutboxItem {
	it := session.OutboxItem{LocalID: w.LocalID, Room: w.Room, Raw: w.Raw, State: session.OutboxState(w.State),
		Attempts: w.Attempts, Err: w.Err, Created: time.UnixMilli(w.Created).UTC(), Seq: w.Seq}
	copy(it.ID[:], w.ID)
	if w.Time != 0 {
		it.Time = time.UnixMilli(w.Time).UTC()
	}
	return it
}

func entryToWire(e session.Entry) WireEntry {
	w := WireEntry{Room: e.Room, Seq: e.Seq, Time: e.Time.UnixMilli(), Sender: e.Sender, Kind: e.Kind, Raw: e.Raw,
		Target: e.Target, Role: e.Role, Value: e.Value, Reason: e.Reason}
	if e.IsMessage() {
		w.ID = e.ID[:]
	}
	return w
}

func entryFromWire(w WireEntry) session.Entry {
	e := session.Entry{Room: w.Room, Seq: w.Seq, Time: time.UnixMilli(w.Time).UTC(), Sender: w.Sender, Kind: w.Kind,
		Raw: w.Raw, Target: w.Target, Role: w.Role, Value: w.Value, Reason: w.Reason}
	copy(e.ID[:], w.ID)
	return e
}

func idFromWire(b []byte) (content.MessageID, error) {
	var id content.MessageID
	if len(b) != len(id) {
		return id, fmt.Errorf("message ID: %d bytes, want %d", len(b), len(id))
	}
	copy(id[:], b)
	return id, nil
}

// writeMessage writes one length-prefixed CBOR message.
func writeMessage(w io.Writer, v any) error {
	b, err := cbor.Marshal(v)
	if err != nil {
		return fmt.Errorf("owner: encode: %w", err)
	}
	if len(b) > maxMessage {
		return fmt.Errorf("owner: message of %d bytes exceeds %d", len(b), maxMessage)
	}
	buf := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(buf, uint32(len(b)))
	copy(buf[4:], b)
	_, err = w.Write(buf)
	return err
}

// readMessage reads one length-prefixed CBOR message into v.
func readMessage(r io.Reader, v any) error {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > maxMessage {
		return fmt.Errorf("owner: message of %d bytes exceeds %d", size, maxMessage)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("owner: read message: %w", err)
	}
	if err := cbor.Unmarshal(b, v); err != nil {
		return fmt.Errorf("owner: decode: %w", err)
	}
	return nil
}

// WireDeviceToken is a relay token for another device of the user and when
// it expires unused (ms since the epoch).
type WireDeviceToken struct {
	Token   string `cbor:"token"`
	Expires int64  `cbor:"expires"`
}
