package render

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// gradient is a w×h test image: red across, green down, opaque.
func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), 128, 255})
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// twoFrameGIF has a red first frame and a blue second one.
func twoFrameGIF(t testing.TB) []byte {
	t.Helper()
	pal := color.Palette{color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 255}}
	f1 := image.NewPaletted(image.Rect(0, 0, 8, 8), pal)
	f2 := image.NewPaletted(image.Rect(0, 0, 8, 8), pal)
	for i := range f2.Pix {
		f2.Pix[i] = 1
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, &gif.GIF{Image: []*image.Paletted{f1, f2}, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngClaiming is a valid 1×1 PNG whose header is rewritten to claim w×h
// (CRC fixed), as an image bomb would.
func pngClaiming(t testing.TB, w, h uint32) []byte {
	t.Helper()
	b := encodePNG(t, gradient(1, 1))
	// signature (8), IHDR length (4), "IHDR" (4), width, height
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// gifClaiming is a GIF whose logical screen is w×h.
func gifClaiming(t testing.TB, w, h uint16) []byte {
	t.Helper()
	b := twoFrameGIF(t)
	binary.LittleEndian.PutUint16(b[6:], w)
	binary.LittleEndian.PutUint16(b[8:], h)
	return b
}

func TestDecodeImage(t *testing.T) {
	webp, err := os.ReadFile("testdata/images/blue-purple-pink.lossy.webp") // from golang.org/x/image's testdata
	if err != nil {
		t.Fatal(err)
	}
	small := ImageLimits{MaxBytes: 1 << 20, MaxPixels: 1_000_000, MaxMemory: 8 << 20}
	tests := []struct {
		name   string
		data   []byte
		lim    ImageLimits
		format string
		w, h   int
		rule   string // expected ImageError rule; "" = decodes
	}{
		{"png", encodePNG(t, gradient(64, 48)), small, "png", 64, 48, ""},
		{"jpeg", encodeJPEG(t, gradient(64, 48)), small, "jpeg", 64, 48, ""},
		{"gif first frame", twoFrameGIF(t), small, "gif", 8, 8, ""},
		{"webp", webp, small, "webp", 0, 0, ""},
		{"png bomb 100000x100000", pngClaiming(t, 100000, 100000), DefaultImageLimits, "", 0, 0, "pixels"},
		{"png over the pixel limit", pngClaiming(t, 2000, 1000), small, "", 0, 0, "pixels"},
		{"png over the memory limit", pngClaiming(t, 1000, 1000), ImageLimits{MaxPixels: 1 << 30, MaxMemory: 1 << 20}, "", 0, 0, "memory"},
		{"png zero width", pngClaiming(t, 0, 10), small, "", 0, 0, "decode"},
		{"gif bomb 65535x65535", gifClaiming(t, 65535, 65535), DefaultImageLimits, "", 0, 0, "pixels"},
		{"too many bytes", encodePNG(t, gradient(64, 48)), ImageLimits{MaxBytes: 100}, "", 0, 0, "size"},
		{"truncated png", encodePNG(t, gradient(64, 48))[:60], small, "", 0, 0, "decode"},
		{"GIF header claiming 25120×29813", []byte("GIF89a but not really"), small, "", 0, 0, "pixels"},
		{"text", []byte("hello"), small, "", 0, 0, "decode"},
		{"empty", nil, small, "", 0, 0, "decode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := DecodeImage(tc.data, tc.lim)
			if tc.rule != "" {
				var ie *ImageError
				if !errors.As(err, &ie) || ie.Rule != tc.rule {
					t.Fatalf("err = %v, want an ImageError of rule %q", err, tc.rule)
				}
				if strings.ContainsAny(err.Error(), "\x1b\x00") {
					t.Fatalf("error text has control characters: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Format != tc.format || (tc.w > 0 && (d.W != tc.w || d.H != tc.h)) {
				t.Fatalf("got %s %d×%d, want %s %d×%d", d.Format, d.W, d.H, tc.format, tc.w, tc.h)
			}
			if tc.name == "gif first frame" {
				r, g, b, _ := d.Image.At(0, 0).RGBA()
				if r>>8 != 255 || g != 0 || b != 0 {
					t.Fatalf("GIF pixel = %d,%d,%d, want the first (red) frame", r>>8, g>>8, b>>8)
				}
			}
		})
	}
}

func TestPictureCells(t *testing.T) {
	tests := []struct {
		name                    string
		w, h, maxC, maxR, width int
		cols, rows              int
	}{
		{"landscape bounded by rows", 4000, 3000, 40, 12, 80, 32, 12},
		{"landscape bounded by width", 4000, 3000, 40, 12, 20, 20, 8},
		{"portrait", 300, 1200, 40, 12, 80, 6, 12},
		{"wide strip", 2000, 10, 40, 12, 80, 40, 1},
		{"tiny is not enlarged", 8, 8, 40, 12, 80, 8, 4},
		{"narrow width", 4000, 3000, 40, 12, 1, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPicture(DecodedImage{Image: gradient(min(tc.w, 200), min(tc.h, 200)), Format: "png", W: tc.w, H: tc.h}, tc.maxC, tc.maxR)
			cols, rows := p.Cells(tc.width)
			if cols != tc.cols || rows != tc.rows {
				t.Fatalf("Cells(%d) = %d×%d, want %d×%d", tc.width, cols, rows, tc.cols, tc.rows)
			}
			for _, mode := range []ImageMode{ImageBlocks, ImageKitty, ImageSixel} {
				lines, _ := p.Lines(mode, tc.width)
				if len(lines) != rows {
					t.Fatalf("%s: %d lines, want %d", mode, len(lines), rows)
				}
				for i, l := range lines {
					if w := ansi.StringWidth(l); w != cols {
						t.Fatalf("%s line %d is %d wide, want %d: %q", mode, i, w, cols, l)
					}
				}
			}
		})
	}
}

// TestHalfBlocks: each cell is ▀ in the top pixel's colour on the bottom
// pixel's; transparent halves are left to the terminal (▄ or a space).
func TestHalfBlocks(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	red, blue := color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 255}
	img.SetNRGBA(0, 0, red)
	img.SetNRGBA(0, 1, blue)
	img.SetNRGBA(1, 1, blue) // top transparent
	// (2,*) both transparent
	got := halfBlocks(img)
	want := "\x1b[38;2;255;0;0m\x1b[48;2;0;0;255m▀\x1b[38;2;0;0;255m\x1b[49m▄ \x1b[m"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestPictureCachedPerWidth: a width's lines are computed once.
func TestPictureCachedPerWidth(t *testing.T) {
	p := NewPicture(DecodedImage{Image: gradient(100, 80), Format: "png", W: 100, H: 80}, 40, 12)
	a, _ := p.Lines(ImageBlocks, 60)
	b, _ := p.Lines(ImageBlocks, 60)
	if &a[0] != &b[0] {
		t.Fatal("second call rendered again")
	}
	c, _ := p.Lines(ImageBlocks, 20)
	if len(c[0]) == len(a[0]) && c[0] == a[0] {
		t.Fatal("another width gave the same lines")
	}
}

// TestKittyPlaceholders: the placeholders name the image in their colour,
// are found in a frame again, and the transmit and placement sequences
// carry the same ID and size.
func TestKittyPlaceholders(t *testing.T) {
	p := NewPicture(DecodedImage{Image: gradient(100, 80), Format: "png", W: 100, H: 80}, 20, 6)
	lines, id := p.Lines(ImageKitty, 40)
	if id == 0 {
		t.Fatal("no kitty ID")
	}
	frame := "header\n  " + strings.Join(lines, "\n  ") + "\nfooter " + strings.Join(lines[:1], "")
	if got := VisibleKittyIDs(frame); len(got) != 1 || got[0] != id {
		t.Fatalf("VisibleKittyIDs = %v, want [%d]", got, id)
	}
	if got := VisibleKittyIDs("no images here"); len(got) != 0 {
		t.Fatalf("VisibleKittyIDs = %v on a frame without placeholders", got)
	}
	cols, rows := p.Cells(40)
	seq, ok := p.KittyTransmit(id)
	if !ok {
		t.Fatal("KittyTransmit: unknown ID")
	}
	for _, want := range []string{"i=" + strconv.Itoa(int(id)), "U=1", "a=T", "o=z", "q=2", "c=" + strconv.Itoa(cols), "r=" + strconv.Itoa(rows)} {
		if !strings.Contains(seq, want) {
			t.Errorf("transmit sequence lacks %s", want)
		}
	}
	place, _ := p.KittyPlace(id)
	if !strings.Contains(place, "a=p") || !strings.Contains(place, "i="+strconv.Itoa(int(id))) {
		t.Errorf("place = %q", place)
	}
	if _, ok := p.KittyTransmit(id + 1000); ok {
		t.Error("KittyTransmit accepted an ID that is not the picture's")
	}
	if h := KittyHide(id); !strings.Contains(h, "d=i") || !strings.Contains(h, "a=d") {
		t.Errorf("hide = %q", h)
	}
	if f := KittyFree(id); !strings.Contains(f, "d=I") {
		t.Errorf("free = %q", f)
	}
}

// TestImageRows: a row shows the loading line, the thumbnail with its
// size, or a card saying why the image is not shown; every line fits.
func TestImageRows(t *testing.T) {
	th := testTheme(t)
	d, err := DecodeImage(encodePNG(t, gradient(64, 48)), DefaultImageLimits)
	if err != nil {
		t.Fatal(err)
	}
	pic := NewPicture(d, 40, 12)
	_, bomb := DecodeImage(pngClaiming(t, 100000, 100000), DefaultImageLimits)
	for _, tc := range []struct {
		img  InlineImage
		want string
	}{
		{InlineImage{State: ImageLoading}, "loading image"},
		{InlineImage{State: ImageReady, Mode: ImageBlocks, Pic: pic}, "64×48 png"},
		{InlineImage{State: ImageRefused, Note: bomb.Error()}, "over the 24.0 M limit"},
	} {
		m := Message{Kind: RowMessage, ID: [32]byte{1}, Current: [32]byte{1}, Name: "Bob", Time: t0, Body: md("look"), Images: [MaxInlineImages]InlineImage{tc.img}}
		for _, w := range []int{24, 80} {
			lines := RenderMessage(&m, w, th)
			txt := ansi.Strip(strings.Join(lines, "\n"))
			if w == 80 && !strings.Contains(txt, tc.want) {
				t.Errorf("state %d: %q lacks %q", tc.img.State, txt, tc.want)
			}
			for i, l := range lines {
				if lw := ansi.StringWidth(l); lw > w {
					t.Errorf("state %d width %d: line %d is %d wide", tc.img.State, w, i, lw)
				}
			}
		}
	}
}

// TestSixelPlaceholders: the frame's reserved cells give each image's
// place, its first visible row and how many rows show, also when the
// image is cut at the top by the pane.
func TestSixelPlaceholders(t *testing.T) {
	p := NewPicture(DecodedImage{Image: gradient(100, 80), Format: "png", W: 100, H: 80}, 20, 6)
	lines, id := p.Lines(ImageSixel, 40)
	cols, rows := p.Cells(40)
	if len(lines) != rows || id == 0 {
		t.Fatalf("%d lines, id %d", len(lines), id)
	}
	frame := "top\n" + strings.Join(prefix("│  ", lines[2:]), "\n") + "\nbottom"
	got := VisibleSixels(frame)
	want := []SixelSpot{{ID: id, X: 3, Y: 1, Row0: 2, Rows: rows - 2, Cols: cols}}
	if len(got) != 1 || got[0] != want[0] {
		t.Fatalf("VisibleSixels = %+v, want %+v", got, want)
	}
	seq, ok := p.SixelSeq(id, 2, rows-2, 10, 20)
	if !ok {
		t.Fatal("SixelSeq: unknown ID")
	}
	head := "\x1bP0;1;0q\"1;1;" + strconv.Itoa(cols*10) + ";" + strconv.Itoa((rows-2)*20)
	if !strings.HasPrefix(seq, head) || !strings.HasSuffix(seq, "\x1b\\") {
		t.Fatalf("sixel sequence starts %q, want %q", seq[:min(len(seq), 40)], head)
	}
	if bands := strings.Count(seq, "-"); bands != ((rows-2)*20+5)/6 {
		t.Errorf("%d bands, want %d", bands, ((rows-2)*20+5)/6)
	}
	if again, _ := p.SixelSeq(id, 2, rows-2, 10, 20); again != seq {
		t.Error("a second call gave another sequence")
	}
	if _, ok := p.SixelSeq(id, rows-1, 2, 10, 20); ok {
		t.Error("SixelSeq accepted rows past the image")
	}
}

func prefix(p string, lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = p + l
	}
	return out
}

// TestEncodeSixel: one red pixel over a transparent one, on a band of 2
// rows: colour 180 (web-safe red) with bit 0 set, nothing for the
// transparent pixel.
func TestEncodeSixel(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 1, 2))
	img.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	seq := encodeSixel(img)
	const last = "#215;2;100;100;100" // the palette's last entry
	body := seq[strings.Index(seq, last)+len(last):]
	if want := "#180@-\x1b\\"; body != want {
		t.Fatalf("pixels = %q, want %q", body, want)
	}
}
