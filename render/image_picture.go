package render

import (
	"image"
	"image/color"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// A Picture is a decoded image scaled down once, when it arrives, to the
// largest thumbnail any width can ask for (the preview); the decoded
// original is dropped. Each width's cells are scaled from the preview once
// and kept, so a row re-rendered at the same width costs a map lookup.

// ImageMode is how images reach the terminal.
type ImageMode uint8

const (
	ImageOff    ImageMode = iota // attachment cards only
	ImageBlocks                  // Unicode half blocks in 24-bit colour: works everywhere
	ImageKitty                   // kitty graphics protocol, Unicode placeholders
	ImageSixel                   // sixel (drawn over reserved blank cells)
)

func (m ImageMode) String() string {
	return [...]string{"off", "blocks", "kitty", "sixel"}[m]
}

// cellPxW × cellPxH is the cell size in pixels the preview is made for:
// kitty scales the preview into the cells itself, so this only bounds
// how much detail is kept.
const cellPxW, cellPxH = 10, 20

// Picture is an image ready to draw in cells. It is immutable except for
// its per-width cache, which its mutex guards.
type Picture struct {
	W, H    int    // the original's size in pixels
	Format  string // png, jpeg, gif, webp
	Scale   int    // the image was decoded at 1/Scale (8: a JPEG's DC coefficients)
	maxCols int
	maxRows int
	preview *image.NRGBA

	mu    sync.Mutex
	sizes map[sizeKey]*sized
}

type sizeKey struct {
	width int
	mode  ImageMode
}

// sized is one width's rendering.
type sized struct {
	cols, rows int
	lines      []string
	kittyID    uint32            // ImageKitty: the image ID the placeholders name
	sixelID    uint32            // ImageSixel: the same for sixel
	sixelPx    *image.NRGBA      // ImageSixel: the pixels drawn, at the last cell size
	sixels     map[[4]int]string // ImageSixel: sequences by row0, rows, cell size
}

// NewPicture scales d down to the preview for thumbnails of at most
// maxCols × maxRows cells.
func NewPicture(d DecodedImage, maxCols, maxRows int) *Picture {
	if maxCols < 1 {
		maxCols = 1
	}
	if maxRows < 1 {
		maxRows = 1
	}
	b := d.Image.Bounds()
	pw, ph := fitPixels(b.Dx(), b.Dy(), maxCols*cellPxW, maxRows*cellPxH)
	return &Picture{W: d.W, H: d.H, Format: d.Format, Scale: max(d.Scale, 1), maxCols: maxCols, maxRows: maxRows,
		preview: scaleBox(d.Image, pw, ph), sizes: map[sizeKey]*sized{}}
}

// fitPixels fits w×h into maxW×maxH, keeping the aspect, never enlarging.
func fitPixels(w, h, maxW, maxH int) (int, int) {
	if w <= maxW && h <= maxH {
		return max(w, 1), max(h, 1)
	}
	if w*maxH > h*maxW { // wider than the box
		return maxW, max(1, (h*maxW+w/2)/w)
	}
	return max(1, (w*maxH+h/2)/h), maxH
}

// Cells is the thumbnail's size in cells at width columns: within the
// configured bounds and the width, the aspect kept (a cell is twice as
// tall as it is wide), never larger than one cell column per pixel.
func (p *Picture) Cells(width int) (cols, rows int) {
	maxC := min(p.maxCols, width)
	if maxC < 1 {
		maxC = 1
	}
	// in half-cell units: a cell is 1 wide and 2 tall
	c, u := fitPixels(p.W, p.H, maxC, 2*p.maxRows)
	return c, (u + 1) / 2
}

// Lines renders the thumbnail for mode at width columns (cached per width).
// For ImageKitty and ImageSixel it also returns the image ID its
// placeholders name (KittyTransmit and SixelSeq take it).
func (p *Picture) Lines(mode ImageMode, width int) ([]string, uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := sizeKey{width, mode}
	if s, ok := p.sizes[k]; ok {
		return s.lines, s.kittyID | s.sixelID
	}
	cols, rows := p.Cells(width)
	s := &sized{cols: cols, rows: rows}
	switch mode {
	case ImageKitty:
		s.kittyID = nextKittyID()
		s.lines = kittyPlaceholders(s.kittyID, cols, rows)
	case ImageSixel:
		s.sixelID = nextSixelID()
		s.lines = sixelPlaceholders(s.sixelID, cols, rows)
	default:
		s.lines = halfBlocks(scaleBox(p.preview, cols, rows*2))
	}
	p.sizes[k] = s
	return s.lines, s.kittyID | s.sixelID
}

// kittySize returns the cell size of the kitty rendering with image ID id.
func (p *Picture) kittySize(id uint32) (cols, rows int, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, s := range p.sizes {
		if k.mode == ImageKitty && s.kittyID == id {
			return s.cols, s.rows, true
		}
	}
	return 0, 0, false
}

// KittyIDs lists the kitty image IDs this picture's renderings use.
func (p *Picture) KittyIDs() []uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []uint32
	for k, s := range p.sizes {
		if k.mode == ImageKitty {
			ids = append(ids, s.kittyID)
		}
	}
	return ids
}

var kittyIDs atomic.Uint32

// nextKittyID gives IDs in 1..2^24-1: the placeholders carry the ID in
// their 24-bit foreground colour.
func nextKittyID() uint32 {
	for {
		id := kittyIDs.Add(1) & 0xffffff
		if id != 0 {
			return id
		}
	}
}

// scaleBox scales src to w×h by averaging up to 4×4 samples of each
// target pixel's source area (enough for a thumbnail, and cheap: the cost
// depends on the target, not on the source's size).
func scaleBox(src image.Image, w, h int) *image.NRGBA {
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if sw <= 0 || sh <= 0 {
		return dst
	}
	if yc, ok := src.(*image.YCbCr); ok {
		scaleYCbCr(dst, yc)
		return dst
	}
	at := pixelReader(src)
	for y := 0; y < h; y++ {
		y0, y1 := b.Min.Y+y*sh/h, b.Min.Y+(y+1)*sh/h
		if y1 <= y0 {
			y1 = y0 + 1
		}
		ny := min(4, y1-y0)
		for x := 0; x < w; x++ {
			x0, x1 := b.Min.X+x*sw/w, b.Min.X+(x+1)*sw/w
			if x1 <= x0 {
				x1 = x0 + 1
			}
			nx := min(4, x1-x0)
			var r, g, bl, a, n uint32
			for j := 0; j < ny; j++ {
				sy := y0 + (2*j+1)*(y1-y0)/(2*ny)
				for i := 0; i < nx; i++ {
					sx := x0 + (2*i+1)*(x1-x0)/(2*nx)
					pr, pg, pb, pa := at(sx, sy)
					r += pr * pa
					g += pg * pa
					bl += pb * pa
					a += pa
					n++
				}
			}
			o := dst.PixOffset(x, y)
			if a > 0 {
				dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2] = uint8(r/a), uint8(g/a), uint8(bl/a)
			}
			dst.Pix[o+3] = uint8(a / n)
		}
	}
	return dst
}

// scaleYCbCr is scaleBox for JPEG's YCbCr: the samples are averaged in
// YCbCr and converted once per target pixel (the conversion is linear, so
// this is the same average), which is most of the cost saved.
func scaleYCbCr(dst *image.NRGBA, src *image.YCbCr) {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	for y := 0; y < h; y++ {
		y0, y1 := b.Min.Y+y*sh/h, b.Min.Y+(y+1)*sh/h
		if y1 <= y0 {
			y1 = y0 + 1
		}
		ny := min(4, y1-y0)
		for x := 0; x < w; x++ {
			x0, x1 := b.Min.X+x*sw/w, b.Min.X+(x+1)*sw/w
			if x1 <= x0 {
				x1 = x0 + 1
			}
			nx := min(4, x1-x0)
			var sy, scb, scr uint32
			for j := 0; j < ny; j++ {
				py := y0 + (2*j+1)*(y1-y0)/(2*ny)
				for i := 0; i < nx; i++ {
					px := x0 + (2*i+1)*(x1-x0)/(2*nx)
					ci := src.COffset(px, py)
					sy += uint32(src.Y[src.YOffset(px, py)])
					scb += uint32(src.Cb[ci])
					scr += uint32(src.Cr[ci])
				}
			}
			n := uint32(nx * ny)
			r, g, bl := color.YCbCrToRGB(uint8(sy/n), uint8(scb/n), uint8(scr/n))
			o := dst.PixOffset(x, y)
			dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2], dst.Pix[o+3] = r, g, bl, 255
		}
	}
}

// pixelReader returns a fast reader of src's non-premultiplied 8-bit
// pixels for the types decoders produce, and a generic one otherwise.
func pixelReader(src image.Image) func(x, y int) (r, g, b, a uint32) {
	switch s := src.(type) {
	case *image.NRGBA:
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			o := s.PixOffset(x, y)
			p := s.Pix[o : o+4 : o+4]
			return uint32(p[0]), uint32(p[1]), uint32(p[2]), uint32(p[3])
		}
	case *image.YCbCr:
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			r, g, b := color.YCbCrToRGB(s.Y[s.YOffset(x, y)], s.Cb[s.COffset(x, y)], s.Cr[s.COffset(x, y)])
			return uint32(r), uint32(g), uint32(b), 255
		}
	case *image.Gray:
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			v := uint32(s.Pix[s.PixOffset(x, y)])
			return v, v, v, 255
		}
	case *image.Paletted:
		pal := make([][4]uint32, len(s.Palette))
		for i, c := range s.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[i] = [4]uint32{uint32(n.R), uint32(n.G), uint32(n.B), uint32(n.A)}
		}
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			i := int(s.Pix[s.PixOffset(x, y)])
			if i >= len(pal) {
				return 0, 0, 0, 0 // an index past the palette: transparent
			}
			p := pal[i]
			return p[0], p[1], p[2], p[3]
		}
	}
	return func(x, y int) (uint32, uint32, uint32, uint32) {
		n := color.NRGBAModel.Convert(src.At(x, y)).(color.NRGBA)
		return uint32(n.R), uint32(n.G), uint32(n.B), uint32(n.A)
	}
}

// halfBlocks draws px two pixel rows per line: ▀ in the top pixel's
// colour on the bottom pixel's. A pixel under half opacity is left to the
// terminal's background.
func halfBlocks(px *image.NRGBA) []string {
	w, h := px.Rect.Dx(), px.Rect.Dy()
	lines := make([]string, 0, (h+1)/2)
	var b strings.Builder
	for y := 0; y < h; y += 2 {
		b.Reset()
		b.Grow(w * 40)
		var fg, bg color.NRGBA
		fgSet, bgSet := false, false
		for x := 0; x < w; x++ {
			top := px.NRGBAAt(x, y)
			bot := color.NRGBA{}
			if y+1 < h {
				bot = px.NRGBAAt(x, y+1)
			}
			topOn, botOn := top.A >= 128, bot.A >= 128
			switch {
			case !topOn && !botOn:
				if bgSet {
					b.WriteString("\x1b[49m")
					bgSet = false
				}
				b.WriteByte(' ')
			case !botOn:
				setColour(&b, 38, top, &fg, &fgSet)
				if bgSet {
					b.WriteString("\x1b[49m")
					bgSet = false
				}
				b.WriteString("▀")
			case !topOn:
				setColour(&b, 38, bot, &fg, &fgSet)
				if bgSet {
					b.WriteString("\x1b[49m")
					bgSet = false
				}
				b.WriteString("▄")
			default:
				setColour(&b, 38, top, &fg, &fgSet)
				setColour(&b, 48, bot, &bg, &bgSet)
				b.WriteString("▀")
			}
		}
		b.WriteString("\x1b[m")
		lines = append(lines, b.String())
	}
	return lines
}

// setColour writes SGR 38 or 48 for c unless it is already in effect.
func setColour(b *strings.Builder, sgr int, c color.NRGBA, cur *color.NRGBA, set *bool) {
	c.A = 255
	if *set && *cur == c {
		return
	}
	*cur, *set = c, true
	var buf [24]byte
	s := append(buf[:0], "\x1b["...)
	s = strconv.AppendInt(s, int64(sgr), 10)
	s = append(s, ";2;"...)
	s = strconv.AppendInt(s, int64(c.R), 10)
	s = append(s, ';')
	s = strconv.AppendInt(s, int64(c.G), 10)
	s = append(s, ';')
	s = strconv.AppendInt(s, int64(c.B), 10)
	s = append(s, 'm')
	b.Write(s)
}
