package jpegdc

// lutBits is how many bits a Huffman table looks up at once; longer codes
// (rare: JPEG's common tables put almost every symbol within 9 bits) take
// the canonical-code walk.
const lutBits = 9

// skipBits is how many bits an AC table's skip table looks up: a code and
// the coefficient bits after it, which a DC-only decode skips together.
const skipBits = 11

// skip table entries: the bits to drop (low 5 bits), what the symbol is,
// and for a coefficient the run of zeros before it plus one (high byte).
const (
	skipCoef = 1 << 5
	skipEOB  = 2 << 5
	skipZRL  = 3 << 5
)

// huffTable is one DHT table. lut[peek] is length<<8 | symbol for codes of
// at most lutBits bits, 0 for longer ones. skip[peek] (AC tables) reads a
// code and skips its coefficient's bits at once when both fit in
// skipBits, 0 otherwise.
type huffTable struct {
	defined bool
	lut     [1 << lutBits]uint16
	skip    [1 << skipBits]uint16
	maxCode [17]int32 // the largest code of each length, -1 if none
	valPtr  [17]int32 // index in vals of the first code of each length
	minCode [17]int32
	vals    [256]uint8
}

// build makes the table from the counts of codes of each length (1..16)
// and their symbols, as DHT gives them (ITU T.81 Annex C).
func (t *huffTable) build(counts *[16]uint8, symbols []uint8) error {
	*t = huffTable{defined: true}
	copy(t.vals[:], symbols)
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		t.valPtr[l] = k
		t.minCode[l] = code
		t.maxCode[l] = -1
		if n > 0 {
			if code+n > 1<<l {
				return formatErr("DHT", "more codes than bits for their length")
			}
			for i := int32(0); i < n; i++ {
				t.setSkip(l, code, symbols[k+i])
				if l <= lutBits {
					shift := lutBits - l
					e := uint16(l)<<8 | uint16(symbols[k+i])
					for j := code << shift; j < (code+1)<<shift; j++ {
						t.lut[j] = e
					}
				}
				code++
			}
			t.maxCode[l] = code - 1
			k += n
		}
		code <<= 1
	}
	return nil
}

// setSkip fills the skip entries of the code of length l (for AC symbol
// rs) when the code and its coefficient bits fit in skipBits.
func (t *huffTable) setSkip(l int, code int32, rs uint8) {
	r, s := int(rs>>4), int(rs&15)
	var e uint16
	switch {
	case l+s > skipBits:
		return
	case s != 0:
		e = uint16(l+s) | skipCoef | uint16(r+1)<<8
	case r == 15:
		e = uint16(l) | skipZRL
	default:
		e = uint16(l) | skipEOB // (r, 0) with r < 15 ends the block
	}
	shift := skipBits - l
	for j := code << shift; j < (code+1)<<shift; j++ {
		t.skip[j] = e
	}
}

// bitReader reads entropy-coded data MSB first, removing the 0x00 stuffed
// after each 0xFF. At a marker (or the end of the data) it feeds zero bits
// and counts them in pad, so a block that uses them is known to be
// truncated.
type bitReader struct {
	data   []byte
	pos    int
	acc    uint64 // the next bits, MSB-aligned
	nbits  uint
	marker bool // pos is at a marker (0xFF not followed by 0x00)
	pad    uint // zero bits fed past the data
}

func (r *bitReader) reset(pos int) {
	r.pos, r.acc, r.nbits, r.marker, r.pad = pos, 0, 0, false, 0
}

// fill tops the accumulator up to at least 57 bits.
func (r *bitReader) fill() {
	for r.nbits <= 56 {
		var b byte
		switch {
		case r.marker || r.pos >= len(r.data):
			r.pad += 8
		case r.data[r.pos] != 0xFF:
			b = r.data[r.pos]
			r.pos++
		case r.pos+1 < len(r.data) && r.data[r.pos+1] == 0:
			b = 0xFF
			r.pos += 2
		default:
			r.marker = true
			r.pad += 8
		}
		r.acc |= uint64(b) << (56 - r.nbits)
		r.nbits += 8
	}
}

// truncated reports whether bits past the data were consumed.
func (r *bitReader) truncated() bool { return r.pad > r.nbits }

func (r *bitReader) skip(n uint) {
	if r.nbits < n {
		r.fill()
	}
	r.acc <<= n
	r.nbits -= n
}

func (r *bitReader) bit() bool {
	if r.nbits < 1 {
		r.fill()
	}
	b := r.acc>>63 == 1
	r.acc <<= 1
	r.nbits--
	return b
}

// receiveExtend reads s bits (s ≤ 16) as a signed magnitude (T.81 F.2.2.1).
func (r *bitReader) receiveExtend(s uint8) int32 {
	if s == 0 {
		return 0
	}
	if r.nbits < uint(s) {
		r.fill()
	}
	v := int32(r.acc >> (64 - uint(s)))
	r.acc <<= s
	r.nbits -= uint(s)
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

// decode reads one Huffman-coded symbol.
func (r *bitReader) decode(t *huffTable) (uint8, error) {
	if r.nbits < 16 {
		r.fill()
	}
	if e := t.lut[r.acc>>(64-lutBits)]; e != 0 {
		n := uint(e >> 8)
		r.acc <<= n
		r.nbits -= n
		return uint8(e), nil
	}
	for l := lutBits + 1; l <= 16; l++ {
		code := int32(r.acc >> (64 - uint(l)))
		if code <= t.maxCode[l] && t.maxCode[l] >= 0 {
			r.acc <<= uint(l)
			r.nbits -= uint(l)
			return t.vals[t.valPtr[l]+code-t.minCode[l]], nil
		}
	}
	return 0, formatErr("entropy data", "no Huffman code matches")
}

// nextMarker moves pos to the next marker that is not a restart marker
// (what follows a skipped scan) and returns false if there is none.
func nextMarker(data []byte, pos int) (int, bool) {
	for i := pos; i+1 < len(data); i++ {
		if data[i] != 0xFF {
			continue
		}
		m := data[i+1]
		if m == 0 || m == 0xFF || (m >= 0xD0 && m <= 0xD7) {
			continue
		}
		return i, true
	}
	return len(data), false
}
