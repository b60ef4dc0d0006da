package content

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// Limits from -08 §6.3 and §9.1.
const (
	MaxPartDepth = 4    // NestedPart levels; the body is level 1
	MaxParts     = 1024 // NestedParts in one message, containers included
	MaxExtKeyLen = 255  // bytes in a text extension key
)

// DecodeOptions tunes Decode. The zero value is the default policy.
type DecodeOptions struct {
	// RequireDeterministic rejects inputs that are well-formed but not in
	// RFC 8949 §4.2.1 core deterministic form, with ErrNotDeterministic.
	// By default they are accepted: the message ID is computed over the bytes
	// as received, so a re-encoding is never needed to verify anything.
	RequireDeterministic bool
}

// Decode parses one application/mimi-content document strictly (see
// docs/content-codec.md for the rules). It never panics and allocates at
// most in proportion to len(b).
//
// The returned message aliases b: TopicID, Content, the External byte fields
// and Extension values point into b, so b must not be modified while the
// message is in use. Copy b first if it is a reused buffer.
func Decode(b []byte) (*Message, error) {
	return DecodeOptions{}.Decode(b)
}

// Decode parses b with the options o. See the package-level Decode.
func (o DecodeOptions) Decode(b []byte) (*Message, error) {
	m, _, err := decode(b, o.RequireDeterministic)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// DecodeCheck is Decode that also reports whether b was in core
// deterministic form (the sender followed -08 §6.1).
func DecodeCheck(b []byte) (m *Message, deterministic bool, err error) {
	m, det, derr := decode(b, false)
	if derr != nil {
		return nil, false, derr
	}
	return m, det, nil
}

// CheckDeterministic returns nil if b is a valid message in core
// deterministic form, or the first violation with its path.
func CheckDeterministic(b []byte) error {
	if _, _, err := decode(b, true); err != nil {
		return err
	}
	return nil
}

func decode(b []byte, strict bool) (*Message, bool, *DecodeError) {
	r := reader{b: b, strict: strict}
	m := new(Message)
	if err := r.message(m); err != nil {
		return nil, false, err
	}
	if err := r.end(); err != nil {
		return nil, false, err.under("mimiContent")
	}
	return m, !r.nonDet, nil
}

func (r *reader) message(m *Message) *DecodeError {
	if r.off < len(r.b) && r.b[r.off] == 0x87 {
		r.off++ // the common case: a shortest array(7) head
	} else {
		it, err := r.head()
		if err != nil {
			return err.under("mimiContent")
		}
		if it.major != majArray || it.arg != 7 {
			what := majorName(it.major)
			if it.major == majArray {
				what = "array of " + strconv.FormatUint(it.arg, 10) + " elements"
			}
			return decErr(ErrNotMessage, it.start, "want array of 7 elements, got "+what).under("mimiContent")
		}
	}
	start := r.off
	salt, err := r.bytes()
	if err != nil {
		return err.under("salt")
	}
	if len(salt) != SaltSize {
		return decErr(ErrSaltSize, start, "want 16 bytes, got "+strconv.Itoa(len(salt))).under("salt")
	}
	copy(m.Salt[:], salt)
	if m.Replaces, err = r.optionalID(); err != nil {
		return err.under("replaces")
	}
	if m.TopicID, err = r.bytes(); err != nil {
		return err.under("topicId")
	}
	if !r.isNull() {
		if m.Expires, err = r.expiration(); err != nil {
			return err.under("expires")
		}
	}
	if m.InReplyTo, err = r.optionalID(); err != nil {
		return err.under("inReplyTo")
	}
	if m.Extensions, err = r.extensions(); err != nil {
		return err.under("mimiExtensions")
	}
	parts := 0
	if err = r.nestedPart(&m.Body, 1, &parts); err != nil {
		return err.under("nestedPart")
	}
	return nil
}

func (r *reader) optionalID() (*MessageID, *DecodeError) {
	if r.isNull() {
		return nil, nil
	}
	id, err := r.messageID()
	if err != nil {
		return nil, err
	}
	return &id, nil
}

func (r *reader) expiration() (*Expiration, *DecodeError) {
	start := r.off
	n, err := r.array(1)
	if err != nil {
		return nil, err
	}
	if n != 2 {
		return nil, decErr(ErrArrayLength, start, "want array of 2 elements, got "+strconv.Itoa(n))
	}
	e := new(Expiration)
	switch {
	case r.off < len(r.b) && r.b[r.off] == cborTrue:
		e.Relative = true
		r.off++
	case r.off < len(r.b) && r.b[r.off] == cborFalse:
		r.off++
	default:
		return nil, r.typeErr("boolean").under("relative")
	}
	t, err := r.uint(1<<32 - 1)
	if err != nil {
		return nil, err.under("time")
	}
	e.Time = uint32(t)
	return e, nil
}

// extensions reads the mimiExtensions map. Keys: int within ±(2^53-1) or
// tstr of 1..255 bytes; no duplicates; values validated by checkValue rules.
func (r *reader) extensions() (Extensions, *DecodeError) {
	it, err := r.expect(majMap)
	if err != nil {
		return nil, err
	}
	if it.arg > uint64(len(r.b)-r.off)/2 {
		return nil, decErr(ErrTruncated, it.start, "map of "+strconv.FormatUint(it.arg, 10)+" entries runs past the end of input")
	}
	n := int(it.arg)
	if n == 0 {
		return nil, nil
	}
	exts := make(Extensions, 0, n)
	prevStart, prevEnd := -1, -1
	needDupCheck := false
	for i := 0; i < n; i++ {
		ks := r.off
		key, err := r.extKey()
		if err != nil {
			return nil, err.under("[key " + strconv.Itoa(i) + "]")
		}
		ke := r.off
		if r.wideHead {
			needDupCheck = true // equal keys may differ in bytes
		}
		if prevStart >= 0 {
			switch c := bytes.Compare(r.b[prevStart:prevEnd], r.b[ks:ke]); {
			case c == 0:
				return nil, decErr(ErrDuplicateKey, ks, "duplicate extension key").under(keyLabel(key))
			case c > 0:
				needDupCheck = true
				if err := r.nonPreferred(ks, "extension keys not in bytewise order"); err != nil {
					return nil, err.under(keyLabel(key))
				}
			}
		}
		prevStart, prevEnd = ks, ke
		vs := r.off
		if err := r.value(2); err != nil {
			return nil, err.under(keyLabel(key))
		}
		exts = append(exts, Extension{Key: key, Value: r.b[vs:r.off:r.off]})
	}
	if needDupCheck {
		if k, dup := exts.firstDuplicate(); dup {
			return nil, decErr(ErrDuplicateKey, it.start, "duplicate extension key").under(keyLabel(k))
		}
	}
	return exts, nil
}

func (r *reader) extKey() (ExtKey, *DecodeError) {
	if r.off < len(r.b) {
		if m := r.b[r.off] >> 5; m != majUint && m != majNeg && m != majText {
			return ExtKey{}, decErr(ErrKeyType, r.off, "extension key must be an integer or text string, got "+describe(r.b[r.off]))
		}
	}
	it, err := r.head()
	if err != nil {
		return ExtKey{}, err
	}
	switch it.major {
	case majUint:
		if err := intKeyRange(it); err != nil {
			return ExtKey{}, err
		}
		return IntKey(int64(it.arg)), nil
	case majNeg:
		if err := intKeyRange(it); err != nil {
			return ExtKey{}, err
		}
		return IntKey(-1 - int64(it.arg)), nil
	}
	p, err := r.payload(it)
	if err != nil {
		return ExtKey{}, err
	}
	if len(p) < 1 || len(p) > MaxExtKeyLen {
		return ExtKey{}, decErr(ErrKeyRange, it.start, "text extension key must be 1..255 bytes, got "+strconv.Itoa(len(p)))
	}
	if !utf8.Valid(p) {
		return ExtKey{}, decErr(ErrUTF8, it.start, "extension key is not valid UTF-8")
	}
	return TextKey(string(p)), nil
}

// keyLabel is the path segment for an extension key: [256] or ["a"].
func keyLabel(k ExtKey) string {
	if k.IsText {
		return "[" + strconv.Quote(k.Text) + "]"
	}
	return "[" + strconv.FormatInt(k.Int, 10) + "]"
}

// nestedPart reads one NestedPart at the given level; parts counts every
// part seen so far in the message.
func (r *reader) nestedPart(p *NestedPart, level int, parts *int) *DecodeError {
	start := r.off
	if level > MaxPartDepth {
		return decErr(ErrDepth, start, "NestedPart at level "+strconv.Itoa(level)+" exceeds the limit of 4")
	}
	if *parts++; *parts > MaxParts {
		return decErr(ErrTooManyParts, start, "more than 1024 parts in the message")
	}
	n, err := r.array(1)
	if err != nil {
		return err
	}
	if n < 3 {
		return decErr(ErrArrayLength, start, "want at least 3 elements, got "+strconv.Itoa(n))
	}
	d, err := r.uint(255)
	if err != nil {
		return err.under("disposition")
	}
	p.Disposition = Disposition(d)
	if p.Language, err = r.text(); err != nil {
		return err.under("language")
	}
	cs := r.off
	c, err := r.uint(1<<64 - 1)
	if err != nil {
		return err.under("cardinality")
	}
	want := 0
	switch c {
	case uint64(NullPart):
		want = 3
	case uint64(Single), uint64(Multi):
		want = 5
	case uint64(External):
		want = 15
	default:
		return decErr(ErrUnknownCardinality, cs, "unknown cardinality "+strconv.FormatUint(c, 10)).under("cardinality")
	}
	p.Cardinality = Cardinality(c)
	if n != want {
		return decErr(ErrArrayLength, start, "want "+strconv.Itoa(want)+" elements for "+p.Cardinality.String()+", got "+strconv.Itoa(n))
	}
	switch p.Cardinality {
	case Single:
		if p.ContentType, err = r.text(); err != nil {
			return err.under("contentType")
		}
		if p.Content, err = r.bytes(); err != nil {
			return err.under("content")
		}
	case External:
		if p.ContentType, err = r.text(); err != nil {
			return err.under("contentType")
		}
		p.External = new(ExternalPart)
		return r.external(p.External)
	case Multi:
		return r.multiPart(p, level, parts)
	}
	return nil
}

func (r *reader) multiPart(p *NestedPart, level int, parts *int) *DecodeError {
	ss := r.off
	s, err := r.uint(1<<64 - 1)
	if err != nil {
		return err.under("partSemantics")
	}
	if s > uint64(ProcessAll) {
		return decErr(ErrUnknownSemantics, ss, "unknown partSemantics "+strconv.FormatUint(s, 10)).under("partSemantics")
	}
	p.Semantics = PartSemantics(s)
	ps := r.off
	n, err := r.array(4) // a NestedPart takes at least 4 bytes
	if err != nil {
		return err.under("parts")
	}
	if n < 2 {
		return decErr(ErrTooFewParts, ps, "want at least 2 parts, got "+strconv.Itoa(n)).under("parts")
	}
	if *parts+n > MaxParts {
		return decErr(ErrTooManyParts, ps, "more than 1024 parts in the message").under("parts")
	}
	p.Parts = make([]NestedPart, n)
	for i := range p.Parts {
		if err := r.nestedPart(&p.Parts[i], level+1, parts); err != nil {
			return err.under("parts[" + strconv.Itoa(i) + "]")
		}
	}
	return nil
}

func (r *reader) external(x *ExternalPart) *DecodeError {
	var err *DecodeError
	var v uint64
	if x.URL, err = r.text(); err != nil {
		return err.under("url")
	}
	if v, err = r.uint(1<<32 - 1); err != nil {
		return err.under("expires")
	}
	x.Expires = uint32(v)
	if x.Size, err = r.uint(1<<64 - 1); err != nil {
		return err.under("size")
	}
	if v, err = r.uint(1<<16 - 1); err != nil {
		return err.under("encAlg")
	}
	x.EncAlg = uint16(v)
	if x.Key, err = r.bytes(); err != nil {
		return err.under("key")
	}
	if x.Nonce, err = r.bytes(); err != nil {
		return err.under("nonce")
	}
	if x.AAD, err = r.bytes(); err != nil {
		return err.under("aad")
	}
	if v, err = r.uint(255); err != nil {
		return err.under("hashAlg")
	}
	x.HashAlg = uint8(v)
	if x.ContentHash, err = r.bytes(); err != nil {
		return err.under("contentHash")
	}
	if x.Description, err = r.text(); err != nil {
		return err.under("description")
	}
	if x.Filename, err = r.text(); err != nil {
		return err.under("filename")
	}
	return nil
}
