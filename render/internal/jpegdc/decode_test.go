package jpegdc

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readPNM reads the P5/P6 files djpeg writes.
func readPNM(t *testing.T, path string) (w, h, ch int, px []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var magic string
	var maxv int
	n, err := fmt.Sscan(string(data[:min(len(data), 40)]), &magic, &w, &h, &maxv)
	if err != nil || n != 4 || maxv != 255 {
		t.Fatalf("%s: header: %v", path, err)
	}
	ch = map[string]int{"P5": 1, "P6": 3}[magic]
	// the header ends after the single whitespace following maxval
	hdr := len(data) - w*h*ch
	return w, h, ch, data[hdr:]
}

// TestMatchesLibjpeg decodes files libjpeg-turbo's cjpeg wrote in every
// form this package supports and compares them with what djpeg -scale 1/8
// makes of them (testdata/make.sh). Luma must agree within rounding. Colour
// may differ where chroma is subsampled 2×2: libjpeg then scales the
// chroma DCT to 2×2 per block (it has the AC coefficients), where this
// package repeats the chroma block's mean over the MCU, as it does (like
// libjpeg) for every other subsampling.
func TestMatchesLibjpeg(t *testing.T) {
	refs, _ := filepath.Glob("testdata/*.ref.pnm")
	if len(refs) < 14 {
		t.Fatalf("%d reference files; run testdata/make.sh", len(refs))
	}
	for _, ref := range refs {
		name := strings.TrimSuffix(filepath.Base(ref), ".ref.pnm")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", name+".jpg"))
			if err != nil {
				t.Fatal(err)
			}
			img, err := Decode(data, 0)
			if err != nil {
				t.Fatal(err)
			}
			w, h, ch, px := readPNM(t, ref)
			if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
				t.Fatalf("size %v, libjpeg %d×%d", b, w, h)
			}
			if cw, chh, err := Config(data); err != nil || cw != w || chh != h {
				t.Fatalf("Config = %d×%d, %v; want %d×%d", cw, chh, err, w, h)
			}
			luma := px
			if ch == 3 {
				_, _, _, luma = readPNM(t, strings.Replace(ref, ".ref.", ".ref-y.", 1))
			}
			var sum, worstY int
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					r, g, b, _ := img.At(x, y).RGBA()
					got := []int{int(r >> 8), int(g >> 8), int(b >> 8)}
					for c := 0; c < ch; c++ {
						sum += abs(got[c] - int(px[(y*w+x)*ch+c]))
					}
					yy, _, _ := color.RGBToYCbCr(uint8(got[0]), uint8(got[1]), uint8(got[2]))
					worstY = max(worstY, abs(int(yy)-int(luma[y*w+x])))
				}
			}
			mean := float64(sum) / float64(w*h*ch)
			t.Logf("colour mean |Δ| %.2f, luma max |Δ| %d", mean, worstY)
			if worstY > 2 {
				t.Errorf("luma differs from libjpeg's by %d levels", worstY)
			}
			if mean > 8 {
				t.Errorf("colour differs from libjpeg's by %.2f levels on average", mean)
			}
		})
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// TestMatchesFullDecode: the 1/8 image is each 8×8 block's mean of what
// image/jpeg decodes in full, for the luma of a photo-like image of
// random sizes.
func TestMatchesFullDecode(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 12; i++ {
		w, h := 1+rng.IntN(300), 1+rng.IntN(200)
		src := image.NewGray(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				src.Pix[y*src.Stride+x] = uint8(x*255/w/2 + y*255/h/2 + rng.IntN(16))
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 90}); err != nil {
			t.Fatal(err)
		}
		full, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		small, err := Decode(buf.Bytes(), 0)
		if err != nil {
			t.Fatalf("%d×%d: %v", w, h, err)
		}
		g := full.(*image.Gray)
		for by := 0; by < (h+7)/8; by++ {
			for bx := 0; bx < (w+7)/8; bx++ {
				// blocks at the edge hold replicated pixels beyond the image
				if (bx+1)*8 > w || (by+1)*8 > h {
					continue
				}
				sum := 0
				for y := by * 8; y < by*8+8; y++ {
					for x := bx * 8; x < bx*8+8; x++ {
						sum += int(g.Pix[y*g.Stride+x])
					}
				}
				want := (sum + 32) / 64
				got := int(small.(*image.Gray).GrayAt(bx, by).Y)
				if d := got - want; d < -2 || d > 2 {
					t.Fatalf("%d×%d block (%d,%d): %d, full decode's mean %d", w, h, bx, by, got, want)
				}
			}
		}
	}
}

func TestRefusals(t *testing.T) {
	good, err := os.ReadFile("testdata/baseline420.jpg")
	if err != nil {
		t.Fatal(err)
	}
	arith, err := os.ReadFile("testdata/arithmetic.jpg")
	if err != nil {
		t.Fatal(err)
	}
	sof := bytes.Index(good, []byte{0xFF, 0xC0})
	sos := bytes.Index(good, []byte{0xFF, 0xDA})
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := []struct {
		name  string
		data  []byte
		where string // FormatError.Where, or "" for ErrUnsupported
	}{
		{"arithmetic coding", arith, ""},
		{"12-bit", edit(func(b []byte) []byte { b[sof+4] = 12; return b }), ""},
		{"empty", nil, "SOI"},
		{"no SOI", good[2:], "SOI"},
		{"truncated in the scan", good[:sos+400], "entropy data"},
		{"cut before the scan", good[:sos], "marker"},
		{"zero width", edit(func(b []byte) []byte { b[sof+7], b[sof+8] = 0, 0; return b }), "SOF"},
		{"sampling factor 0", edit(func(b []byte) []byte { b[sof+11] = 0x01; return b }), "SOF"},
		{"scan names no component", edit(func(b []byte) []byte { b[sos+5] = 9; return b }), "SOS"},
		{"over the pixel limit", good, "SOF"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			limit := int64(0)
			if c.name == "over the pixel limit" {
				limit = 1000
			}
			img, err := Decode(c.data, limit)
			if img != nil {
				t.Fatal("an image from bad data")
			}
			var fe *FormatError
			switch {
			case c.where == "" && !errors.Is(err, ErrUnsupported):
				t.Fatalf("err = %v, want ErrUnsupported", err)
			case c.where != "" && (!errors.As(err, &fe) || fe.Where != c.where):
				t.Fatalf("err = %v, want a FormatError in %s", err, c.where)
			}
		})
	}
}

// TestColourModel: grey files decode to *image.Gray, colour to NRGBA.
func TestColourModel(t *testing.T) {
	for name, want := range map[string]color.Model{"grey": color.GrayModel, "baseline444": color.NRGBAModel, "rgb": color.NRGBAModel} {
		data, err := os.ReadFile("testdata/" + name + ".jpg")
		if err != nil {
			t.Fatal(err)
		}
		img, err := Decode(data, 0)
		if err != nil {
			t.Fatal(err)
		}
		if img.ColorModel() != want {
			t.Errorf("%s: %v", name, img.ColorModel())
		}
	}
}
