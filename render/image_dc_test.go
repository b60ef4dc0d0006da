package render

import (
	"image"
	"image/color"
	"os"
	"testing"
)

// TestDecodePictureDC: a JPEG whose 1/8 scale covers the preview is
// decoded from its DC coefficients, and the thumbnail it makes is the one
// a full decode makes, within a few levels per cell colour; a smaller one,
// or one jpegdc does not take, is decoded in full.
func TestDecodePictureDC(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 1600, 1200))
	for y := 0; y < 1200; y++ {
		for x := 0; x < 1600; x++ {
			src.SetNRGBA(x, y, color.NRGBA{uint8(x * 200 / 1600), uint8(y * 200 / 1200), uint8(40 + (x/200+y/200)%2*150), 255})
		}
	}
	data := encodeJPEG(t, src)
	cases := []struct {
		cols, rows int
		scale      int
	}{
		{10, 3, 8},  // preview 80×60 ≤ 200×150: DC
		{20, 6, 8},  // 160×120: DC
		{40, 12, 1}, // 320×240 > 200×150: full
	}
	for _, c := range cases {
		pic, err := DecodePicture(data, DefaultImageLimits, c.cols, c.rows)
		if err != nil {
			t.Fatal(err)
		}
		if pic.Scale != c.scale || pic.W != 1600 || pic.H != 1200 || pic.Format != "jpeg" {
			t.Fatalf("%d×%d cells: scale %d, %d×%d %s", c.cols, c.rows, pic.Scale, pic.W, pic.H, pic.Format)
		}
		d, err := DecodeImage(data, DefaultImageLimits)
		if err != nil {
			t.Fatal(err)
		}
		full := NewPicture(d, c.cols, c.rows)
		if pic.preview.Bounds() != full.preview.Bounds() {
			t.Fatalf("preview %v, full decode's %v", pic.preview.Bounds(), full.preview.Bounds())
		}
		var sum, n int
		for i := range pic.preview.Pix {
			d := int(pic.preview.Pix[i]) - int(full.preview.Pix[i])
			if d < 0 {
				d = -d
			}
			sum += d
			n++
		}
		if mean := float64(sum) / float64(n); mean > 4 {
			t.Errorf("%d×%d cells: the DC preview differs from the full one by %.1f levels on average", c.cols, c.rows, mean)
		}
		got, _ := pic.Lines(ImageBlocks, 80)
		want, _ := full.Lines(ImageBlocks, 80)
		if len(got) != len(want) {
			t.Errorf("%d×%d cells: %d rows, full decode %d", c.cols, c.rows, len(got), len(want))
		}
	}
}

// TestDecodePictureFallback: what jpegdc refuses goes to image/jpeg, whose
// verdict stands: an arithmetic-coded JPEG (neither decodes it) is an
// ImageError, not a picture.
func TestDecodePictureFallback(t *testing.T) {
	data, err := os.ReadFile("internal/jpegdc/testdata/arithmetic.jpg")
	if err != nil {
		t.Fatal(err)
	}
	_, err = DecodePicture(data, DefaultImageLimits, 2, 1)
	if ie, ok := err.(*ImageError); !ok || ie.Rule != "decode" {
		t.Fatalf("err = %v, want an ImageError of rule decode", err)
	}
	// a progressive JPEG small enough for the DC path decodes through it
	data, err = os.ReadFile("internal/jpegdc/testdata/progressive.jpg")
	if err != nil {
		t.Fatal(err)
	}
	pic, err := DecodePicture(data, DefaultImageLimits, 2, 1)
	if err != nil || pic.Scale != 8 {
		t.Fatalf("progressive: %v, scale %d", err, pic.Scale)
	}
}
