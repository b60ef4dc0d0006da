// Package proto is the wire protocol between mimichat clients and the relay
// (the provider hub). It lives apart from both so the relay and the session
// client agree on one definition of every frame, its validation rules and its
// error codes.
//
// A frame is one websocket binary message holding one CBOR map (core
// deterministic encoding). The map's "t" key names the frame type; the other
// keys are the fields of that type. Decoding is strict: unknown keys,
// duplicate keys, tags, trailing bytes and missing required fields are errors
// of type *Error whose Code the relay echoes in an error frame.
//
// Message content travels as opaque bytes: the relay orders, stores and fans
// it out without decoding it. docs/protocol.md describes every frame.
package proto

// Version is the protocol version this package speaks. A client sends it in
// its hello frame; the relay serves any version from MinVersion to Version
// and answers with the one it will speak on the connection. Decoding is
// strict (unknown keys and frame types are errors), so the relay sends a
// frame or key only to clients whose version knows it.
const Version = 9

// MinVersion is the oldest protocol version the relay still serves.
// Version 2 added the notice frame, the receipts room operation and the
// receipts key of room_state and room_list entries; version 3 the device and
// KeyPackage directory frames (keypackages.go); version 4 the retry_ms key
// of error frames; version 5 end-to-end encrypted rooms (e2ee.go); version 6
// the batched subscribe (subscribe_rooms.go); version 7 the ratchet tree
// apart from the GroupInfo (GroupInfo.RatchetTree); version 8 the ratchet
// tree apart from the Welcome (PendingWelcome.RatchetTree); version 9 paged
// welcome_list frames and get_welcome_part (welcome_pages.go).
const MinVersion = 1

// Limits the relay applies unless configured otherwise. They are here so a
// client can size its own checks before sending.
const (
	// DefaultMaxContent is the largest accepted message content, in bytes.
	DefaultMaxContent = 64 << 10
	// DefaultMaxFrame is the largest accepted client frame, in bytes.
	DefaultMaxFrame = DefaultMaxContent + 4<<10
	// MaxHistoryLimit caps the number of events in one history page.
	MaxHistoryLimit = 500
	// MessageIDSize is the size of a MIMI message ID (0x01 || 31 bytes).
	MessageIDSize = 32
)

// UserURI is the URI of user name on a relay serving domain.
func UserURI(domain, name string) string { return "mimi://" + domain + "/u/" + name }

// RoomURI is the URI of the room with local name slug on domain.
func RoomURI(domain, slug string) string { return "mimi://" + domain + "/r/" + slug }
