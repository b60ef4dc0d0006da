package render

import (
	"bytes"
	"image"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/ansi/kitty"
)

// Kitty images are shown through Unicode placeholders: the row holds
// U+10EEEE cells whose foreground colour names the image and whose
// diacritics name the cell's row and column in it; the image itself is a
// virtual placement sent once (KittyTransmit). The placeholders are plain
// cells to Bubble Tea's renderer, so scrolling moves or removes them like
// text and leaves nothing behind; the UI still deletes a placement when its
// image leaves the screen (KittyDelete), so the terminal frees it.

// kittyPlaceholders are rows × cols placeholder cells for image id.
func kittyPlaceholders(id uint32, cols, rows int) []string {
	fg := "\x1b[38;2;" + strconv.Itoa(int(id>>16&0xff)) + ";" + strconv.Itoa(int(id>>8&0xff)) + ";" + strconv.Itoa(int(id&0xff)) + "m"
	out := make([]string, rows)
	var b strings.Builder
	for r := 0; r < rows; r++ {
		b.Reset()
		b.WriteString(fg)
		for c := 0; c < cols; c++ {
			b.WriteRune(kitty.Placeholder)
			b.WriteRune(kitty.Diacritic(r))
			b.WriteRune(kitty.Diacritic(c))
		}
		b.WriteString("\x1b[39m")
		out[r] = b.String()
	}
	return out
}

// KittyTransmit is the sequence that sends p's preview as image id and
// makes its virtual placement of the size the placeholders of id have
// (zlib-compressed RGBA, in 4 KiB chunks, replies suppressed). ok is false
// when id is not one of p's renderings.
func (p *Picture) KittyTransmit(id uint32) (seq string, ok bool) {
	cols, rows, ok := p.kittySize(id)
	if !ok {
		return "", false
	}
	var buf bytes.Buffer
	var img image.Image = p.preview
	err := kitty.EncodeGraphics(&buf, img, &kitty.Options{
		Action: kitty.TransmitAndPut, ID: int(id), Format: kitty.RGBA, Compression: kitty.Zlib,
		ImageWidth: p.preview.Rect.Dx(), ImageHeight: p.preview.Rect.Dy(), Chunk: true, Quiet: 2,
		VirtualPlacement: true, Columns: cols, Rows: rows,
	})
	if err != nil {
		return "", false
	}
	return buf.String(), true
}

// KittyPlace re-creates image id's virtual placement (after KittyHide).
func (p *Picture) KittyPlace(id uint32) (string, bool) {
	cols, rows, ok := p.kittySize(id)
	if !ok {
		return "", false
	}
	o := kitty.Options{Action: kitty.Put, ID: int(id), Quiet: 2, VirtualPlacement: true, Columns: cols, Rows: rows}
	return ansi.KittyGraphics(nil, o.Options()...), true
}

// KittyHide deletes image id's placements and keeps its data, so showing
// it again is a KittyPlace.
func KittyHide(id uint32) string {
	o := kitty.Options{Action: kitty.Delete, Delete: kitty.DeleteID, ID: int(id), Quiet: 2}
	return ansi.KittyGraphics(nil, o.Options()...)
}

// KittyFree deletes image id and its data.
func KittyFree(id uint32) string {
	o := kitty.Options{Action: kitty.Delete, Delete: kitty.DeleteID, DeleteResources: true, ID: int(id), Quiet: 2}
	return ansi.KittyGraphics(nil, o.Options()...)
}

// KittyQuery asks whether the terminal speaks the kitty graphics protocol:
// a 1×1 image query with ID KittyQueryID. A terminal that does answers
// with an APC G reply naming that ID; others ignore it (send DA1 after it:
// its answer coming first means no kitty).
const KittyQueryID = 31

var KittyQuery = ansi.KittyGraphics([]byte("AAAA"), "i="+strconv.Itoa(KittyQueryID), "s=1", "v=1", "a=q", "t=d", "f=24")

// VisibleKittyIDs lists the image IDs whose placeholders are in frame, in
// order of appearance, each once.
func VisibleKittyIDs(frame string) []uint32 {
	var ids []uint32
	seen := map[uint32]bool{}
	ph := string(kitty.Placeholder)
	for {
		i := strings.Index(frame, ph)
		if i < 0 {
			return ids
		}
		// the colour is the SGR right before the first placeholder of a run
		if j := strings.LastIndex(frame[:i], "\x1b[38;2;"); j >= 0 && strings.HasSuffix(frame[:i], "m") {
			if id, ok := parseRGBID(frame[j+len("\x1b[38;2;") : i-1]); ok && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		// skip the run
		k := i
		for strings.HasPrefix(frame[k:], ph) {
			k += len(ph)
			for k < len(frame) {
				r, n := utf8.DecodeRuneInString(frame[k:])
				if !unicode.Is(unicode.Mn, r) {
					break
				}
				k += n
			}
		}
		frame = frame[k:]
	}
}

func parseRGBID(s string) (uint32, bool) {
	parts := strings.Split(s, ";")
	if len(parts) != 3 {
		return 0, false
	}
	var id uint32
	for _, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 255 {
			return 0, false
		}
		id = id<<8 | uint32(v)
	}
	return id, id != 0
}
