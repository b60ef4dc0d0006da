package content

import (
	"strconv"
	"strings"
)

// Receipts: application/mimi-message-status (draft-mahy-mimi-message-status-01).

// StatusMediaType is the media type of a MessageStatusReport.
const StatusMediaType = "application/mimi-message-status"

// Status is a per-message status code; 7..255 are unknown but kept.
type Status uint8

const (
	StatusUnread    Status = 0
	StatusDelivered Status = 1
	StatusRead      Status = 2
	StatusExpired   Status = 3
	StatusDeleted   Status = 4
	StatusHidden    Status = 5
	StatusError     Status = 6
)

var statusNames = [...]string{"unread", "delivered", "read", "expired", "deleted", "hidden", "error"}

// String returns the draft's name, or "unknown(N)".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown(" + strconv.Itoa(int(s)) + ")"
}

// Known reports whether s is one of the seven defined codes.
func (s Status) Known() bool { return int(s) < len(statusNames) }

// StatusEntry is one PerMessageStatus: [messageId, status].
type StatusEntry struct {
	ID     MessageID
	Status Status
}

// StatusReport is a MessageStatusReport: any number of entries, in order.
type StatusReport []StatusEntry

// entryMinLen is the smallest encoded PerMessageStatus: 82 5820 <32> 00.
const entryMinLen = 1 + 2 + 32 + 1

// DecodeStatusReport parses a MessageStatusReport strictly: definite
// lengths, 32-byte IDs with hash octet 0x01, status 0..255, no trailing
// bytes. Errors name the entry, e.g. "report[2].messageId".
func DecodeStatusReport(b []byte) (StatusReport, error) {
	r := reader{b: b}
	n, err := r.array(3) // [h'', 0]: malformed entries still get a path
	if err != nil {
		if err.Kind == ErrType {
			err.Kind = ErrNotStatusReport
		}
		return nil, err.under("report")
	}
	// a well-formed entry takes entryMinLen bytes, so this bounds the allocation
	rep := make(StatusReport, 0, min(n, len(b)/entryMinLen))
	for i := 0; i < n; i++ {
		var e StatusEntry
		if err := r.statusEntry(&e); err != nil {
			return nil, err.under("report[" + strconv.Itoa(i) + "]")
		}
		rep = append(rep, e)
	}
	if err := r.end(); err != nil {
		return nil, err.under("report")
	}
	return rep, nil
}

func (r *reader) statusEntry(e *StatusEntry) *DecodeError {
	start := r.off
	n, err := r.array(1)
	if err != nil {
		return err
	}
	if n != 2 {
		return decErr(ErrArrayLength, start, "want array of 2 elements, got "+strconv.Itoa(n))
	}
	if e.ID, err = r.messageID(); err != nil {
		return err.under("messageId")
	}
	s, err := r.uint(255)
	if err != nil {
		return err.under("status")
	}
	e.Status = Status(s)
	return nil
}

// Encode returns the deterministic encoding of the report. IDs must carry
// hash octet 0x01.
func (rep StatusReport) Encode() ([]byte, error) {
	for i := range rep {
		if rep[i].ID[0] != HashSHA256 {
			return nil, hashAlgErr(&rep[i].ID).under("report[" + strconv.Itoa(i) + "].messageId")
		}
	}
	b := appendHead(make([]byte, 0, 9+len(rep)*(entryMinLen+1)), majArray, uint64(len(rep)))
	for i := range rep {
		b = append(b, 0x82)
		b = appendBytes(b, rep[i].ID[:])
		b = appendHead(b, majUint, uint64(rep[i].Status))
	}
	return b, nil
}

// IsStatusMediaType reports whether ct names application/mimi-message-status,
// ignoring case, whitespace and parameters.
func IsStatusMediaType(ct string) bool {
	base, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(base), StatusMediaType)
}

// IsStatusUpdate reports whether m carries a status report the way
// phnx-im/mimi-content does: the body is a SinglePart whose contentType is
// application/mimi-message-status.
func IsStatusUpdate(m *Message) bool {
	return m != nil && m.Body.Cardinality == Single && IsStatusMediaType(m.Body.ContentType)
}

// StatusReport decodes the report carried in m's body.
func (m *Message) StatusReport() (StatusReport, error) {
	if !IsStatusUpdate(m) {
		return nil, &DecodeError{Path: "nestedPart.contentType", Kind: ErrNotStatusUpdate,
			Detail: "body is not a single " + StatusMediaType + " part"}
	}
	rep, err := DecodeStatusReport(m.Body.Content)
	if err != nil {
		err.(*DecodeError).under("nestedPart.content")
		return nil, err
	}
	return rep, nil
}

// StatusBody is the body that carries rep: SinglePart
// [0 (unspecified), "", 1, "application/mimi-message-status", report].
func StatusBody(rep StatusReport) (NestedPart, error) {
	b, err := rep.Encode()
	if err != nil {
		return NestedPart{}, err
	}
	return NestedPart{Disposition: Unspecified, Cardinality: Single, ContentType: StatusMediaType, Content: b}, nil
}
