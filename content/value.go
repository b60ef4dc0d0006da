package content

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/x448/float16"
)

// Extension values are kept as raw CBOR. This file validates one value
// against the -08 §6 rules (well-formed, definite, depth, map keys, UTF-8,
// NaN) and, for the encoder, rewrites a non-deterministic value into core
// deterministic form.

// maxExtDepth is the deepest level a tag, map or array may sit at; the
// extensions map itself is level 1 (-08 §6.3).
const maxExtDepth = 4

// value validates the data item at r.off whose containers would sit at
// level depth, and advances past it.
func (r *reader) value(depth int) *DecodeError {
	start := r.off
	it, err := r.head()
	if err != nil {
		return err
	}
	switch it.major {
	case majUint, majNeg:
		return nil
	case majBytes:
		_, err = r.payload(it)
		return err
	case majText:
		p, err := r.payload(it)
		if err != nil {
			return err
		}
		if !utf8.Valid(p) {
			return decErr(ErrUTF8, start, "text string is not valid UTF-8")
		}
		return nil
	case majSimple:
		return r.float(it)
	}
	if depth > maxExtDepth {
		return decErr(ErrDepth, start, majorName(it.major)+" at level "+strconv.Itoa(depth)+" exceeds the extension depth limit of 4")
	}
	switch it.major {
	case majArray:
		if it.arg > uint64(len(r.b)-r.off) {
			return decErr(ErrTruncated, start, "array of "+strconv.FormatUint(it.arg, 10)+" elements runs past the end of input")
		}
		for i := 0; i < int(it.arg); i++ {
			if err := r.value(depth + 1); err != nil {
				return err.under("[" + strconv.Itoa(i) + "]")
			}
		}
		return nil
	case majMap:
		return r.mapValue(it, depth)
	default: // tag
		if it.arg == 2 || it.arg == 3 {
			if err := r.bignum(start); err != nil {
				return err
			}
		}
		if err := r.value(depth + 1); err != nil {
			return err.under("(tag " + strconv.FormatUint(it.arg, 10) + ")")
		}
		return nil
	}
}

// float checks a major-7 item: only the half-precision quiet NaN is allowed,
// and a float must use the shortest width that keeps its value.
func (r *reader) float(it item) *DecodeError {
	switch it.ai {
	case 25:
		if it.arg&0x7c00 == 0x7c00 && it.arg&0x3ff != 0 && it.arg != 0x7e00 {
			return decErr(ErrNaN, it.start, "NaN other than f97e00")
		}
	case 26:
		f := math.Float32frombits(uint32(it.arg))
		if f != f {
			return decErr(ErrNaN, it.start, "NaN other than f97e00")
		}
		if fitsHalf(f) {
			return r.nonPreferred(it.start, "float32 that fits in float16")
		}
	case 27:
		f := math.Float64frombits(it.arg)
		if f != f {
			return decErr(ErrNaN, it.start, "NaN other than f97e00")
		}
		if float64(float32(f)) == f || math.IsInf(f, 0) {
			return r.nonPreferred(it.start, "float64 that fits in a shorter float")
		}
	}
	return nil
}

// fitsHalf reports whether f converts to float16 and back bit-exactly.
func fitsHalf(f float32) bool {
	return math.Float32bits(float16.Fromfloat32(f).Float32()) == math.Float32bits(f)
}

// bignum peeks at the content of tag 2/3 (not consuming it): a bignum that
// fits in 64 bits, or one with leading zero bytes, is not in preferred form.
func (r *reader) bignum(tagStart int) *DecodeError {
	sub := reader{b: r.b, off: r.off}
	it, err := sub.head()
	if err != nil || it.major != majBytes {
		return nil // the normal walk reports it with a path
	}
	p, err := sub.payload(it)
	if err != nil {
		return nil
	}
	if len(p) <= 8 || p[0] == 0 {
		return r.nonPreferred(tagStart, "bignum not in preferred form")
	}
	return nil
}

// mapKey is a decoded nested map key, used for duplicate detection when the
// wire order does not already prove uniqueness.
type mapKey struct {
	major byte
	arg   uint64
	data  []byte
}

func (r *reader) mapValue(it item, depth int) *DecodeError {
	if it.arg > uint64(len(r.b)-r.off)/2 {
		return decErr(ErrTruncated, it.start, "map of "+strconv.FormatUint(it.arg, 10)+" entries runs past the end of input")
	}
	n := int(it.arg)
	prevStart, prevEnd := -1, -1
	needDupCheck := false
	for i := 0; i < n; i++ {
		ks := r.off
		key, err := r.nestedKey()
		if err != nil {
			return err.under("[key " + strconv.Itoa(i) + "]")
		}
		ke := r.off
		if r.wideHead {
			needDupCheck = true // a non-shortest key head hides equal keys from the byte compare
		}
		if prevStart >= 0 {
			switch c := bytes.Compare(r.b[prevStart:prevEnd], r.b[ks:ke]); {
			case c == 0:
				return decErr(ErrDuplicateKey, ks, "duplicate map key").under("[" + key.label() + "]")
			case c > 0:
				needDupCheck = true
				if err := r.nonPreferred(ks, "map keys not in bytewise order"); err != nil {
					return err.under("[" + key.label() + "]")
				}
			}
		}
		prevStart, prevEnd = ks, ke
		if err := r.value(depth + 1); err != nil {
			return err.under("[" + key.label() + "]")
		}
	}
	if needDupCheck {
		return r.dupCheck(it, n)
	}
	return nil
}

// nestedKey reads a key of a map inside an extension: int, tstr or bstr only,
// ints within ±(2^53-1).
func (r *reader) nestedKey() (mapKey, *DecodeError) {
	if r.off < len(r.b) {
		if m := r.b[r.off] >> 5; m != majUint && m != majNeg && m != majBytes && m != majText {
			return mapKey{}, decErr(ErrKeyType, r.off, "map key must be an integer, text string or byte string, got "+describe(r.b[r.off]))
		}
	}
	it, err := r.head()
	if err != nil {
		return mapKey{}, err
	}
	k := mapKey{major: it.major, arg: it.arg}
	switch it.major {
	case majUint, majNeg:
		return k, intKeyRange(it)
	case majText:
		p, err := r.payload(it)
		if err != nil {
			return k, err
		}
		if !utf8.Valid(p) {
			return k, decErr(ErrUTF8, it.start, "map key is not valid UTF-8")
		}
		k.data = p
		return k, nil
	default:
		p, err := r.payload(it)
		k.data = p
		return k, err
	}
}

func intKeyRange(it item) *DecodeError {
	if (it.major == majUint && it.arg > maxSafeInt) || (it.major == majNeg && it.arg > maxSafeInt-1) {
		return decErr(ErrKeyRange, it.start, "integer map key outside ±(2^53-1)")
	}
	return nil
}

// dupCheck re-reads the keys of a map (already validated) and sorts them.
func (r *reader) dupCheck(it item, n int) *DecodeError {
	end := r.off
	sub := reader{b: r.b[:end], off: it.start}
	sub.head()
	keys := make([]mapKey, 0, n)
	for i := 0; i < n; i++ {
		k, _ := sub.nestedKey()
		keys = append(keys, k)
		sub.value(0)
	}
	slices.SortFunc(keys, cmpMapKey)
	for i := 1; i < len(keys); i++ {
		if cmpMapKey(keys[i-1], keys[i]) == 0 {
			return decErr(ErrDuplicateKey, it.start, "duplicate map key").under("[" + keys[i].label() + "]")
		}
	}
	return nil
}

// label renders the key for an error path, like nestedKey does.
func (k mapKey) label() string {
	switch k.major {
	case majUint:
		return strconv.FormatUint(k.arg, 10)
	case majNeg:
		return "-" + strconv.FormatUint(k.arg+1, 10)
	case majText:
		return strconv.Quote(string(k.data))
	}
	return "h'" + strconv.Itoa(len(k.data)) + " bytes'"
}

func cmpMapKey(a, b mapKey) int {
	if a.major != b.major {
		return int(a.major) - int(b.major)
	}
	if a.major <= majNeg {
		switch {
		case a.arg < b.arg:
			return -1
		case a.arg > b.arg:
			return 1
		}
		return 0
	}
	return bytes.Compare(a.data, b.data)
}

// checkValue validates raw as exactly one extension value whose containers
// start at level depth. It reports whether raw is already deterministic.
func checkValue(raw []byte, depth int) (deterministic bool, err *DecodeError) {
	if len(raw) == 0 {
		return false, decErr(ErrMissing, 0, "empty value: want one CBOR data item")
	}
	r := reader{b: raw}
	if err := r.value(depth); err != nil {
		return false, err
	}
	if err := r.end(); err != nil {
		return false, err
	}
	return !r.nonDet, nil
}
