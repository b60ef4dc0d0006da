package render

import (
	"image"
	"image/color/palette"
	"image/draw"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// Sixel images are drawn by the terminal over cells the frame reserves:
// each reserved row is U+2800 (braille blank) cells whose 24-bit
// foreground colour holds the image's sixel ID and the row's index in the
// image, so the UI finds in the composed frame where each image is and
// which of its rows are on screen (VisibleSixels), and draws exactly those
// rows there after the frame (SixelSeq). Sixel pixels are not cells: the UI
// repaints the screen before drawing when images moved (ui/image.go).

const sixelCell = '\u2800'

// sixelPlaceholders are rows × cols reserved cells for sixel image id.
func sixelPlaceholders(id uint32, cols, rows int) []string {
	out := make([]string, rows)
	blank := strings.Repeat(string(sixelCell), cols)
	for r := 0; r < rows; r++ {
		v := id<<8 | uint32(r)
		out[r] = "\x1b[38;2;" + strconv.Itoa(int(v>>16&0xff)) + ";" + strconv.Itoa(int(v>>8&0xff)) + ";" +
			strconv.Itoa(int(v&0xff)) + "m" + blank + "\x1b[39m"
	}
	return out
}

// SixelSpot is where a sixel image is on screen: its top visible row at
// cell X, Y (0-based), Row0 the image row shown there, Rows how many.
type SixelSpot struct {
	ID         uint32
	X, Y       int
	Row0, Rows int
	Cols       int
}

// VisibleSixels finds the sixel images in frame, one spot per image, in
// order of appearance.
func VisibleSixels(frame string) []SixelSpot {
	var spots []SixelSpot
	at := map[uint32]int{}
	for y, line := range strings.Split(frame, "\n") {
		i := strings.IndexRune(line, sixelCell)
		if i < 0 {
			continue
		}
		j := strings.LastIndex(line[:i], "\x1b[38;2;")
		if j < 0 || !strings.HasSuffix(line[:i], "m") {
			continue
		}
		v, ok := parseRGBID(line[j+len("\x1b[38;2;") : i-1])
		if !ok {
			continue
		}
		id, row := v>>8, int(v&0xff)
		if id == 0 {
			continue
		}
		cols := 0
		for k := i; k < len(line); {
			r, n := utf8.DecodeRuneInString(line[k:])
			if r != sixelCell {
				break
			}
			cols++
			k += n
		}
		if n, ok := at[id]; ok {
			s := &spots[n]
			if y == s.Y+s.Rows && row == s.Row0+s.Rows {
				s.Rows++
			}
			continue
		}
		at[id] = len(spots)
		spots = append(spots, SixelSpot{ID: id, X: Width(line[:i]), Y: y, Row0: row, Rows: 1, Cols: cols})
	}
	return spots
}

var sixelIDs atomic.Uint32

// nextSixelID gives IDs in 1..2^16-1 (the foreground colour holds the ID
// and an 8-bit row).
func nextSixelID() uint32 {
	for {
		if id := sixelIDs.Add(1) & 0xffff; id != 0 {
			return id
		}
	}
}

// SixelSeq draws rows row0 .. row0+rows-1 of sixel image id at the cursor
// (the UI moves it there first): the picture scaled to its cells at
// cellW × cellH pixels a cell (0: 10 × 20), dithered to the web-safe
// palette, transparent where the image is. ok is false for an ID not this
// picture's. The sequences are kept per rows shown.
func (p *Picture) SixelSeq(id uint32, row0, rows, cellW, cellH int) (string, bool) {
	if cellW <= 0 || cellH <= 0 {
		cellW, cellH = cellPxW, cellPxH
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var s *sized
	for k, v := range p.sizes {
		if k.mode == ImageSixel && v.sixelID == id {
			s = v
		}
	}
	if s == nil || row0 < 0 || rows <= 0 || row0+rows > s.rows {
		return "", false
	}
	key := [4]int{row0, rows, cellW, cellH}
	if seq, ok := s.sixels[key]; ok {
		return seq, true
	}
	if s.sixelPx == nil || s.sixelPx.Rect.Dx() != s.cols*cellW || s.sixelPx.Rect.Dy() != s.rows*cellH {
		s.sixelPx = scaleBox(p.preview, s.cols*cellW, s.rows*cellH)
		s.sixels = map[[4]int]string{}
	}
	crop := s.sixelPx.SubImage(image.Rect(0, row0*cellH, s.cols*cellW, (row0+rows)*cellH)).(*image.NRGBA)
	seq := encodeSixel(crop)
	s.sixels[key] = seq
	return seq, true
}

// encodeSixel writes img as a DCS sixel sequence with a transparent
// background (P2 = 1) and raster attributes giving its exact size.
func encodeSixel(img *image.NRGBA) string {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	pal := image.NewPaletted(image.Rect(0, 0, w, h), palette.WebSafe)
	draw.FloydSteinberg.Draw(pal, pal.Rect, img, b.Min)
	var out strings.Builder
	out.WriteString("\x1bP0;1;0q\"1;1;" + strconv.Itoa(w) + ";" + strconv.Itoa(h))
	for i, c := range palette.WebSafe {
		r, g, bl, _ := c.RGBA()
		out.WriteString("#" + strconv.Itoa(i) + ";2;" + strconv.Itoa(int(r*100/0xffff)) + ";" +
			strconv.Itoa(int(g*100/0xffff)) + ";" + strconv.Itoa(int(bl*100/0xffff)))
	}
	opaque := func(x, y int) bool { return img.NRGBAAt(b.Min.X+x, b.Min.Y+y).A >= 128 }
	bits := make([]byte, w)
	for band := 0; band < h; band += 6 {
		used := map[uint8]bool{}
		for y := band; y < min(band+6, h); y++ {
			for x := 0; x < w; x++ {
				if opaque(x, y) {
					used[pal.ColorIndexAt(x, y)] = true
				}
			}
		}
		first := true
		for c := 0; c < len(palette.WebSafe); c++ {
			if !used[uint8(c)] {
				continue
			}
			for x := range bits {
				bits[x] = 0
				for k := 0; k < 6 && band+k < h; k++ {
					if opaque(x, band+k) && pal.ColorIndexAt(x, band+k) == uint8(c) {
						bits[x] |= 1 << k
					}
				}
			}
			if !first {
				out.WriteByte('$')
			}
			first = false
			out.WriteString("#" + strconv.Itoa(c))
			writeSixelRun(&out, bits)
		}
		out.WriteByte('-')
	}
	out.WriteString("\x1b\\")
	return out.String()
}

// writeSixelRun writes one colour's sixels of a band, run-length encoded.
func writeSixelRun(out *strings.Builder, bits []byte) {
	for i := 0; i < len(bits); {
		j := i
		for j < len(bits) && bits[j] == bits[i] {
			j++
		}
		ch := byte('?' + bits[i])
		if n := j - i; n > 3 {
			out.WriteString("!" + strconv.Itoa(n))
			out.WriteByte(ch)
		} else {
			for ; i < j; i++ {
				out.WriteByte(ch)
			}
		}
		i = j
	}
}

// HasSixelID reports whether id names one of p's sixel renderings.
func (p *Picture) HasSixelID(id uint32) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, v := range p.sizes {
		if k.mode == ImageSixel && v.sixelID == id {
			return true
		}
	}
	return false
}
