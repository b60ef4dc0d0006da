package render

import (
	"os"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// FuzzDecodeImage: any bytes from the network decode within the limits or
// are refused with an ImageError; never a panic, never a thumbnail wider
// than asked. Crashers found are kept under testdata/fuzz/FuzzDecodeImage.
func FuzzDecodeImage(f *testing.F) {
	f.Add(encodePNG(f, gradient(16, 12)), uint8(40))
	f.Add(encodeJPEG(f, gradient(16, 12)), uint8(10))
	f.Add(twoFrameGIF(f), uint8(3))
	f.Add(pngClaiming(f, 100000, 100000), uint8(80))
	f.Add(gifClaiming(f, 65535, 65535), uint8(80))
	if webp, err := os.ReadFile("testdata/images/blue-purple-pink.lossy.webp"); err == nil {
		f.Add(webp, uint8(20))
	}
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), uint8(8))
	// small limits keep each run fast; the checks are the same at any size
	lim := ImageLimits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxMemory: 16 << 20}
	f.Fuzz(func(t *testing.T, data []byte, w uint8) {
		// the timeline's path, with a preview small enough that any JPEG
		// of 16 pixels or more takes the DC decoder
		pic, perr := DecodePicture(data, lim, 2, 1)
		if _, ok := perr.(*ImageError); perr != nil && !ok {
			t.Fatalf("DecodePicture's error is %T, not *ImageError: %v", perr, perr)
		}
		d, err := DecodeImage(data, lim)
		switch {
		case err == nil && perr != nil:
			t.Fatalf("DecodeImage takes what DecodePicture refuses: %v", perr)
		case err != nil && perr == nil && pic.Scale != 8:
			t.Fatalf("DecodePicture took what DecodeImage refuses (%v) without the DC decoder", err)
		}
		if err != nil {
			if _, ok := err.(*ImageError); !ok {
				t.Fatalf("error is %T, not *ImageError: %v", err, err)
			}
			return
		}
		width := int(w%100) + 1
		p := NewPicture(d, 40, 12)
		for _, mode := range []ImageMode{ImageBlocks, ImageKitty} {
			lines, _ := p.Lines(mode, width)
			if len(lines) == 0 || len(lines) > 12 {
				t.Fatalf("%s: %d lines", mode, len(lines))
			}
			for _, l := range lines {
				if lw := ansi.StringWidth(l); lw > width || lw > 40 {
					t.Fatalf("%s: line %d wide at width %d", mode, lw, width)
				}
			}
		}
	})
}
