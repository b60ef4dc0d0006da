package content

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// Low-level CBOR (RFC 8949) reading and writing shared by the message,
// extension-value and status-report codecs. Hand-written so decoding a
// message costs a few allocations and every failure knows its byte offset.

const (
	majUint   = 0
	majNeg    = 1
	majBytes  = 2
	majText   = 3
	majArray  = 4
	majMap    = 5
	majTag    = 6
	majSimple = 7
)

const (
	cborFalse = 0xf4
	cborTrue  = 0xf5
	cborNull  = 0xf6
)

// maxSafeInt is 2^53-1, the largest integer a double holds exactly (-08 §6.2).
const maxSafeInt = 1<<53 - 1

// reader is a cursor over one input. In strict mode a non-preferred encoding
// is an error; otherwise it only sets nonDet.
type reader struct {
	b      []byte
	off    int
	strict bool
	nonDet bool
	// wideHead is set by head when the last head was longer than needed; map
	// key checks use it because nonDet may already be set by earlier items.
	wideHead bool
}

// item is one decoded head. For floats (major 7, ai 25..27) arg holds the raw bits.
type item struct {
	major byte
	ai    byte
	arg   uint64
	start int // offset of the head's first byte
}

// head reads one data item head and checks it is well-formed and definite.
func (r *reader) head() (item, *DecodeError) {
	start := r.off
	if r.off >= len(r.b) {
		return item{}, decErr(ErrTruncated, start, "unexpected end of input")
	}
	ib := r.b[r.off]
	it := item{major: ib >> 5, ai: ib & 0x1f, start: start}
	r.off++
	r.wideHead = false
	switch {
	case it.ai < 24:
		it.arg = uint64(it.ai)
		return it, nil
	case it.ai <= 27:
		n := 1 << (it.ai - 24)
		if len(r.b)-r.off < n {
			return it, decErr(ErrTruncated, start, "unexpected end of input in item head")
		}
		p := r.b[r.off:]
		switch n {
		case 1:
			it.arg = uint64(p[0])
		case 2:
			it.arg = uint64(binary.BigEndian.Uint16(p))
		case 4:
			it.arg = uint64(binary.BigEndian.Uint32(p))
		default:
			it.arg = binary.BigEndian.Uint64(p)
		}
		r.off += n
		if it.major == majSimple {
			if it.ai == 24 && it.arg < 32 {
				return it, decErr(ErrMalformed, start, "two-byte simple value below 32")
			}
			return it, nil // floats: shortest form is checked by the caller
		}
		if minimalAI(it.arg) != it.ai {
			r.wideHead = true
			if err := r.nonPreferred(start, "integer or length not in shortest form"); err != nil {
				return it, err
			}
		}
		return it, nil
	case it.ai == 31 && it.major >= majBytes && it.major <= majMap:
		return it, decErr(ErrIndefinite, start, "indefinite-length "+majorName(it.major)+" not allowed")
	default:
		return it, decErr(ErrMalformed, start, "reserved additional information "+strconv.Itoa(int(it.ai)))
	}
}

// nonPreferred records (or, in strict mode, reports) a non-deterministic encoding.
func (r *reader) nonPreferred(off int, detail string) *DecodeError {
	if r.strict {
		return decErr(ErrNotDeterministic, off, detail)
	}
	r.nonDet = true
	return nil
}

// minimalAI is the additional-information value of the shortest head for v.
func minimalAI(v uint64) byte {
	switch {
	case v < 24:
		return byte(v)
	case v <= 0xff:
		return 24
	case v <= 0xffff:
		return 25
	case v <= 0xffffffff:
		return 26
	default:
		return 27
	}
}

// expect reads a head of the given major type; it names what it found otherwise.
func (r *reader) expect(major byte) (item, *DecodeError) {
	if r.off < len(r.b) && r.b[r.off]>>5 != major {
		return item{}, r.typeErr(majorName(major))
	}
	return r.head()
}

func (r *reader) typeErr(want string) *DecodeError {
	got := "end of input"
	if r.off < len(r.b) {
		got = describe(r.b[r.off])
	}
	return decErr(ErrType, r.off, "want "+want+", got "+got)
}

// payload returns the n content bytes of a string item, aliasing the input.
func (r *reader) payload(it item) ([]byte, *DecodeError) {
	if it.arg > uint64(len(r.b)-r.off) {
		return nil, decErr(ErrTruncated, it.start, "string of "+strconv.FormatUint(it.arg, 10)+" bytes runs past the end of input")
	}
	p := r.b[r.off : r.off+int(it.arg) : r.off+int(it.arg)]
	r.off += int(it.arg)
	return p, nil
}

// bytes reads a byte string; the result aliases the input.
func (r *reader) bytes() ([]byte, *DecodeError) {
	it, err := r.expect(majBytes)
	if err != nil {
		return nil, err
	}
	return r.payload(it)
}

// textBytes reads a text string and checks UTF-8; the result aliases the input.
func (r *reader) textBytes() ([]byte, *DecodeError) {
	it, err := r.expect(majText)
	if err != nil {
		return nil, err
	}
	p, err := r.payload(it)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(p) {
		return nil, decErr(ErrUTF8, it.start, "text string is not valid UTF-8")
	}
	return p, nil
}

func (r *reader) text() (string, *DecodeError) {
	p, err := r.textBytes()
	if err != nil {
		return "", err
	}
	return intern(p), nil
}

// uint reads an unsigned integer no larger than max.
func (r *reader) uint(max uint64) (uint64, *DecodeError) {
	it, err := r.expect(majUint)
	if err != nil {
		return 0, err
	}
	if it.arg > max {
		return 0, decErr(ErrRange, it.start, strconv.FormatUint(it.arg, 10)+" exceeds maximum "+strconv.FormatUint(max, 10))
	}
	return it.arg, nil
}

// array reads an array head and bounds its claimed length by the bytes left,
// since every element takes at least minElem bytes.
func (r *reader) array(minElem int) (int, *DecodeError) {
	it, err := r.expect(majArray)
	if err != nil {
		return 0, err
	}
	if it.arg > uint64(len(r.b)-r.off)/uint64(minElem) {
		return 0, decErr(ErrTruncated, it.start, "array of "+strconv.FormatUint(it.arg, 10)+" elements runs past the end of input")
	}
	return int(it.arg), nil
}

// isNull consumes a CBOR null if one is next.
func (r *reader) isNull() bool {
	if r.off < len(r.b) && r.b[r.off] == cborNull {
		r.off++
		return true
	}
	return false
}

// messageID reads a MessageId: bstr .size 32 whose first octet is 0x01 (SHA-256).
func (r *reader) messageID() (MessageID, *DecodeError) {
	var id MessageID
	start := r.off
	p, err := r.bytes()
	if err != nil {
		return id, err
	}
	if len(p) != len(id) {
		return id, decErr(ErrIDSize, start, "want 32 bytes, got "+strconv.Itoa(len(p)))
	}
	if p[0] != 0x01 {
		return id, decErr(ErrHashAlg, start, "unknown hash algorithm octet 0x"+strconv.FormatUint(uint64(p[0]), 16))
	}
	copy(id[:], p)
	return id, nil
}

// end checks nothing follows the top-level item.
func (r *reader) end() *DecodeError {
	if r.off != len(r.b) {
		return decErr(ErrTrailingBytes, r.off, strconv.Itoa(len(r.b)-r.off)+" trailing bytes after the data item")
	}
	return nil
}

func majorName(m byte) string {
	return [...]string{"unsigned integer", "negative integer", "byte string", "text string", "array", "map", "tag", "simple value"}[m&7]
}

// describe names the item starting with byte b for "got ..." messages.
func describe(b byte) string {
	switch b {
	case cborFalse, cborTrue:
		return "boolean"
	case cborNull:
		return "null"
	case 0xf7:
		return "undefined"
	case 0xf9, 0xfa, 0xfb:
		return "float"
	}
	return majorName(b >> 5)
}

// intern returns common short strings without allocating.
func intern(p []byte) string {
	switch string(p) {
	case "":
		return ""
	case "text/markdown;variant=GFM-MIMI":
		return "text/markdown;variant=GFM-MIMI"
	case "text/plain;charset=utf-8":
		return "text/plain;charset=utf-8"
	case "text/html;charset=utf-8":
		return "text/html;charset=utf-8"
	case "application/mimi-message-status":
		return "application/mimi-message-status"
	case "en":
		return "en"
	}
	return string(p)
}

// appendHead appends the shortest head for major type m and argument v.
func appendHead(dst []byte, m byte, v uint64) []byte {
	m <<= 5
	switch {
	case v < 24:
		return append(dst, m|byte(v))
	case v <= 0xff:
		return append(dst, m|24, byte(v))
	case v <= 0xffff:
		return append(dst, m|25, byte(v>>8), byte(v))
	case v <= 0xffffffff:
		return append(dst, m|26, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	default:
		return append(dst, m|27, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}

func appendBytes(dst, p []byte) []byte {
	return append(appendHead(dst, majBytes, uint64(len(p))), p...)
}

func appendText(dst []byte, s string) []byte {
	return append(appendHead(dst, majText, uint64(len(s))), s...)
}

// appendInt appends v as a major type 0 or 1 integer.
func appendInt(dst []byte, v int64) []byte {
	if v >= 0 {
		return appendHead(dst, majUint, uint64(v))
	}
	return appendHead(dst, majNeg, uint64(-1-v))
}
