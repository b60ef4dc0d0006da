package content

import (
	"crypto/sha256"
	"strconv"
)

// IDRule selects the message ID construction.
type IDRule int

const (
	// IDRule08 is -08 §3.3: SHA-256(u16be(len s) ‖ s ‖ u16be(len r) ‖ r ‖ msg ‖ salt).
	IDRule08 IDRule = iota
	// IDRule07 is -07: SHA-256(s ‖ r ‖ msg ‖ salt), no length prefixes.
	// phnx-im/mimi-content still derives IDs this way.
	IDRule07
)

// HashSHA256 is the hash algorithm octet of every ID this package derives.
const HashSHA256 = 0x01

// ComputeID derives the -08 message ID of raw, the mimiContent bytes exactly
// as received (never re-encoded), sent by sender in room.
func ComputeID(sender, room string, raw []byte) (MessageID, error) {
	return ComputeIDRule(IDRule08, sender, room, raw)
}

// ComputeIDRule derives the message ID with the given rule.
//
// The salt is read from raw's first element. Only the array(7) head and the
// 16-byte salt are checked: an ID over any bytes is well defined, and the
// receive path validates the whole document with Decode anyway.
func ComputeIDRule(rule IDRule, sender, room string, raw []byte) (MessageID, error) {
	var id MessageID
	salt, err := saltOf(raw)
	if err != nil {
		return id, err
	}
	h := sha256.New()
	switch rule {
	case IDRule08:
		if len(sender) > 0xffff {
			return id, encErr(ErrURITooLong, "sender URI is "+strconv.Itoa(len(sender))+" bytes").under("senderUri")
		}
		if len(room) > 0xffff {
			return id, encErr(ErrURITooLong, "room URI is "+strconv.Itoa(len(room))+" bytes").under("roomUri")
		}
		var buf [256]byte
		b := append(buf[:0], byte(len(sender)>>8), byte(len(sender)))
		b = append(b, sender...)
		b = append(b, byte(len(room)>>8), byte(len(room)))
		b = append(b, room...)
		h.Write(b)
	case IDRule07:
		var buf [256]byte
		h.Write(append(append(buf[:0], sender...), room...))
	default:
		return id, encErr(ErrHashAlg, "unknown ID rule "+strconv.Itoa(int(rule)))
	}
	h.Write(raw)
	h.Write(salt)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	id[0] = HashSHA256
	copy(id[1:], sum[:31])
	return id, nil
}

// saltOf returns the salt, the first element of a mimiContent array.
func saltOf(raw []byte) ([]byte, error) {
	if len(raw) >= 2+SaltSize && raw[0] == 0x87 && raw[1] == 0x40|SaltSize {
		return raw[2 : 2+SaltSize], nil // shortest heads: the common case
	}
	r := reader{b: raw}
	it, err := r.head()
	if err != nil {
		return nil, err.under("mimiContent")
	}
	if it.major != majArray || it.arg != 7 {
		return nil, decErr(ErrNotMessage, 0, "want array of 7 elements, got "+describe(raw[0])).under("mimiContent")
	}
	start := r.off
	salt, err := r.bytes()
	if err != nil {
		return nil, err.under("salt")
	}
	if len(salt) != SaltSize {
		return nil, decErr(ErrSaltSize, start, "want 16 bytes, got "+strconv.Itoa(len(salt))).under("salt")
	}
	return salt, nil
}

// Verify reports whether id is the -08 ID of raw from sender in room.
func Verify(id MessageID, sender, room string, raw []byte) bool {
	got, err := ComputeID(sender, room, raw)
	return err == nil && got == id
}
