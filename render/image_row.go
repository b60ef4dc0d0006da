package render

import "strconv"

// InlineImage is what a row shows of its image attachment. It is
// comparable, so it is part of the render cache's key as it is: the
// Picture is immutable once made (its own per-width cache aside).
type InlineImage struct {
	State ImageState
	Mode  ImageMode
	Pic   *Picture // ImageReady
	Note  string   // ImageRefused: why, in words (from ImageError or the download)
}

// ImageState is where an inline image is.
type ImageState uint8

const (
	ImageNone    ImageState = iota // no image attachment, or images are off
	ImageLoading                   // downloading, checking, decrypting, decoding
	ImageReady                     // Pic is drawn
	ImageRefused                   // not shown: Note says why
)

// imageLines draws img in width columns: a loading line, the thumbnail
// and its size, or a card saying why it is not shown.
func imageLines(img *InlineImage, width int, th *Theme) []string {
	s := &th.Styles
	switch img.State {
	case ImageLoading:
		return []string{s.Muted.Render(TruncateLine("◌ loading image…", width))}
	case ImageReady:
		if img.Pic == nil || img.Mode == ImageOff {
			return nil
		}
		lines, _ := img.Pic.Lines(img.Mode, width)
		out := make([]string, 0, len(lines)+1)
		out = append(out, lines...)
		caption := strconv.Itoa(img.Pic.W) + "×" + strconv.Itoa(img.Pic.H) + " " + img.Pic.Format
		return append(out, s.Muted.Render(TruncateLine(caption, width)))
	case ImageRefused:
		// the reason wrapped whole (at most 4 lines) in the card
		lines := append([]string{"🖼 image not shown"}, Fit(img.Note, max(width-4, 4), 4)...)
		return card(append(lines, "o open · s save the file"), width, th)
	}
	return nil
}
