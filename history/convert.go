package history

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"mimichat/content"
)

// Conversions shared by the formats: IDs, base64url, dispositions, times,
// and the extensions map on its own.

var b64 = base64.RawURLEncoding

// decodeB64 accepts base64url without padding (vCon) and, leniently, with
// padding or in the standard alphabet.
func decodeB64(s string) ([]byte, error) {
	if b, err := b64.DecodeString(s); err == nil {
		return b, nil
	}
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return nil, errors.New("not base64url")
}

func decodeID(s string) (content.MessageID, error) {
	var id content.MessageID
	b, err := decodeB64(s)
	if err != nil {
		return id, err
	}
	if len(b) != len(id) {
		return id, errors.New("message ID is " + strconv.Itoa(len(b)) + " octets, want 32")
	}
	copy(id[:], b)
	return id, nil
}

// syntheticID makes a stable -08-shaped ID (hash octet 0x01) for a message
// from a format without MIMI IDs, so re-importing gives the same IDs and
// references between messages of one file still resolve.
func syntheticID(namespace, foreign string) content.MessageID {
	h := sha256.Sum256([]byte(namespace + "\x00" + foreign))
	var id content.MessageID
	id[0] = 0x01
	copy(id[1:], h[:31])
	return id
}

// syntheticSalt derives a salt from the foreign ID for the same reason.
func syntheticSalt(namespace, foreign string) [content.SaltSize]byte {
	h := sha256.Sum256([]byte("salt\x00" + namespace + "\x00" + foreign))
	var s [content.SaltSize]byte
	copy(s[:], h[:])
	return s
}

var dispositionNames = [...]string{"unspecified", "render", "reaction", "profile", "inline", "icon", "attachment", "session", "preview"}

func dispositionName(d content.Disposition) string {
	if int(d) < len(dispositionNames) {
		return dispositionNames[d]
	}
	return strconv.Itoa(int(d))
}

func parseDisposition(s string) (content.Disposition, bool) {
	for i, n := range dispositionNames {
		if strings.EqualFold(n, s) {
			return content.Disposition(i), true
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < 256 {
		return content.Disposition(n), true
	}
	return 0, false
}

// Times: RFC 3339 with milliseconds, UTC, as vCon's date type.
func formatTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// parseTime accepts RFC 3339 (also with the lower-case "t" and "z" its
// §5.6 allows) and the "-00:00" offset the drafts use. The model keeps
// milliseconds: non-zero digits beyond them are reported to rep (nil: not).
func parseTime(s string, rep *Report) (int64, error) {
	if strings.ContainsAny(s, "tz") {
		s = strings.ToUpper(s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, err
	}
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		rep.Drop(subMillisecond, 1)
	}
	return t.UnixMilli(), nil
}

const subMillisecond = "sub-millisecond digits of times (cut to milliseconds)"

// emptyExtPrefix is the encoding of a message with no extensions and a
// NullPart body, cut around the empty map (0xa0): the extensions map alone
// has no codec in content, so it travels inside this frame.
var extFrame = func() [2][]byte {
	raw, err := (&content.Message{Body: content.NestedPart{Cardinality: content.NullPart}}).Encode()
	if err != nil {
		panic(err) // a constant message; cannot fail
	}
	i := 1 + 17 + 1 + 1 + 1 + 1 // array head, salt, replaces, topicId, expires, inReplyTo
	if raw[i] != 0xa0 {
		panic("history: unexpected mimiContent layout")
	}
	return [2][]byte{raw[:i], raw[i+1:]}
}()

// encodeExtensions returns the CBOR extensions map as content encodes it.
func encodeExtensions(exts content.Extensions) ([]byte, error) {
	raw, err := (&content.Message{Extensions: exts, Body: content.NestedPart{Cardinality: content.NullPart}}).Encode()
	if err != nil {
		return nil, err
	}
	return raw[len(extFrame[0]) : len(raw)-len(extFrame[1])], nil
}

// decodeExtensions parses a CBOR extensions map with content's rules.
func decodeExtensions(b []byte) (content.Extensions, error) {
	if len(b) > 1<<20 {
		return nil, errors.New("extensions map too large")
	}
	buf := make([]byte, 0, len(extFrame[0])+len(b)+len(extFrame[1]))
	buf = append(append(append(buf, extFrame[0]...), b...), extFrame[1]...)
	m, err := content.Decode(buf)
	if err != nil {
		return nil, err
	}
	return m.Extensions, nil
}

// messageID recomputes the -08 ID; verified reports whether it equals want.
func verifyID(want content.MessageID, sender, room string, raw []byte) bool {
	return content.Verify(want, sender, room, raw)
}

// placeholder is the stand-in message for a tombstone on import: no
// content, so the timeline shows a row that the following delete (or the
// expiry) turns into a tombstone.
func placeholder(status TombstoneStatus, atMs int64) *content.Message {
	m := &content.Message{Body: content.NestedPart{Cardinality: content.NullPart}}
	if status == Expired {
		m.Expires = &content.Expiration{Time: uint32(max(atMs/1000, 1))}
	}
	return m
}

// placeholderStatus recognises a tombstone's placeholder (what an import
// stores for it: no salt, no reference, no content) and says which
// tombstone it stands for, so an export writes the tombstone again.
func placeholderStatus(m *content.Message) (TombstoneStatus, bool) {
	if m.Body.Cardinality != content.NullPart || m.Body.Disposition != content.Unspecified || m.Salt != ([content.SaltSize]byte{}) ||
		m.Replaces != nil || m.InReplyTo != nil || len(m.TopicID) > 0 || len(m.Extensions) > 0 || m.Body.Language != "" {
		return NoTombstone, false
	}
	if m.Expires == nil {
		return Retracted, true
	}
	if !m.Expires.Relative {
		return Expired, true
	}
	return NoTombstone, false
}
