package session

import (
	"fmt"
	"time"

	"mimichat/proto"
)

// Event is what the consumer receives from Events(). Each concrete type is a
// plain value, so a Bubble Tea program can use it as a tea.Msg directly.
type Event interface{ sessionEvent() }

// EntriesEvent carries new entries of one room, in seq order, continuing
// exactly where the previous EntriesEvent of that room ended (or where the
// cache's run ended at Open). They are already in the cache.
type EntriesEvent struct {
	Room    string
	Entries []Entry
}

// RoomEvent reports a room's new state: a name or topic change, this user's
// role or membership, or a room seen for the first time.
type RoomEvent struct {
	Room Room
}

// OutboxEvent reports a change of one sent message: enqueued (Pending),
// accepted by the hub (Acked, with Seq and Time) or refused (Failed, Err).
type OutboxEvent struct {
	Item OutboxItem
}

// SignalEvent is an ephemeral typing or presence notice from another member.
type SignalEvent struct {
	Room  string
	From  string
	Kind  string // proto.SignalTyping or proto.SignalPresence
	Value string
}

// StateEvent reports a change of the connection state.
type StateEvent struct {
	Status
}

// ErrorEvent reports a problem the consumer did not ask about, e.g. the
// relay refusing a subscription or the cache failing to write.
type ErrorEvent struct {
	Err error
}

func (EntriesEvent) sessionEvent() {}
func (RoomEvent) sessionEvent()    {}
func (OutboxEvent) sessionEvent()  {}
func (SignalEvent) sessionEvent()  {}
func (StateEvent) sessionEvent()   {}
func (ErrorEvent) sessionEvent()   {}

// ConnState is the connection's state.
type ConnState int

const (
	// Connecting: dialing, authenticating or resubscribing.
	Connecting ConnState = iota
	// Online: subscribed to every room and sending the outbox.
	Online
	// Offline: the last attempt failed; the next is at Status.NextRetry.
	Offline
	// Stopped: not started yet, closed, or refused for good by the relay
	// (bad token or protocol version; Err says which). Reconnect retries.
	Stopped
)

func (c ConnState) String() string {
	switch c {
	case Connecting:
		return "connecting"
	case Online:
		return "online"
	case Offline:
		return "offline"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("ConnState(%d)", int(c))
}

// Status is the connection state with its details.
type Status struct {
	State     ConnState
	Attempt   int       // consecutive failed attempts so far
	NextRetry time.Time // Offline: when the next attempt starts
	Err       error     // why the last attempt or connection ended: a *ConnError (see Problem)
}

// RelayError is a request the relay refused, with its stable code.
type RelayError struct {
	Code   proto.Code
	Field  string
	Reason string
	Fatal  bool
	Epoch  uint64 // with stale_epoch: the room's current MLS epoch
	// Retry is, with rate_limited, when the relay says to retry (retry_ms).
	Retry time.Duration
}

func (e *RelayError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("relay refused: %s: field %q: %s", e.Code, e.Field, e.Reason)
	}
	return fmt.Sprintf("relay refused: %s: %s", e.Code, e.Reason)
}

func relayError(f *proto.ErrorFrame) *RelayError {
	return &RelayError{Code: f.Code, Field: f.Field, Reason: f.Reason, Fatal: f.Fatal, Epoch: f.Epoch,
		Retry: time.Duration(min(f.RetryMS, 60_000)) * time.Millisecond}
}
