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

// cameraLike is a w×h image with a phone photo's entropy: smooth
// gradients, edges and fine texture with some sensor noise; at 4000×3000
// and quality 85 it is a 3.4 MB JPEG, what a 12-megapixel phone writes
// (photo's uniform noise makes an 18 MB one: the worst case).
func cameraLike(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	seed := uint32(7)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			seed = seed*1664525 + 1013904223
			n := uint8(seed >> 27)
			t := uint8((x/3 ^ y/5) & 15)
			edge := uint8(0)
			if (x/250+y/250)%2 == 0 {
				edge = 60
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(x*150/w) + edge + t + n, uint8(y*150/h) + t + n, uint8((x+y)*90/(w+h)) + edge/2 + n, 255})
		}
	}
	return img
}

var jpegCamera4000x3000 []byte

func cameraJPEG(b *testing.B) []byte {
	if jpegCamera4000x3000 == nil {
		jpegCamera4000x3000 = encodeJPEG(b, cameraLike(4000, 3000))
	}
	return jpegCamera4000x3000
}

// BenchmarkImageFirstRender4000x3000: what a 4000×3000 JPEG costs from
// its bytes to the block thumbnail at 80 columns, the way the timeline
// does it (DecodePicture, in the download's tea.Cmd, then the width's
// cells). Full is the same with every pixel decoded (DecodeImage, then
// NewPicture), the path before jpegdc: the baseline of the ratio.
func BenchmarkImageFirstRender4000x3000(b *testing.B) {
	for _, c := range []struct {
		name string
		data func(*testing.B) []byte
	}{{"Noise", bigJPEG}, {"Camera", cameraJPEG}} {
		data := c.data(b)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			cpu0, _ := processCPU()
			b.ResetTimer()
			defer reportCPU(b, cpu0)
			for b.Loop() {
				p, err := DecodePicture(data, DefaultImageLimits, 40, 12)
				if err != nil {
					b.Fatal(err)
				}
				p.Lines(ImageBlocks, 80)
			}
		})
		b.Run(c.name+"Full", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			cpu0, _ := processCPU()
			b.ResetTimer()
			defer reportCPU(b, cpu0)
			for b.Loop() {
				d, err := DecodeImage(data, DefaultImageLimits)
				if err != nil {
					b.Fatal(err)
				}
				NewPicture(d, 40, 12).Lines(ImageBlocks, 80)
			}
		})
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
