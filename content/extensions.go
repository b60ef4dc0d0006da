package content

import (
	"slices"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Generic access to the extensions map, the two registered keys, and a
// deterministic encoder for building raw extension values.

// Get returns the raw CBOR value stored under k.
func (e Extensions) Get(k ExtKey) ([]byte, bool) {
	if i := e.index(k); i >= 0 {
		return e[i].Value, true
	}
	return nil, false
}

// Set stores value (exactly one CBOR data item) under k, replacing any
// existing entry for k, so the map never holds duplicates. The value is
// validated when the message is encoded.
func (e *Extensions) Set(k ExtKey, value []byte) {
	if i := e.index(k); i >= 0 {
		(*e)[i].Value = value
		return
	}
	*e = append(*e, Extension{Key: k, Value: value})
}

// Delete removes k if present and reports whether it was.
func (e *Extensions) Delete(k ExtKey) bool {
	i := e.index(k)
	if i < 0 {
		return false
	}
	*e = slices.Delete(*e, i, i+1)
	return true
}

func (e Extensions) index(k ExtKey) int {
	for i := range e {
		if compareExtKeys(e[i].Key, k) == 0 {
			return i
		}
	}
	return -1
}

// Equal reports whether a and b are the same key on the wire (an int key's
// Text field is ignored).
func (k ExtKey) Equal(o ExtKey) bool { return compareExtKeys(k, o) == 0 }

// String renders the key as in diagnostic notation: 256 or "a".
func (k ExtKey) String() string { return keyLabel(k)[1 : len(keyLabel(k))-1] }

// SenderURI returns extension 1 (senderUri) if present and a text string.
func (e Extensions) SenderURI() (string, bool) { return e.text(KeySenderURI) }

// RoomURI returns extension 2 (roomUri) if present and a text string.
func (e Extensions) RoomURI() (string, bool) { return e.text(KeyRoomURI) }

// SetSenderURI sets extension 1.
func (e *Extensions) SetSenderURI(uri string) { e.Set(KeySenderURI, appendText(nil, uri)) }

// SetRoomURI sets extension 2.
func (e *Extensions) SetRoomURI(uri string) { e.Set(KeyRoomURI, appendText(nil, uri)) }

func (e Extensions) text(k ExtKey) (string, bool) {
	v, ok := e.Get(k)
	if !ok {
		return "", false
	}
	s, err := TextValue(v)
	return s, err == nil
}

// TextValue decodes raw as exactly one text string.
func TextValue(raw []byte) (string, error) {
	r := reader{b: raw}
	s, err := r.textBytes()
	if err != nil {
		return "", err
	}
	if err := r.end(); err != nil {
		return "", err
	}
	return string(s), nil
}

// compareExtKeys orders keys bytewise by their encoded form (RFC 8949
// §4.2.1), e.g. 256 (190100) < "a" (6161) and 1000 (1903e8) < -1 (20).
func compareExtKeys(a, b ExtKey) int {
	var ha, hb [9]byte
	pa, ta := encodedKey(ha[:0], a)
	pb, tb := encodedKey(hb[:0], b)
	la, lb := len(pa)+len(ta), len(pb)+len(tb)
	for i := 0; i < la && i < lb; i++ {
		ca, cb := keyByte(pa, ta, i), keyByte(pb, tb, i)
		if ca != cb {
			return int(ca) - int(cb)
		}
	}
	return la - lb
}

// encodedKey returns the key's head and, for text keys, its content.
func encodedKey(buf []byte, k ExtKey) ([]byte, string) {
	if k.IsText {
		return appendHead(buf, majText, uint64(len(k.Text))), k.Text
	}
	return appendInt(buf, k.Int), ""
}

func keyByte(head []byte, tail string, i int) byte {
	if i < len(head) {
		return head[i]
	}
	return tail[i-len(head)]
}

// firstDuplicate finds a key that occurs twice, in O(n log n).
func (e Extensions) firstDuplicate() (ExtKey, bool) {
	keys := make([]ExtKey, len(e))
	for i := range e {
		keys[i] = e[i].Key
	}
	slices.SortFunc(keys, compareExtKeys)
	for i := 1; i < len(keys); i++ {
		if compareExtKeys(keys[i-1], keys[i]) == 0 {
			return keys[i], true
		}
	}
	return ExtKey{}, false
}

var (
	detModeOnce sync.Once
	detMode     cbor.EncMode
	detModeErr  error
)

// EncodeValue encodes a Go value (e.g. a string, int, []any, map[any]any,
// cbor.Tag) as one CBOR data item in core deterministic form, for use as an
// extension value. The result is checked against the MIMI extension rules
// (map key types, UTF-8, depth when placed directly under the extensions map).
func EncodeValue(v any) ([]byte, error) {
	detModeOnce.Do(func() { detMode, detModeErr = cbor.CoreDetEncOptions().EncMode() })
	if detModeErr != nil {
		return nil, detModeErr
	}
	b, err := detMode.Marshal(v)
	if err != nil {
		return nil, err
	}
	det, derr := checkValue(b, 2)
	if derr != nil {
		return nil, toEncodeError(derr)
	}
	if !det {
		b = canonicalValue(nil, b)
	}
	return b, nil
}
