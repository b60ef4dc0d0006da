package demo

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"time"

	"mimichat/content"
)

// LogoPNG is the image a scripted peer sends: a 96×64 PNG drawn here (a
// blue rounded tile with a white ring, transparent corners), so the demo
// shows an inline image with nothing downloaded from elsewhere.
func LogoPNG() ([]byte, error) {
	const w, h, radius = 96, 64, 14.0
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			// rounded corners: outside the corner circles is transparent
			cx := math.Max(radius, math.Min(w-radius, fx))
			cy := math.Max(radius, math.Min(h-radius, fy))
			if math.Hypot(fx-cx, fy-cy) > radius {
				continue
			}
			c := color.NRGBA{uint8(40 + 60*y/h), uint8(90 + 80*x/w), 230, 255}
			if d := math.Hypot(fx-w/2, fy-h/2); d > 14 && d < 22 {
				c = color.NRGBA{250, 250, 250, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// image seals an image, uploads it to the relay's blob store and sends it
// as an attachment of content type ct.
func (p *peer) image(room, name, desc, ct string, data []byte) error {
	part, blob, err := content.SealAttachment(nil, data, content.AttachmentSpec{Filename: name, Description: desc})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if part.URL, err = p.s.Upload(ctx, name, blob); err != nil {
		return err
	}
	msg, err := p.build(room).Attachment(ct, part)
	if err != nil {
		return err
	}
	id, err := p.send(room, msg)
	if err == nil {
		p.keep(room, id, msg)
	}
	return err
}
