package content

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Typed accessors for the extensions proposed in
// draft-mimi-content-more-extensions-00 (keys 3, 4, 5 and 256). Getters
// return ok=false when the key is absent and a *DecodeError (path
// "mimiExtensions[N]...") when it is present but malformed.

// MaxSubjectLen is the subject extension's size limit in bytes.
const MaxSubjectLen = 4096

// SenderTimestamp decodes key 3: {1: seconds, ? -3/-6/-9: fraction}.
func (e Extensions) SenderTimestamp() (time.Time, bool, error) {
	v, ok := e.Get(KeySenderTimestamp)
	if !ok {
		return time.Time{}, false, nil
	}
	t, err := parseSenderTimestamp(v)
	if err != nil {
		return time.Time{}, true, err.under(keyLabel(KeySenderTimestamp)).under("mimiExtensions")
	}
	return t, true, nil
}

func parseSenderTimestamp(v []byte) (time.Time, *DecodeError) {
	r := reader{b: v}
	it, err := r.expect(majMap)
	if err != nil {
		return time.Time{}, err
	}
	if it.arg < 1 || it.arg > 2 {
		return time.Time{}, decErr(ErrSize, it.start, "want 1 or 2 entries, got "+strconv.FormatUint(it.arg, 10))
	}
	var secs, frac uint64
	var scale uint64 = 1
	haveSecs := false
	for i := uint64(0); i < it.arg; i++ {
		kt, err := r.head()
		if err != nil {
			return time.Time{}, err
		}
		key := int64(kt.arg)
		if kt.major == majNeg && kt.arg < 64 {
			key = -1 - key
		} else if kt.major != majUint || kt.arg != 1 {
			return time.Time{}, decErr(ErrKeyType, kt.start, "want key 1, -3, -6 or -9")
		}
		var max uint64
		switch key {
		case 1:
			if haveSecs {
				return time.Time{}, decErr(ErrDuplicateKey, kt.start, "duplicate key 1")
			}
			haveSecs = true
			if secs, err = r.uint(math.MaxInt64); err != nil {
				return time.Time{}, err.under("[1]")
			}
			continue
		case -3:
			max, scale = 999, 1e6
		case -6:
			max, scale = 999_999, 1e3
		case -9:
			max, scale = 999_999_999, 1
		default:
			return time.Time{}, decErr(ErrKeyType, kt.start, "want key 1, -3, -6 or -9, got "+strconv.FormatInt(key, 10))
		}
		if frac, err = r.uint(max); err != nil {
			return time.Time{}, err.under("[" + strconv.FormatInt(key, 10) + "]")
		}
	}
	if !haveSecs {
		return time.Time{}, decErr(ErrMissing, 0, "seconds (key 1) missing")
	}
	if err := r.end(); err != nil {
		return time.Time{}, err
	}
	return time.Unix(int64(secs), int64(frac*scale)).UTC(), nil
}

// SetSenderTimestamp sets key 3 with the coarsest fraction that keeps t
// exactly (none, ms, µs or ns). t must not be before the UNIX epoch.
func (e *Extensions) SetSenderTimestamp(t time.Time) error {
	if t.Unix() < 0 {
		return encErr(ErrRange, "sender timestamp before the UNIX epoch").under(keyLabel(KeySenderTimestamp)).under("mimiExtensions")
	}
	ns := uint64(t.Nanosecond())
	b := []byte{0xa1, 0x01}
	b = appendHead(b, majUint, uint64(t.Unix()))
	switch {
	case ns == 0:
	case ns%1e6 == 0:
		b = appendHead(append(b, 0x22), majUint, ns/1e6) // -3: milliseconds
	case ns%1e3 == 0:
		b = appendHead(append(b, 0x25), majUint, ns/1e3) // -6: microseconds
	default:
		b = appendHead(append(b, 0x28), majUint, ns) // -9: nanoseconds
	}
	if ns != 0 {
		b[0] = 0xa2
	}
	e.Set(KeySenderTimestamp, b)
	return nil
}

// ScopeKind says how an external message ID's scope is expressed.
type ScopeKind uint8

const (
	ScopePEN    ScopeKind = 1 // IANA Private Enterprise Number (uint > 0)
	ScopeDomain ScopeKind = 2 // Internet domain name (tstr)
	ScopeURI    ScopeKind = 3 // tagged URI (tag 32 over tstr)
)

// ExtMessageID is [bstr, scope]: a native message ID from another system.
type ExtMessageID struct {
	ID    []byte
	Kind  ScopeKind
	PEN   uint64 // ScopePEN
	Scope string // ScopeDomain, ScopeURI
}

// ExternalMessageID decodes key 4.
func (e Extensions) ExternalMessageID() (ExtMessageID, bool, error) {
	v, ok := e.Get(KeyExternalMessageID)
	if !ok {
		return ExtMessageID{}, false, nil
	}
	r := reader{b: v}
	x, err := r.extMessageID()
	if err == nil {
		err = r.end()
	}
	if err != nil {
		return ExtMessageID{}, true, err.under(keyLabel(KeyExternalMessageID)).under("mimiExtensions")
	}
	return x, true, nil
}

// SetExternalMessageID sets key 4.
func (e *Extensions) SetExternalMessageID(x ExtMessageID) error {
	b, err := appendExtMessageID(nil, x)
	if err != nil {
		return err.under(keyLabel(KeyExternalMessageID)).under("mimiExtensions")
	}
	e.Set(KeyExternalMessageID, b)
	return nil
}

func (r *reader) extMessageID() (ExtMessageID, *DecodeError) {
	var x ExtMessageID
	start := r.off
	n, err := r.array(1)
	if err != nil {
		return x, err
	}
	if n != 2 {
		return x, decErr(ErrArrayLength, start, "want array of 2 elements, got "+strconv.Itoa(n))
	}
	if x.ID, err = r.bytes(); err != nil {
		return x, err.under("[0]")
	}
	if r.off >= len(r.b) {
		return x, decErr(ErrTruncated, r.off, "unexpected end of input").under("[1]")
	}
	switch r.b[r.off] >> 5 {
	case majUint:
		if x.PEN, err = r.uint(math.MaxUint64); err == nil && x.PEN == 0 {
			err = decErr(ErrRange, start, "PEN must be greater than 0")
		}
		x.Kind = ScopePEN
	case majText:
		x.Scope, err = r.text()
		x.Kind = ScopeDomain
	case majTag:
		var it item
		if it, err = r.head(); err == nil && it.arg != 32 {
			err = decErr(ErrType, it.start, "want tag 32 (URI), got tag "+strconv.FormatUint(it.arg, 10))
		}
		if err == nil {
			x.Scope, err = r.text()
		}
		x.Kind = ScopeURI
	default:
		err = r.typeErr("PEN, domain or tagged URI")
	}
	if err != nil {
		return x, err.under("[1]")
	}
	return x, nil
}

func appendExtMessageID(dst []byte, x ExtMessageID) ([]byte, *EncodeError) {
	dst = appendBytes(append(dst, 0x82), x.ID)
	switch x.Kind {
	case ScopePEN:
		if x.PEN == 0 {
			return nil, encErr(ErrRange, "PEN must be greater than 0").under("[1]")
		}
		return appendHead(dst, majUint, x.PEN), nil
	case ScopeDomain, ScopeURI:
		if err := validText(x.Scope, "[1]"); err != nil {
			return nil, err
		}
		if x.Kind == ScopeURI {
			dst = append(dst, 0xd8, 32)
		}
		return appendText(dst, x.Scope), nil
	}
	return nil, encErr(ErrType, "unknown scope kind "+strconv.Itoa(int(x.Kind))).under("[1]")
}

// Subject decodes key 5: a text string of 1..4096 bytes.
func (e Extensions) Subject() (string, bool, error) {
	v, ok := e.Get(KeySubject)
	if !ok {
		return "", false, nil
	}
	s, err := TextValue(v)
	if err == nil && (len(s) < 1 || len(s) > MaxSubjectLen) {
		err = decErr(ErrSize, 0, "subject must be 1..4096 bytes, got "+strconv.Itoa(len(s)))
	}
	if err != nil {
		return "", true, err.(*DecodeError).under(keyLabel(KeySubject)).under("mimiExtensions")
	}
	return s, true, nil
}

// SetSubject sets key 5.
func (e *Extensions) SetSubject(s string) error {
	path := keyLabel(KeySubject)
	if len(s) < 1 || len(s) > MaxSubjectLen {
		return encErr(ErrSize, "subject must be 1..4096 bytes, got "+strconv.Itoa(len(s))).under(path).under("mimiExtensions")
	}
	if !utf8.ValidString(s) {
		return encErr(ErrUTF8, "subject is not valid UTF-8").under(path).under("mimiExtensions")
	}
	e.Set(KeySubject, appendText(nil, s))
	return nil
}

// LastSeen is key 256: either MIMI message IDs or external IDs, never both.
type LastSeen struct {
	IDs      []MessageID
	External []ExtMessageID
}

// LastSeen decodes key 256.
func (e Extensions) LastSeen() (LastSeen, bool, error) {
	v, ok := e.Get(KeyLastSeen)
	if !ok {
		return LastSeen{}, false, nil
	}
	ls, err := parseLastSeen(v)
	if err != nil {
		return LastSeen{}, true, err.under(keyLabel(KeyLastSeen)).under("mimiExtensions")
	}
	return ls, true, nil
}

func parseLastSeen(v []byte) (LastSeen, *DecodeError) {
	var ls LastSeen
	r := reader{b: v}
	n, err := r.array(1)
	if err != nil {
		return ls, err
	}
	for i := 0; i < n; i++ {
		seg := "[" + strconv.Itoa(i) + "]"
		if r.off < len(r.b) && r.b[r.off]>>5 == majBytes {
			if len(ls.External) > 0 {
				return ls, decErr(ErrType, r.off, "mixes MessageId and ExtMessageId").under(seg)
			}
			id, err := r.messageID()
			if err != nil {
				return ls, err.under(seg)
			}
			ls.IDs = append(ls.IDs, id)
			continue
		}
		if len(ls.IDs) > 0 {
			return ls, decErr(ErrType, r.off, "mixes MessageId and ExtMessageId").under(seg)
		}
		x, err := r.extMessageID()
		if err != nil {
			return ls, err.under(seg)
		}
		ls.External = append(ls.External, x)
	}
	return ls, r.end()
}

// SetLastSeen sets key 256.
func (e *Extensions) SetLastSeen(ls LastSeen) error {
	path := keyLabel(KeyLastSeen)
	if len(ls.IDs) > 0 && len(ls.External) > 0 {
		return encErr(ErrType, "lastSeen mixes MessageId and ExtMessageId").under(path).under("mimiExtensions")
	}
	b := appendHead(nil, majArray, uint64(len(ls.IDs)+len(ls.External)))
	for i := range ls.IDs {
		if ls.IDs[i][0] != 0x01 {
			return hashAlgErr(&ls.IDs[i]).under("[" + strconv.Itoa(i) + "]").under(path).under("mimiExtensions")
		}
		b = appendBytes(b, ls.IDs[i][:])
	}
	for i, x := range ls.External {
		var err *EncodeError
		if b, err = appendExtMessageID(b, x); err != nil {
			return err.under("[" + strconv.Itoa(i) + "]").under(path).under("mimiExtensions")
		}
	}
	e.Set(KeyLastSeen, b)
	return nil
}
