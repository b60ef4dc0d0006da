package render

import (
	"image"
	"image/color"
	"testing"
	"time"
)

// photo is a w×h image with detail everywhere (a JPEG of a flat gradient
// would decode faster than a photo does).
func photo(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	seed := uint32(1)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			seed = seed*1664525 + 1013904223
			n := uint8(seed >> 26)
			img.SetNRGBA(x, y, color.NRGBA{uint8(x*200/w) + n, uint8(y*200/h) + n, uint8((x+y)*100/(w+h)) + n, 255})
		}
	}
	return img
}

var jpeg4000x3000 []byte

func bigJPEG(b *testing.B) []byte {
	if jpeg4000x3000 == nil {
		jpeg4000x3000 = encodeJPEG(b, photo(4000, 3000))
	}
	return jpeg4000x3000
}

// BenchmarkImageFirstRender4000x3000: what a 4000×3000 JPEG costs from
// its bytes to the block thumbnail at 80 columns: decode (in the UI's
// tea.Cmd), the preview, then the width's cells.
func BenchmarkImageFirstRender4000x3000(b *testing.B) {
	data := bigJPEG(b)
	b.SetBytes(int64(len(data)))
	cpu0, _ := processCPU()
	b.ResetTimer()
	defer reportCPU(b, cpu0)
	for b.Loop() {
		d, err := DecodeImage(data, DefaultImageLimits)
		if err != nil {
			b.Fatal(err)
		}
		p := NewPicture(d, 40, 12)
		p.Lines(ImageBlocks, 80)
	}
}

// BenchmarkImageDecode4000x3000: the decode alone (image/jpeg).
func BenchmarkImageDecode4000x3000(b *testing.B) {
	data := bigJPEG(b)
	cpu0, _ := processCPU()
	b.ResetTimer()
	defer reportCPU(b, cpu0)
	for b.Loop() {
		if _, err := DecodeImage(data, DefaultImageLimits); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImageThumbnail4000x3000: the decoded image to the block
// thumbnail: the preview (scaled once) and the width's cells.
func BenchmarkImageThumbnail4000x3000(b *testing.B) {
	d, err := DecodeImage(bigJPEG(b), DefaultImageLimits)
	if err != nil {
		b.Fatal(err)
	}
	cpu0, _ := processCPU()
	b.ResetTimer()
	defer reportCPU(b, cpu0)
	for b.Loop() {
		p := NewPicture(d, 40, 12)
		p.Lines(ImageBlocks, 80)
	}
}

// BenchmarkImageCachedRender: the same width again.
func BenchmarkImageCachedRender(b *testing.B) {
	d, err := DecodeImage(bigJPEG(b), DefaultImageLimits)
	if err != nil {
		b.Fatal(err)
	}
	p := NewPicture(d, 40, 12)
	p.Lines(ImageBlocks, 80)
	cpu0, _ := processCPU()
	b.ResetTimer()
	defer reportCPU(b, cpu0)
	for b.Loop() {
		p.Lines(ImageBlocks, 80)
	}
}

// reportCPU adds the process CPU time per op since cpu0: on a shared
// machine a steadier figure than wall time.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu1, ok := processCPU(); ok {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
	}
}
