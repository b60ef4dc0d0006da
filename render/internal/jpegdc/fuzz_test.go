package jpegdc

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode: any bytes give an image of the size Config reports, or an
// error; never a panic, never an image past the pixel limit.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.jpg")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1 << 20
		img, err := Decode(data, limit)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		w, h, err := Config(data)
		if err != nil {
			t.Fatalf("Decode took what Config refuses: %v", err)
		}
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
			t.Fatalf("image %v, Config %d×%d", b, w, h)
		}
		if int64(w)*int64(h)*64 > limit*4 {
			t.Fatalf("%d×%d past the limit", w, h)
		}
	})
}
