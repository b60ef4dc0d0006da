package content

// Refusals: what the timeline keeps out of the state, and why. Suspicious
// input (content-08 §9.1) and unauthorized replacements (§9.3) are not
// errors of the caller; they are listed so a UI or a log can show them.

import (
	"errors"
	"fmt"
)

// RefuseReason classifies why an envelope or event was kept out.
type RefuseReason uint8

const (
	RefuseDuplicateID     RefuseReason = iota + 1 // §9.1: an ID seen before
	RefuseBadID                                   // zero ID or unknown hash algorithm octet
	RefuseUndecodable                             // no Msg and Raw did not decode
	RefuseSenderMismatch                          // senderUri extension is not the authenticated sender
	RefuseUnauthorized                            // the room policy does not let this sender replace it
	RefuseKindMismatch                            // replaces a message of another kind
	RefuseNotFirstVersion                         // replaces names a later version, not the first
	RefuseChangesFields                           // an edit changes inReplyTo, expires or (unauthorized) topicId
	RefuseAfterDelete                             // replaces a message already deleted
	RefuseBeforeOriginal                          // a replacement ordered before the message it replaces
	RefuseHeldTooLong                             // evicted from the holding area: target never arrived
	RefuseBadEvent                                // malformed room event
	RefuseBadReport                               // status report that does not parse
	RefuseForbiddenStatus                         // statuses the room's notification policy forbids
)

var refuseNames = [...]string{"", "duplicate message ID", "bad message ID", "undecodable",
	"sender mismatch", "unauthorized", "kind mismatch", "not the first version",
	"changes fields", "after delete", "before original", "held too long", "bad room event", "bad status report", "status forbidden by room policy"}

func (r RefuseReason) String() string {
	if int(r) < len(refuseNames) && r != 0 {
		return refuseNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Refusal records one envelope (or room event) kept out of the state.
type Refusal struct {
	Seq    uint64
	ID     MessageID // the refused message (zero for room events)
	Sender string
	Target MessageID // the message it tried to replace or name, if any
	Reason RefuseReason
	Detail string
}

// RefusalError is the typed error Apply returns for a refusal.
type RefusalError struct{ Refusal Refusal }

func (e *RefusalError) Error() string {
	return fmt.Sprintf("timeline: seq %d: %s: %s", e.Refusal.Seq, e.Refusal.Reason, e.Refusal.Detail)
}

// ErrUnknownMessage is returned by queries naming an ID the timeline lacks.
var ErrUnknownMessage = errors.New("timeline: unknown message ID")

func (t *Timeline) refuse(r Refusal) error {
	// A ring: the oldest listed refusal is overwritten once the list is full.
	if len(t.refusals) < t.opts.MaxRefusals {
		t.refusals = append(t.refusals, r)
	} else {
		t.refusals[t.refusedN%len(t.refusals)] = r
	}
	t.refusedN++
	t.changed()
	return &RefusalError{r}
}

func refusal(env *Envelope, target MessageID, reason RefuseReason, format string, a ...any) Refusal {
	return Refusal{Seq: env.Seq, ID: env.ID, Sender: env.Sender, Target: target, Reason: reason, Detail: fmt.Sprintf(format, a...)}
}

// senderURI returns extension 1 (senderUri) when it is a CBOR text string.
func senderURI(m *Message) ([]byte, bool) {
	for _, e := range m.Extensions {
		if !e.Key.IsText && e.Key.Int == 1 {
			return cborText(e.Value)
		}
	}
	return nil, false
}

// cborText reads a definite-length CBOR text string that fills v.
func cborText(v []byte) ([]byte, bool) {
	if len(v) == 0 || v[0]>>5 != 3 {
		return nil, false
	}
	ai := v[0] & 0x1f
	var n, h uint64
	switch {
	case ai < 24:
		n, h = uint64(ai), 1
	case ai == 24 && len(v) >= 2:
		n, h = uint64(v[1]), 2
	case ai == 25 && len(v) >= 3:
		n, h = uint64(v[1])<<8|uint64(v[2]), 3
	default:
		return nil, false
	}
	if uint64(len(v)) != h+n {
		return nil, false
	}
	return v[h:], true
}
