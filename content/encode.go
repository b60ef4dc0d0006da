package content

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// Encode returns the RFC 8949 §4.2.1 core deterministic encoding of m
// (shortest heads, definite lengths, extension keys sorted bytewise by their
// encoded bytes). m is validated first with the same rules as Decode; on
// error nothing is returned but an *EncodeError naming the field.
//
// Fields that do not belong to the body's Cardinality (e.g. Parts on a
// Single part) are ignored. Extension values that are valid but not
// deterministic (e.g. received from a lenient sender) are rewritten into
// deterministic form; Extension order in m does not matter.
func (m *Message) Encode() ([]byte, error) {
	var buf [8]int
	var e encoder
	order, err := e.validate(m, buf[:0])
	if err != nil {
		return nil, err
	}
	e.order = order
	return e.write(make([]byte, 0, e.size), m), nil
}

// AppendEncode appends the encoding of m to dst. On error dst is returned
// unchanged.
func (m *Message) AppendEncode(dst []byte) ([]byte, error) {
	var buf [8]int
	var e encoder
	order, err := e.validate(m, buf[:0])
	if err != nil {
		return dst, err
	}
	e.order = order
	return e.write(slices.Grow(dst, e.size), m), nil
}

// encoder carries what validation learned to the writing pass.
type encoder struct {
	order []int    // extension indices in bytewise key order
	canon [][]byte // deterministic replacements for extension values, by index
	size  int      // upper bound of the encoded length
}

// validate checks m and returns the extension order, built in order's storage.
func (e *encoder) validate(m *Message, order []int) ([]int, error) {
	if m == nil {
		return nil, encErr(ErrMissing, "nil message").under("mimiContent")
	}
	e.size = 64 + len(m.TopicID)
	if m.Replaces != nil && m.Replaces[0] != 0x01 {
		return nil, hashAlgErr(m.Replaces).under("replaces")
	}
	if m.InReplyTo != nil && m.InReplyTo[0] != 0x01 {
		return nil, hashAlgErr(m.InReplyTo).under("inReplyTo")
	}
	order, xerr := e.validateExtensions(m.Extensions, order)
	if xerr != nil {
		return nil, xerr.under("mimiExtensions")
	}
	parts := 0
	if err := e.validatePart(&m.Body, 1, &parts); err != nil {
		return nil, err.under("nestedPart")
	}
	return order, nil
}

func hashAlgErr(id *MessageID) *EncodeError {
	return encErr(ErrHashAlg, "unknown hash algorithm octet 0x"+strconv.FormatUint(uint64(id[0]), 16))
}

func (e *encoder) validateExtensions(exts Extensions, order []int) ([]int, *EncodeError) {
	for i, x := range exts {
		if err := validExtKey(x.Key); err != nil {
			return nil, err.under(keyLabel(x.Key))
		}
		det, derr := checkValue(x.Value, 2)
		if derr != nil {
			return nil, toEncodeError(derr).under(keyLabel(x.Key))
		}
		if !det {
			if e.canon == nil {
				e.canon = make([][]byte, len(exts))
			}
			e.canon[i] = canonicalValue(nil, x.Value)
		}
		e.size += 9 + len(x.Key.Text) + len(x.Value)
		order = append(order, i)
	}
	// insertion sort: maps are small and this avoids the closure allocation
	if len(order) > 16 {
		slices.SortFunc(order, func(a, b int) int { return compareExtKeys(exts[a].Key, exts[b].Key) })
	}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && compareExtKeys(exts[order[j-1]].Key, exts[order[j]].Key) > 0; j-- {
			order[j-1], order[j] = order[j], order[j-1]
		}
	}
	for i := 1; i < len(order); i++ {
		if k := exts[order[i]].Key; compareExtKeys(exts[order[i-1]].Key, k) == 0 {
			return nil, encErr(ErrDuplicateKey, "duplicate extension key").under(keyLabel(k))
		}
	}
	return order, nil
}

// validExtKey checks an extension key: int within ±(2^53-1), or 1..255
// bytes of UTF-8.
func validExtKey(k ExtKey) *EncodeError {
	if !k.IsText {
		if k.Int > maxSafeInt || k.Int < -maxSafeInt {
			return encErr(ErrKeyRange, "integer extension key outside ±(2^53-1)")
		}
		return nil
	}
	if len(k.Text) < 1 || len(k.Text) > MaxExtKeyLen {
		return encErr(ErrKeyRange, "text extension key must be 1..255 bytes, got "+strconv.Itoa(len(k.Text)))
	}
	if !utf8.ValidString(k.Text) {
		return encErr(ErrUTF8, "extension key is not valid UTF-8")
	}
	return nil
}

func validText(s, field string) *EncodeError {
	if !utf8.ValidString(s) {
		return encErr(ErrUTF8, "text string is not valid UTF-8").under(field)
	}
	return nil
}

func (e *encoder) validatePart(p *NestedPart, level int, parts *int) *EncodeError {
	if level > MaxPartDepth {
		return encErr(ErrDepth, "NestedPart at level "+strconv.Itoa(level)+" exceeds the limit of 4")
	}
	if *parts++; *parts > MaxParts {
		return encErr(ErrTooManyParts, "more than 1024 parts in the message")
	}
	if err := validText(p.Language, "language"); err != nil {
		return err
	}
	e.size += 16 + len(p.Language)
	switch p.Cardinality {
	case NullPart:
	case Single:
		e.size += 18 + len(p.ContentType) + len(p.Content)
		return validText(p.ContentType, "contentType")
	case External:
		if err := validText(p.ContentType, "contentType"); err != nil {
			return err
		}
		x := p.External
		if x == nil {
			return encErr(ErrMissing, "external part fields missing (External is nil)").under("url")
		}
		for _, f := range [...]struct{ s, name string }{{x.URL, "url"}, {x.Description, "description"}, {x.Filename, "filename"}} {
			if err := validText(f.s, f.name); err != nil {
				return err
			}
		}
		e.size += 96 + len(p.ContentType) + len(x.URL) + len(x.Key) + len(x.Nonce) + len(x.AAD) +
			len(x.ContentHash) + len(x.Description) + len(x.Filename)
	case Multi:
		if p.Semantics > ProcessAll {
			return encErr(ErrUnknownSemantics, "unknown partSemantics "+strconv.Itoa(int(p.Semantics))).under("partSemantics")
		}
		if len(p.Parts) < 2 {
			return encErr(ErrTooFewParts, "want at least 2 parts, got "+strconv.Itoa(len(p.Parts))).under("parts")
		}
		for i := range p.Parts {
			if err := e.validatePart(&p.Parts[i], level+1, parts); err != nil {
				return err.under("parts[" + strconv.Itoa(i) + "]")
			}
		}
	default:
		return encErr(ErrUnknownCardinality, "unknown cardinality "+strconv.Itoa(int(p.Cardinality))).under("cardinality")
	}
	return nil
}

func (e *encoder) write(dst []byte, m *Message) []byte {
	dst = append(dst, 0x87)
	dst = appendBytes(dst, m.Salt[:])
	dst = appendOptionalID(dst, m.Replaces)
	dst = appendBytes(dst, m.TopicID)
	if m.Expires == nil {
		dst = append(dst, cborNull)
	} else {
		dst = append(dst, 0x82, cborFalse)
		if m.Expires.Relative {
			dst[len(dst)-1] = cborTrue
		}
		dst = appendHead(dst, majUint, uint64(m.Expires.Time))
	}
	dst = appendOptionalID(dst, m.InReplyTo)
	dst = appendHead(dst, majMap, uint64(len(m.Extensions)))
	for _, i := range e.order {
		x := m.Extensions[i]
		if x.Key.IsText {
			dst = appendText(dst, x.Key.Text)
		} else {
			dst = appendInt(dst, x.Key.Int)
		}
		if e.canon != nil && e.canon[i] != nil {
			dst = append(dst, e.canon[i]...)
		} else {
			dst = append(dst, x.Value...)
		}
	}
	return appendPart(dst, &m.Body)
}

func appendOptionalID(dst []byte, id *MessageID) []byte {
	if id == nil {
		return append(dst, cborNull)
	}
	return appendBytes(dst, id[:])
}

func appendPart(dst []byte, p *NestedPart) []byte {
	switch p.Cardinality {
	case NullPart:
		dst = append(dst, 0x83)
	case Single, Multi:
		dst = append(dst, 0x85)
	default:
		dst = append(dst, 0x8f)
	}
	dst = appendHead(dst, majUint, uint64(p.Disposition))
	dst = appendText(dst, p.Language)
	dst = append(dst, byte(p.Cardinality))
	switch p.Cardinality {
	case Single:
		dst = appendText(dst, p.ContentType)
		dst = appendBytes(dst, p.Content)
	case External:
		x := p.External
		dst = appendText(dst, p.ContentType)
		dst = appendText(dst, x.URL)
		dst = appendHead(dst, majUint, uint64(x.Expires))
		dst = appendHead(dst, majUint, x.Size)
		dst = appendHead(dst, majUint, uint64(x.EncAlg))
		dst = appendBytes(dst, x.Key)
		dst = appendBytes(dst, x.Nonce)
		dst = appendBytes(dst, x.AAD)
		dst = appendHead(dst, majUint, uint64(x.HashAlg))
		dst = appendBytes(dst, x.ContentHash)
		dst = appendText(dst, x.Description)
		dst = appendText(dst, x.Filename)
	case Multi:
		dst = append(dst, byte(p.Semantics))
		dst = appendHead(dst, majArray, uint64(len(p.Parts)))
		for i := range p.Parts {
			dst = appendPart(dst, &p.Parts[i])
		}
	}
	return dst
}
