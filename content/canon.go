package content

import (
	"bytes"
	"math"
	"slices"

	"github.com/x448/float16"
)

// canonicalValue rewrites one already-validated data item into RFC 8949
// §4.2.1 core deterministic form: shortest heads, bytewise-sorted map keys,
// shortest floats, bignums that fit in 64 bits as plain integers. Used by the
// encoder when an extension value received from elsewhere is not yet in that
// form; checkValue(canonicalValue(v)) always reports deterministic.
func canonicalValue(dst, raw []byte) []byte {
	r := reader{b: raw}
	return r.canon(dst)
}

func (r *reader) canon(dst []byte) []byte {
	it, _ := r.head()
	switch it.major {
	case majUint, majNeg:
		return appendHead(dst, it.major, it.arg)
	case majBytes, majText:
		p, _ := r.payload(it)
		return append(appendHead(dst, it.major, uint64(len(p))), p...)
	case majArray:
		dst = appendHead(dst, majArray, it.arg)
		for i := uint64(0); i < it.arg; i++ {
			dst = r.canon(dst)
		}
		return dst
	case majMap:
		return r.canonMap(dst, int(it.arg))
	case majTag:
		if it.arg == 2 || it.arg == 3 {
			if out, ok := r.canonBignum(dst, it.arg); ok {
				return out
			}
		}
		return r.canon(appendHead(dst, majTag, it.arg))
	default:
		return appendSimple(dst, it)
	}
}

func (r *reader) canonMap(dst []byte, n int) []byte {
	type entry struct{ key, val []byte }
	entries := make([]entry, n)
	for i := range entries {
		entries[i].key = r.canon(nil)
		entries[i].val = r.canon(nil)
	}
	slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(a.key, b.key) })
	dst = appendHead(dst, majMap, uint64(n))
	for _, e := range entries {
		dst = append(append(dst, e.key...), e.val...)
	}
	return dst
}

// canonBignum turns tag 2/3 over a byte string into preferred form.
func (r *reader) canonBignum(dst []byte, tag uint64) ([]byte, bool) {
	sub := reader{b: r.b, off: r.off}
	it, err := sub.head()
	if err != nil || it.major != majBytes {
		return dst, false
	}
	p, _ := sub.payload(it)
	r.off = sub.off
	for len(p) > 0 && p[0] == 0 {
		p = p[1:]
	}
	if len(p) <= 8 {
		var v uint64
		for _, c := range p {
			v = v<<8 | uint64(c)
		}
		return appendHead(dst, byte(tag-2), v), true // tag 2 -> major 0, tag 3 -> major 1
	}
	return appendBytes(appendHead(dst, majTag, tag), p), true
}

// appendSimple writes a simple value or float in its shortest exact form.
func appendSimple(dst []byte, it item) []byte {
	switch it.ai {
	case 25:
		return append(dst, 0xf9, byte(it.arg>>8), byte(it.arg))
	case 26:
		return appendFloat32(dst, math.Float32frombits(uint32(it.arg)))
	case 27:
		f := math.Float64frombits(it.arg)
		if f32 := float32(f); float64(f32) == f || math.IsInf(f, 0) {
			return appendFloat32(dst, f32)
		}
		return append(dst, 0xfb, byte(it.arg>>56), byte(it.arg>>48), byte(it.arg>>40), byte(it.arg>>32),
			byte(it.arg>>24), byte(it.arg>>16), byte(it.arg>>8), byte(it.arg))
	case 24:
		return append(dst, 0xf8, byte(it.arg))
	default:
		return append(dst, 0xe0|it.ai)
	}
}

func appendFloat32(dst []byte, f float32) []byte {
	if fitsHalf(f) {
		h := float16.Fromfloat32(f).Bits()
		return append(dst, 0xf9, byte(h>>8), byte(h))
	}
	b := math.Float32bits(f)
	return append(dst, 0xfa, byte(b>>24), byte(b>>16), byte(b>>8), byte(b))
}
