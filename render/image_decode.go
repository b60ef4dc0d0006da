package render

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // GIF: the first frame
	_ "image/jpeg" // JPEG
	_ "image/png"  // PNG
	"strings"

	"mimichat/render/internal/jpegdc"

	_ "golang.org/x/image/webp" // WebP: a pure-Go decoder
)

// Image bytes come from the network: DecodeImage reads the header first
// (image.DecodeConfig) and refuses what would cost too much before a pixel
// is decoded, so a small file claiming 100,000 × 100,000 pixels (an image
// bomb) is a card, not an out-of-memory crash.

// ImageLimits bound what DecodeImage accepts.
type ImageLimits struct {
	MaxBytes  int   // the encoded file
	MaxPixels int64 // width × height
	MaxMemory int64 // the decoded image's estimated size in bytes
}

// DefaultImageLimits take a 24-megapixel photo (6000 × 4000) and refuse
// anything larger or that would need more than 200 MiB decoded.
var DefaultImageLimits = ImageLimits{MaxBytes: 32 << 20, MaxPixels: 24_000_000, MaxMemory: 200 << 20}

// imageFormats are the decoders DecodeImage uses, by the content type that
// names them. Other registered decoders (image.RegisterFormat elsewhere in
// the program) are not used for network bytes.
var imageFormats = map[string]string{
	"image/png":  "png",
	"image/jpeg": "jpeg",
	"image/gif":  "gif",
	"image/webp": "webp",
}

// IsImageType reports whether content type ct is an image shown inline.
func IsImageType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	_, ok := imageFormats[strings.ToLower(strings.TrimSpace(mt))]
	return ok
}

// ImageError is why an image was refused; Rule names the limit or check.
type ImageError struct {
	Rule   string // "size", "format", "dimensions", "pixels", "memory", "decode"
	Detail string
}

func (e *ImageError) Error() string { return "image " + e.Rule + ": " + e.Detail }

// DecodedImage is an image decoded within limits.
type DecodedImage struct {
	Image  image.Image
	Format string // png, jpeg, gif, webp
	W, H   int    // as the header declared them
	Scale  int    // Image is 1/Scale of W×H: 1, or 8 for a JPEG decoded from its DC coefficients
}

// DecodeImage decodes data (PNG, JPEG, the first frame of a GIF, WebP)
// within lim. It never panics: a decoder that does is reported as an
// ImageError of rule "decode".
func DecodeImage(data []byte, lim ImageLimits) (d DecodedImage, err error) {
	cfg, format, err := checkImage(data, lim)
	if err != nil {
		return d, err
	}
	return decodeFull(data, cfg, format)
}

// DecodePicture is what the timeline does with an image attachment's
// bytes: DecodeImage, then NewPicture. A JPEG whose 1/8 scale still covers
// the preview is decoded from its DC coefficients alone (package jpegdc:
// no inverse DCT, 1/64 of the pixels), which is most of a large photo's
// cost; anything that decoder does not take goes the full way.
func DecodePicture(data []byte, lim ImageLimits, maxCols, maxRows int) (*Picture, error) {
	cfg, format, err := checkImage(data, lim)
	if err != nil {
		return nil, err
	}
	if format == "jpeg" {
		pw, ph := fitPixels(cfg.Width, cfg.Height, max(maxCols, 1)*cellPxW, max(maxRows, 1)*cellPxH)
		if (cfg.Width+7)/8 >= pw && (cfg.Height+7)/8 >= ph {
			if img, err := decodeDC(data, lim); err == nil {
				return NewPicture(DecodedImage{Image: img, Format: format, W: cfg.Width, H: cfg.Height, Scale: 8}, maxCols, maxRows), nil
			}
		}
	}
	d, err := decodeFull(data, cfg, format)
	if err != nil {
		return nil, err
	}
	return NewPicture(d, maxCols, maxRows), nil
}

// decodeDC is jpegdc.Decode; a panic there is a bug, but the bytes come
// from the network, so it falls back to the full decoder rather than crash.
func decodeDC(data []byte, lim ImageLimits) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("jpegdc: %v", r)
		}
	}()
	return jpegdc.Decode(data, lim.MaxPixels)
}

// checkImage reads data's header and refuses what lim does not allow.
func checkImage(data []byte, lim ImageLimits) (cfg image.Config, format string, err error) {
	if lim.MaxBytes > 0 && len(data) > lim.MaxBytes {
		return cfg, "", &ImageError{"size", fmt.Sprintf("%s is over the %s limit", HumanSize(uint64(len(data))), HumanSize(uint64(lim.MaxBytes)))}
	}
	cfg, format, err = image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return cfg, "", &ImageError{"decode", "not a PNG, JPEG, GIF or WebP image (" + SanitizeLine(err.Error()) + ")"}
	}
	if !knownFormat(format) {
		return cfg, "", &ImageError{"format", SanitizeLine(format) + " is not shown inline"}
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, "", &ImageError{"dimensions", fmt.Sprintf("%d×%d", cfg.Width, cfg.Height)}
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	if lim.MaxPixels > 0 && px > lim.MaxPixels {
		return cfg, "", &ImageError{"pixels", fmt.Sprintf("%d×%d is %s pixels, over the %s limit", cfg.Width, cfg.Height, megapixels(px), megapixels(lim.MaxPixels))}
	}
	if mem := px * bytesPerPixel(cfg.ColorModel); lim.MaxMemory > 0 && mem > lim.MaxMemory {
		return cfg, "", &ImageError{"memory", fmt.Sprintf("%d×%d needs %s decoded, over the %s limit", cfg.Width, cfg.Height, HumanSize(uint64(mem)), HumanSize(uint64(lim.MaxMemory)))}
	}
	return cfg, format, nil
}

// decodeFull decodes every pixel with the standard decoders.
func decodeFull(data []byte, cfg image.Config, format string) (d DecodedImage, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = DecodedImage{}, &ImageError{"decode", fmt.Sprintf("the %s decoder failed on this file", format)}
		}
	}()
	img, format2, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return d, &ImageError{"decode", SanitizeLine(err.Error())}
	}
	if format2 != format {
		return d, &ImageError{"format", "header and body disagree"}
	}
	b := img.Bounds()
	if b.Empty() || int64(b.Dx())*int64(b.Dy()) > int64(cfg.Width)*int64(cfg.Height) {
		// a GIF frame may be smaller than its screen, never larger
		return d, &ImageError{"dimensions", fmt.Sprintf("decoded %d×%d, header said %d×%d", b.Dx(), b.Dy(), cfg.Width, cfg.Height)}
	}
	return DecodedImage{Image: img, Format: format, W: cfg.Width, H: cfg.Height, Scale: 1}, nil
}

func knownFormat(f string) bool {
	for _, v := range imageFormats {
		if v == f {
			return true
		}
	}
	return false
}

// bytesPerPixel is what a decoder of this colour model allocates per pixel
// (at most; YCbCr 4:4:4 is 3, and JPEG's progressive mode keeps
// coefficients, 2 bytes per sample, which 8 covers).
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel:
		return 3 // progressive JPEG coefficients: 2 per sample, plus the image
	case color.YCbCrModel, color.NYCbCrAModel:
		return 8
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	case color.Gray16Model:
		return 2
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8 // RGBA64, NRGBA64 and anything else: the widest
}

func megapixels(n int64) string {
	return fmt.Sprintf("%.1f M", float64(n)/1e6)
}
