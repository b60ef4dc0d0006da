package mls

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// DecodeError names the field that failed to decode and why.
type DecodeError struct {
	Field string
	Err   error
}

func (e *DecodeError) Error() string { return "mls: decode " + e.Field + ": " + e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

// Codec failures, wrapped in a DecodeError naming the field.
var (
	ErrTruncated     = errors.New("input truncated")
	ErrVarintPrefix  = errors.New("variable-length prefix 0b11 is invalid")
	ErrVarintMinimal = errors.New("variable-length header not minimally encoded")
	ErrTrailingBytes = errors.New("trailing bytes after struct")
	ErrBadValue      = errors.New("invalid value")
)

// maxVarint is the largest length a variable-length header can carry.
const maxVarint = 1<<30 - 1

// writer appends TLS presentation-language encodings to a byte slice.
type writer struct{ b []byte }

func (w *writer) u8(v uint8)   { w.b = append(w.b, v) }
func (w *writer) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *writer) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *writer) u64(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *writer) raw(p []byte) { w.b = append(w.b, p...) }
func (w *writer) boolean(v bool) {
	if v {
		w.u8(1)
	} else {
		w.u8(0)
	}
}

// varint writes an RFC 9420 §2.1.2 length header in its shortest form.
func (w *writer) varint(n int) {
	switch {
	case n < 1<<6:
		w.u8(uint8(n))
	case n < 1<<14:
		w.u16(uint16(n) | 0x4000)
	case n <= maxVarint:
		w.u32(uint32(n) | 0x80000000)
	default:
		panic("mls: vector longer than 2^30-1 bytes")
	}
}

// opaque writes opaque data<V>.
func (w *writer) opaque(p []byte) { w.varint(len(p)); w.raw(p) }

// vector writes the elements emitted by f as a <V> vector. f writes in
// place after room for the longest length header, which is then written in
// its shortest form and the elements moved up to it: nested vectors (a
// ratchet tree inside an extension inside a GroupInfo) cost a move each
// instead of a buffer each, grown from empty and copied.
func (w *writer) vector(f func(w *writer)) {
	start := len(w.b)
	w.b = append(w.b, 0, 0, 0, 0)
	f(w)
	n := len(w.b) - start - 4
	var hdr writer
	hdr.b = w.b[start : start : start+4]
	hdr.varint(n)
	if h := len(hdr.b); h < 4 {
		copy(w.b[start+h:], w.b[start+4:])
		w.b = w.b[:len(w.b)-(4-h)]
	}
}

// optional writes optional<T>: a presence octet, then the value.
func (w *writer) optional(present bool, f func(w *writer)) {
	w.boolean(present)
	if present {
		f(w)
	}
}

// reader consumes TLS encodings; the first error sticks and names its field.
type reader struct {
	b   []byte
	err error
}

func newReader(b []byte) *reader { return &reader{b: b} }

func (r *reader) fail(field string, err error) {
	if r.err == nil {
		r.err = &DecodeError{Field: field, Err: err}
	}
}

func (r *reader) take(n int, field string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail(field, ErrTruncated)
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8(field string) uint8 {
	p := r.take(1, field)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *reader) u16(field string) uint16 {
	p := r.take(2, field)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint16(p)
}

func (r *reader) u32(field string) uint32 {
	p := r.take(4, field)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

func (r *reader) u64(field string) uint64 {
	p := r.take(8, field)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

func (r *reader) boolean(field string) bool {
	switch v := r.u8(field); v {
	case 0:
		return false
	case 1:
		return true
	default:
		r.fail(field, fmt.Errorf("%w: boolean %d", ErrBadValue, v))
		return false
	}
}

// varint reads a length header, rejecting the 0b11 prefix and non-minimal forms.
func (r *reader) varint(field string) int {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail(field, ErrTruncated)
		return 0
	}
	prefix := r.b[0] >> 6
	if prefix == 3 {
		r.fail(field, ErrVarintPrefix)
		return 0
	}
	size := 1 << prefix
	p := r.take(size, field)
	if p == nil {
		return 0
	}
	v := uint64(p[0] & 0x3f)
	for _, c := range p[1:] {
		v = v<<8 | uint64(c)
	}
	if size > 1 && v < 1<<(8*size/2-2) {
		r.fail(field, ErrVarintMinimal)
		return 0
	}
	return int(v)
}

// opaque reads opaque data<V>; the result aliases the input.
func (r *reader) opaque(field string) []byte {
	n := r.varint(field)
	return r.take(n, field)
}

// vector reads a <V> vector, calling f until its bytes are consumed.
func (r *reader) vector(field string, f func(r *reader)) {
	body := r.opaque(field)
	if r.err != nil {
		return
	}
	sub := &reader{b: body}
	for len(sub.b) > 0 && sub.err == nil {
		f(sub)
	}
	if sub.err != nil && r.err == nil {
		r.err = sub.err
	}
}

// optional reads optional<T>'s presence octet and calls f when present.
func (r *reader) optional(field string, f func(r *reader)) bool {
	if r.boolean(field) {
		f(r)
		return r.err == nil
	}
	return false
}

// done reports the sticky error, or trailing bytes when a whole struct was expected.
func (r *reader) done(field string) error {
	if r.err == nil && len(r.b) != 0 {
		r.fail(field, ErrTrailingBytes)
	}
	return r.err
}

// clone copies p so decoded structs never alias caller buffers.
func clone(p []byte) []byte {
	if p == nil {
		return nil
	}
	return append([]byte{}, p...)
}
