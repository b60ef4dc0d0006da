package owner

import (
	"context"
	"errors"
	"fmt"

	"mimichat/session"
)

// ErrPending is wrapped by a PendingError.
var ErrPending = errors.New("not acknowledged yet")

// PendingError: the message is durably in the outbox but the relay had not
// acknowledged it when the wait ended. The owner (or the next command of
// this user) delivers it; sending the text again would make a second
// message.
type PendingError struct {
	Item session.OutboxItem
	Last string // the connection's last error, if any
}

func (e *PendingError) Error() string {
	s := fmt.Sprintf("message %s: %v; it stays in the outbox and is delivered by the running owner or the next command (do not send it again)", e.Item.ID, ErrPending)
	if e.Last != "" {
		s += " (last error: " + e.Last + ")"
	}
	return s
}

func (e *PendingError) Unwrap() error { return ErrPending }

// ErrRefused is wrapped by a RefusedError.
var ErrRefused = errors.New("refused by the relay")

// RefusedError: the relay refused the message for good (not a member,
// banned, forbidden...). It is Failed in the outbox: `mimichat outbox retry`
// sends it again, `mimichat outbox drop` forgets it.
type RefusedError struct {
	Item session.OutboxItem
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("message %s failed: %s", e.Item.ID, e.Item.Err)
}

func (e *RefusedError) Unwrap() error { return ErrRefused }

// Sentinels for the remaining typed errors of the protocol.
var (
	ErrUnknownRoom  = errors.New("not one of your rooms")
	ErrNotFailed    = errors.New("the message is not failed")
	ErrOwnerExiting = errors.New("the data directory's owner is stopping")
	ErrInterrupted  = errors.New("the data directory's owner stopped during the request; its outcome is unknown")
	ErrWrongUser    = errors.New("the data directory belongs to another user")
	ErrNoRelay      = errors.New("could not connect to the relay")
)

// Error is a typed error the owner answered that has no richer Go form.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Message }

// Unwrap maps the code to the sentinel a caller tests with errors.Is.
func (e *Error) Unwrap() error {
	switch e.Code {
	case CodeOffline:
		return session.ErrOffline
	case CodeNotInOutbox:
		return session.ErrNotInOutbox
	case CodeNotFailed:
		return ErrNotFailed
	case CodeUnknownRoom:
		return ErrUnknownRoom
	case CodeOwnerExiting:
		return ErrOwnerExiting
	case CodeInterrupted:
		return ErrInterrupted
	case CodeWrongUser:
		return ErrWrongUser
	case CodeNoRelay:
		return ErrNoRelay
	case CodeTimeout:
		return context.DeadlineExceeded
	}
	return nil
}

// toWire turns an error of the owning side into its wire form.
func toWire(err error) *WireError {
	var (
		pe *PendingError
		fe *RefusedError
		re *session.RelayError
	)
	w := &WireError{Code: CodeInternal, Message: err.Error()}
	switch {
	case errors.As(err, &fe):
		w.Code = CodeRefused
	case errors.As(err, &pe):
		w.Code = CodePending
	case errors.As(err, &re):
		w.Code, w.Relay = CodeRelayRefused, re
	case errors.Is(err, session.ErrOffline):
		w.Code = CodeOffline
	case errors.Is(err, session.ErrNotInOutbox):
		w.Code = CodeNotInOutbox
	case errors.Is(err, ErrNotFailed):
		w.Code = CodeNotFailed
	case errors.Is(err, ErrUnknownRoom):
		w.Code = CodeUnknownRoom
	case errors.Is(err, ErrWrongUser):
		w.Code = CodeWrongUser
	case errors.Is(err, ErrNoRelay):
		w.Code = CodeNoRelay
	case errors.Is(err, context.DeadlineExceeded):
		w.Code = CodeTimeout
	case errors.As(err, new(badRequestError)):
		w.Code = CodeBadRequest
	}
	return w
}

// fromWire turns an answered error back into the Go error the owning side
// returned: a caller cannot tell a remote owner from a local one.
func fromWire(w *WireError, item *WireItem) error {
	switch w.Code {
	case CodeRefused:
		if item != nil {
			return &RefusedError{Item: itemFromWire(*item)}
		}
	case CodePending:
		if item != nil {
			pe := &PendingError{Item: itemFromWire(*item)}
			if _, after, ok := cutLast(w.Message); ok {
				pe.Last = after
			}
			return pe
		}
	case CodeRelayRefused:
		if w.Relay != nil {
			return fmt.Errorf("%s: %w", trimRelay(w.Message, w.Relay), w.Relay)
		}
	}
	return &Error{Code: w.Code, Message: w.Message}
}

// cutLast finds the "(last error: ...)" a PendingError's text ends with.
func cutLast(msg string) (string, string, bool) {
	const mark = " (last error: "
	for i := len(msg) - len(mark); i >= 0; i-- {
		if msg[i:i+len(mark)] == mark {
			rest := msg[i+len(mark):]
			if n := len(rest); n > 0 && rest[n-1] == ')' {
				rest = rest[:n-1]
			}
			return msg[:i], rest, true
		}
	}
	return msg, "", false
}

// trimRelay drops the relay error's own text from the end of msg, which
// wrapping adds back.
func trimRelay(msg string, re *session.RelayError) string {
	suffix := ": " + re.Error()
	if len(msg) > len(suffix) && msg[len(msg)-len(suffix):] == suffix {
		return msg[:len(msg)-len(suffix)]
	}
	return "owner"
}
