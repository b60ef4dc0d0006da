package jpegdc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"strconv"
)

// ErrUnsupported is a JPEG this package does not decode (arithmetic
// coding, lossless, 12-bit samples, CMYK, DNL); a full decoder may.
var ErrUnsupported = errors.New("jpegdc: unsupported JPEG")

// FormatError is damaged or invalid data; Where names the marker segment or
// the entropy-coded data.
type FormatError struct {
	Where, Reason string
}

func (e *FormatError) Error() string { return "jpegdc: invalid JPEG " + e.Where + ": " + e.Reason }

func formatErr(where, reason string) error { return &FormatError{where, reason} }

const (
	markerSOI  = 0xD8
	markerEOI  = 0xD9
	markerSOS  = 0xDA
	markerDQT  = 0xDB
	markerDNL  = 0xDC
	markerDRI  = 0xDD
	markerDHT  = 0xC4
	markerSOF0 = 0xC0 // baseline
	markerSOF1 = 0xC1 // extended sequential, Huffman
	markerSOF2 = 0xC2 // progressive, Huffman
	markerAPP0 = 0xE0
	markerAPPE = 0xEE // Adobe
)

type component struct {
	id     uint8
	h, v   int // sampling factors
	tq     uint8
	bw, bh int     // blocks across and down, padded to whole MCUs
	dc     []int32 // the quantised DC coefficient of every block
	pred   int32
	td, ta uint8 // the current scan's DC and AC table selectors
}

type decoder struct {
	data           []byte
	w, h           int
	maxPixels      int64
	frame          bool
	progressive    bool
	comps          []component
	hmax, vmax     int
	mcusX, mcusY   int
	quant          [4][64]uint16
	dcTab, acTab   [4]huffTable
	restart        int
	jfif, adobe    bool
	adobeTransform uint8
	scans          int
	br             bitReader
}

// Config reports the size Decode would return for data without decoding
// it, or the error Decode would give for a header it refuses.
func Config(data []byte) (w, h int, err error) {
	d := &decoder{data: data}
	if err := d.run(true); err != nil {
		return 0, 0, err
	}
	return (d.w + 7) / 8, (d.h + 7) / 8, nil
}

// Decode returns data's image at 1/8 scale: ⌈w/8⌉ × ⌈h/8⌉ pixels, an
// *image.Gray for one component and an *image.NRGBA for three. A frame of
// more than maxPixels full-size pixels is refused before anything is
// allocated.
func Decode(data []byte, maxPixels int64) (image.Image, error) {
	d := &decoder{data: data, maxPixels: maxPixels}
	if err := d.run(false); err != nil {
		return nil, err
	}
	return d.image()
}

func (d *decoder) run(headerOnly bool) error {
	if len(d.data) < 2 || d.data[0] != 0xFF || d.data[1] != markerSOI {
		return formatErr("SOI", "missing")
	}
	pos := 2
	for {
		// markers may be preceded by any number of 0xFF fill bytes
		if pos >= len(d.data) || d.data[pos] != 0xFF {
			return formatErr("marker", "expected at offset "+strconv.Itoa(pos))
		}
		for pos < len(d.data) && d.data[pos] == 0xFF {
			pos++
		}
		if pos >= len(d.data) {
			return formatErr("marker", "data ends in fill bytes")
		}
		m := d.data[pos]
		pos++
		switch {
		case m == markerEOI:
			if d.scans == 0 {
				return formatErr("EOI", "no scan before the end")
			}
			return nil
		case m >= 0xD0 && m <= 0xD7 || m == 0x01:
			continue // RSTn out of place, TEM: no segment
		}
		if pos+2 > len(d.data) {
			return formatErr(markerName(m), "length missing")
		}
		n := int(binary.BigEndian.Uint16(d.data[pos:]))
		if n < 2 || pos+n > len(d.data) {
			return formatErr(markerName(m), "length "+strconv.Itoa(n)+" past the data")
		}
		seg := d.data[pos+2 : pos+n]
		pos += n
		var err error
		switch m {
		case markerSOF0, markerSOF1, markerSOF2:
			err = d.sof(seg, m == markerSOF2)
			if err == nil && headerOnly {
				return nil
			}
		case 0xC3, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, markerDNL:
			return ErrUnsupported
		case markerDHT:
			err = d.dht(seg)
		case markerDQT:
			err = d.dqt(seg)
		case markerDRI:
			if len(seg) != 2 {
				return formatErr("DRI", "length")
			}
			d.restart = int(binary.BigEndian.Uint16(seg))
		case markerAPP0:
			d.jfif = len(seg) >= 5 && string(seg[:5]) == "JFIF\x00"
		case markerAPPE:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				d.adobe, d.adobeTransform = true, seg[11]
			}
		case markerSOS:
			if headerOnly {
				return formatErr("SOS", "before the frame header")
			}
			pos, err = d.sos(seg, pos)
		}
		if err != nil {
			return err
		}
	}
}

func (d *decoder) sof(seg []byte, progressive bool) error {
	if d.frame {
		return formatErr("SOF", "a second frame header")
	}
	if len(seg) < 6 {
		return formatErr("SOF", "too short")
	}
	if seg[0] != 8 {
		return ErrUnsupported // 12-bit samples
	}
	d.h = int(binary.BigEndian.Uint16(seg[1:]))
	d.w = int(binary.BigEndian.Uint16(seg[3:]))
	nc := int(seg[5])
	if d.h == 0 {
		return ErrUnsupported // height from a DNL marker
	}
	if d.w == 0 {
		return formatErr("SOF", "width 0")
	}
	if nc != 1 && nc != 3 {
		return ErrUnsupported // CMYK, YCCK, or two components
	}
	if len(seg) != 6+3*nc {
		return formatErr("SOF", "length does not match "+strconv.Itoa(nc)+" components")
	}
	if d.maxPixels > 0 && int64(d.w)*int64(d.h) > d.maxPixels {
		return formatErr("SOF", strconv.Itoa(d.w)+"×"+strconv.Itoa(d.h)+" is over the pixel limit")
	}
	d.comps = make([]component, nc)
	d.hmax, d.vmax = 1, 1
	for i := range d.comps {
		c := &d.comps[i]
		b := seg[6+3*i:]
		c.id, c.h, c.v, c.tq = b[0], int(b[1]>>4), int(b[1]&15), b[2]
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return formatErr("SOF", "sampling factor out of 1..4")
		}
		if c.tq > 3 {
			return formatErr("SOF", "quantisation table selector over 3")
		}
		for j := 0; j < i; j++ {
			if d.comps[j].id == c.id {
				return formatErr("SOF", "two components with one ID")
			}
		}
		d.hmax, d.vmax = max(d.hmax, c.h), max(d.vmax, c.v)
	}
	if nc == 1 {
		// a single component's MCU is one block whatever its factors say
		d.comps[0].h, d.comps[0].v, d.hmax, d.vmax = 1, 1, 1, 1
	}
	for i := range d.comps {
		c := &d.comps[i]
		if d.hmax%c.h != 0 || d.vmax%c.v != 0 {
			return ErrUnsupported // non-integral sampling ratios
		}
	}
	d.mcusX = (d.w + 8*d.hmax - 1) / (8 * d.hmax)
	d.mcusY = (d.h + 8*d.vmax - 1) / (8 * d.vmax)
	d.progressive = progressive
	d.frame = true
	return nil
}

func (d *decoder) allocate() {
	for i := range d.comps {
		c := &d.comps[i]
		if c.dc == nil {
			c.bw, c.bh = d.mcusX*c.h, d.mcusY*c.v
			c.dc = make([]int32, c.bw*c.bh)
		}
	}
}

func (d *decoder) dht(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return formatErr("DHT", "too short")
		}
		class, id := seg[0]>>4, seg[0]&15
		if class > 1 || id > 3 {
			return formatErr("DHT", "table class or ID out of range")
		}
		var counts [16]uint8
		copy(counts[:], seg[1:17])
		total := 0
		for _, c := range counts {
			total += int(c)
		}
		if total == 0 || total > 256 || len(seg) < 17+total {
			return formatErr("DHT", "symbol count "+strconv.Itoa(total))
		}
		t := &d.dcTab[id]
		if class == 1 {
			t = &d.acTab[id]
		}
		if err := t.build(&counts, seg[17:17+total]); err != nil {
			return err
		}
		seg = seg[17+total:]
	}
	return nil
}

func (d *decoder) dqt(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, seg[0]&15
		if tq > 3 || pq > 1 {
			return formatErr("DQT", "precision or table ID out of range")
		}
		n := 1 + 64*(1+int(pq))
		if len(seg) < n {
			return formatErr("DQT", "too short")
		}
		for k := 0; k < 64; k++ {
			if pq == 0 {
				d.quant[tq][k] = uint16(seg[1+k])
			} else {
				d.quant[tq][k] = binary.BigEndian.Uint16(seg[1+2*k:])
			}
		}
		seg = seg[n:]
	}
	return nil
}

// sos decodes (or, for a progressive AC scan, skips) one scan whose
// entropy-coded data starts at pos, and returns where the next marker is.
func (d *decoder) sos(seg []byte, pos int) (int, error) {
	if !d.frame {
		return pos, formatErr("SOS", "before the frame header")
	}
	if len(seg) < 1 {
		return pos, formatErr("SOS", "too short")
	}
	ns := int(seg[0])
	if ns < 1 || ns > len(d.comps) || len(seg) != 4+2*ns {
		return pos, formatErr("SOS", "component count "+strconv.Itoa(ns))
	}
	scan := make([]*component, ns)
	for i := range scan {
		id, tables := seg[1+2*i], seg[2+2*i]
		for j := range d.comps {
			if d.comps[j].id == id {
				scan[i] = &d.comps[j]
			}
		}
		if scan[i] == nil {
			return pos, formatErr("SOS", "component ID not in the frame")
		}
		scan[i].td, scan[i].ta = tables>>4, tables&15
		if scan[i].td > 3 || scan[i].ta > 3 {
			return pos, formatErr("SOS", "table selector over 3")
		}
	}
	ss, se, ah, al := seg[1+2*ns], seg[2+2*ns], seg[3+2*ns]>>4, seg[3+2*ns]&15
	d.allocate()
	d.scans++
	if d.progressive {
		if ss > 63 || se > 63 || se < ss || al > 13 || (ss == 0) != (se == 0) {
			return pos, formatErr("SOS", "spectral selection or approximation out of range")
		}
		if ss > 0 {
			// an AC scan: not needed at 1/8 scale
			next, _ := nextMarker(d.data, pos)
			return next, nil
		}
	} else if ss != 0 || se != 63 || ah != 0 || al != 0 {
		return pos, formatErr("SOS", "a sequential scan must cover coefficients 0..63")
	}
	for _, c := range scan {
		if !d.dcTab[c.td].defined && !(d.progressive && ah > 0) {
			return pos, formatErr("SOS", "DC Huffman table "+strconv.Itoa(int(c.td))+" not defined")
		}
		if !d.progressive && !d.acTab[c.ta].defined {
			return pos, formatErr("SOS", "AC Huffman table "+strconv.Itoa(int(c.ta))+" not defined")
		}
		c.pred = 0
	}
	d.br = bitReader{data: d.data, pos: pos}
	var err error
	if ns == 1 {
		err = d.scanOne(scan[0], ah, al)
	} else {
		err = d.scanInterleaved(scan, ah, al)
	}
	if err != nil {
		return pos, err
	}
	if d.br.truncated() {
		return pos, formatErr("entropy data", "ends before the scan does")
	}
	next, ok := nextMarker(d.data, d.br.pos)
	if !ok {
		return next, formatErr("entropy data", "no marker after the scan")
	}
	return next, nil
}

// scanOne decodes a non-interleaved scan: one block per MCU, covering
// only the component's own blocks (not the MCU padding).
func (d *decoder) scanOne(c *component, ah, al uint8) error {
	cw := (d.w*c.h + d.hmax - 1) / d.hmax
	ch := (d.h*c.v + d.vmax - 1) / d.vmax
	bw, bh := (cw+7)/8, (ch+7)/8
	n := 0
	for by := 0; by < bh; by++ {
		for bx := 0; bx < bw; bx++ {
			if err := d.restartIf(n, []*component{c}); err != nil {
				return err
			}
			if err := d.block(c, by*c.bw+bx, ah, al); err != nil {
				return err
			}
			n++
		}
	}
	return nil
}

func (d *decoder) scanInterleaved(scan []*component, ah, al uint8) error {
	n := 0
	for my := 0; my < d.mcusY; my++ {
		for mx := 0; mx < d.mcusX; mx++ {
			if err := d.restartIf(n, scan); err != nil {
				return err
			}
			for _, c := range scan {
				for v := 0; v < c.v; v++ {
					row := (my*c.v + v) * c.bw
					for h := 0; h < c.h; h++ {
						if err := d.block(c, row+mx*c.h+h, ah, al); err != nil {
							return err
						}
					}
				}
			}
			n++
		}
	}
	return nil
}

// restartIf expects a restart marker before MCU n when the restart
// interval says one is due, and resets the predictions after it.
func (d *decoder) restartIf(n int, scan []*component) error {
	if d.br.truncated() {
		return formatErr("entropy data", "ends before the scan does")
	}
	if d.restart == 0 || n == 0 || n%d.restart != 0 {
		return nil
	}
	p, _ := nextRST(d.data, d.br.pos, d.br.marker)
	if p < 0 {
		return formatErr("entropy data", "restart marker missing")
	}
	d.br.reset(p)
	for _, c := range scan {
		c.pred = 0
	}
	return nil
}

// nextRST finds the restart marker at or just after pos and returns the
// offset after it: at the marker when the reader stopped at one, else
// after the at most 7 bytes the reader may have read ahead and skipping
// no other marker.
func nextRST(data []byte, pos int, atMarker bool) (int, bool) {
	if !atMarker {
		for pos+1 < len(data) && !(data[pos] == 0xFF && data[pos+1] != 0) {
			pos++
		}
	}
	if pos+1 < len(data) && data[pos] == 0xFF && data[pos+1] >= 0xD0 && data[pos+1] <= 0xD7 {
		return pos + 2, true
	}
	return -1, false
}

// block reads one block's coefficients and keeps its DC.
func (d *decoder) block(c *component, i int, ah, al uint8) error {
	br := &d.br
	if d.progressive && ah > 0 {
		if br.bit() {
			c.dc[i] |= 1 << al
		}
		return nil
	}
	s, err := br.decode(&d.dcTab[c.td])
	if err != nil {
		return err
	}
	if s > 11 {
		return formatErr("entropy data", "DC difference of "+strconv.Itoa(int(s))+" bits")
	}
	c.pred += br.receiveExtend(s)
	c.dc[i] = c.pred << al
	if d.progressive {
		return nil
	}
	ac := &d.acTab[c.ta]
	for k := 1; k < 64; {
		if br.nbits < skipBits {
			br.fill()
		}
		if e := ac.skip[br.acc>>(64-skipBits)]; e != 0 {
			n := uint(e & 31)
			br.acc <<= n
			br.nbits -= n
			switch e & (3 << 5) {
			case skipCoef:
				k += int(e >> 8)
				continue
			case skipZRL:
				k += 16
				continue
			}
			break // end of block
		}
		rs, err := br.decode(ac)
		if err != nil {
			return err
		}
		r, s := int(rs>>4), uint(rs&15)
		if s == 0 {
			if r != 15 {
				break // end of block
			}
			k += 16
			continue
		}
		// a run past coefficient 63 ends the block, as image/jpeg and
		// libjpeg read it
		k += r + 1
		br.skip(s)
	}
	return nil
}

// image turns the DC coefficients into pixels: a DC-only block's inverse
// DCT is DC×q/8 everywhere, plus the level shift of 128.
func (d *decoder) image() (image.Image, error) {
	if d.scans == 0 {
		return nil, formatErr("SOS", "no scan")
	}
	ow, oh := (d.w+7)/8, (d.h+7)/8
	planes := make([][]uint8, len(d.comps))
	for i := range d.comps {
		c := &d.comps[i]
		q := int32(d.quant[c.tq][0])
		p := make([]uint8, c.bw*c.bh)
		for j, dc := range c.dc {
			p[j] = clamp((dc*q+4)>>3 + 128)
		}
		planes[i] = p
	}
	if len(d.comps) == 1 {
		c := &d.comps[0]
		img := image.NewGray(image.Rect(0, 0, ow, oh))
		for y := 0; y < oh; y++ {
			copy(img.Pix[y*img.Stride:y*img.Stride+ow], planes[0][y*c.bw:])
		}
		return img, nil
	}
	rgb := d.isRGB()
	img := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < oh; y++ {
		var rows [3][]uint8
		var xs [3]int
		for i := range d.comps {
			c := &d.comps[i]
			rows[i] = planes[i][(y*c.v/d.vmax)*c.bw:]
			xs[i] = d.hmax / c.h
		}
		out := img.Pix[y*img.Stride:]
		for x := 0; x < ow; x++ {
			a, b, cc := rows[0][x/xs[0]], rows[1][x/xs[1]], rows[2][x/xs[2]]
			if !rgb {
				a, b, cc = color.YCbCrToRGB(a, b, cc)
			}
			out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = a, b, cc, 0xFF
		}
	}
	return img, nil
}

// isRGB says whether three components are R, G, B rather than YCbCr, the
// way libjpeg and image/jpeg decide.
func (d *decoder) isRGB() bool {
	if d.adobe {
		return d.adobeTransform == 0
	}
	if d.jfif {
		return false
	}
	return d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B'
}

func clamp(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

func markerName(m byte) string {
	switch m {
	case markerDHT:
		return "DHT"
	case markerDQT:
		return "DQT"
	case markerSOS:
		return "SOS"
	case markerDRI:
		return "DRI"
	}
	if m >= 0xC0 && m <= 0xCF {
		return "SOF"
	}
	return fmt.Sprintf("segment 0xFF%02X", m)
}
