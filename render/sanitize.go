package render

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// What the sanitizer does, and why:
//   - Escape sequences (ESC or 8-bit C1 CSI/OSC/DCS/SOS/PM/APC, terminated by
//     BEL, ST, CAN/SUB, or not at all) are removed whole and replaced by one
//     visible "␛", so an attack shows up instead of acting or vanishing.
//   - Other C0 controls become their Control Pictures glyph (BEL → ␇, BS → ␈),
//     DEL becomes ␡, other C1 controls and invalid UTF-8 become U+FFFD.
//   - Bidi overrides, embeddings and isolates become visible tags like ⟪RLO⟫
//     (Trojan-Source style reordering is then visible to the reader); the
//     bidi marks LRM, RLM and ALM are dropped (they only nudge neutral
//     characters, and tagging them would clutter legitimate RTL text).
//   - Invisible characters that let names look alike or make terminals and
//     our width measurement disagree are dropped: ZWSP, word joiner, BOM,
//     soft hyphen, invisible operators, Mongolian vowel separator, Hangul
//     choseong/jungseong fillers, interlinear annotation controls, deprecated
//     format controls, tag characters outside an emoji tag sequence, ZWJ not
//     after an emoji, ZWNJ after ASCII.
//   - A grapheme cluster that terminals lay out at different widths (a ZWJ
//     sequence, a skin-tone modifier, VS16, a keycap) is shown as its parts
//     (DisplayClusters, width.go), so the width we measure is the one drawn.
//   - More than maxMarks combining marks on one base are dropped (Zalgo).
//   - Multi-line text keeps "\n"; CR LF, CR, NEL, LS and PS become "\n"; tabs
//     expand to spaces at 4-column stops (counted in runes since the line
//     start, which is what matters for code). Single-line fields show line
//     breaks as "␤" and tabs as one space.

const (
	escMarker  = "␛"
	lineMarker = "␤"
	maxMarks   = 6
	tabStop    = 4
)

// bidiTags names the bidi formatting characters that can reorder text.
var bidiTags = map[rune]string{
	0x202A: "⟪LRE⟫", 0x202B: "⟪RLE⟫", 0x202C: "⟪PDF⟫", 0x202D: "⟪LRO⟫", 0x202E: "⟪RLO⟫",
	0x2066: "⟪LRI⟫", 0x2067: "⟪RLI⟫", 0x2068: "⟪FSI⟫", 0x2069: "⟪PDI⟫",
}

// SanitizeLine neutralizes a single-line field from the network (a display
// name, room name, filename, URI): the result has no control characters,
// no escape sequences, no bidi controls and no line breaks.
func SanitizeLine(s string) string { return sanitize(s, false) }

// SanitizeText neutralizes multi-line message text: as SanitizeLine, but
// line breaks are kept as "\n" (and tabs expanded to spaces).
func SanitizeText(s string) string { return sanitize(s, true) }

func sanitize(s string, multiline bool) string {
	if isPlainASCII(s, multiline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	var (
		prev  rune // last rune written, 0 at line start
		marks int  // combining marks written after the last base
		col   int  // runes since the start of the line, for tab stops
	)
	emit := func(r rune) {
		b.WriteRune(r)
		prev = r
		col++
	}
	emitStr := func(t string) {
		b.WriteString(t)
		prev, _ = utf8.DecodeLastRuneInString(t)
		col += utf8.RuneCountInString(t)
		marks = 0
	}
	newline := func() {
		if multiline {
			b.WriteByte('\n')
			prev, col, marks = 0, 0, 0
		} else {
			emitStr(lineMarker)
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if n := escapeLen(s[i:]); n > 0 {
			emitStr(escMarker)
			i += n
			continue
		}
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			emitStr("\uFFFD")
		case r == '\n':
			newline()
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				i++
			}
			newline()
		case r == 0x85 || r == 0x2028 || r == 0x2029:
			newline()
		case r == '\t':
			if !multiline {
				emitStr(" ")
				break
			}
			n := tabStop - col%tabStop
			emitStr(strings.Repeat(" ", n))
		case r < 0x20:
			emitStr(string(rune(0x2400 + r))) // Control Pictures
		case r == 0x7f:
			emitStr("␡")
		case r < 0xa0 && r >= 0x80:
			emitStr("\uFFFD")
		case bidiTags[r] != "":
			emitStr(bidiTags[r])
		case dropped(r, prev):
			// invisible; leaves prev as it was
		case unicode.In(r, unicode.Mn, unicode.Me):
			if marks < maxMarks && prev != 0 {
				b.WriteRune(r)
				marks++
			}
		case r == 0xFFFE || r == 0xFFFF:
			emitStr("\uFFFD")
		default:
			emit(r)
			if r != 0x200D && !isVariationSelector(r) {
				marks = 0
			}
		}
	}
	return DisplayClusters(b.String())
}

// isPlainASCII reports whether s is printable ASCII (plus "\n" in
// multi-line text), which needs no change.
func isPlainASCII(s string, multiline bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' && multiline {
			continue
		}
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// dropped reports whether r is an invisible character removed in this
// position (prev is the rune written before it).
func dropped(r, prev rune) bool {
	switch {
	case r == 0x200E || r == 0x200F || r == 0x061C: // LRM, RLM, ALM
		return true
	case r == 0x200B || r == 0x2060 || r == 0xFEFF || r == 0x00AD || r == 0x180E:
		return true
	case r >= 0x2061 && r <= 0x2064, r >= 0x206A && r <= 0x206F:
		return true
	case r == 0x115F || r == 0x1160:
		return true
	case r >= 0xFFF9 && r <= 0xFFFB:
		return true
	case r >= 0x1D173 && r <= 0x1D17A: // musical formatting controls
		return true
	case r >= 0xE0000 && r <= 0xE007F: // tags: only inside 🏴 tag sequences
		return !(prev == 0x1F3F4 || (prev >= 0xE0020 && prev <= 0xE007E)) || r < 0xE0020
	case r == 0x200D: // ZWJ joins emoji; between letters it only hides
		return !isEmojiish(prev)
	case r == 0x200C: // ZWNJ matters in Persian and Indic scripts, not ASCII
		return prev < 0x80
	}
	return false
}

func isVariationSelector(r rune) bool {
	return (r >= 0xFE00 && r <= 0xFE0F) || (r >= 0xE0100 && r <= 0xE01EF)
}

// isEmojiish reports whether r can precede a ZWJ in an emoji sequence.
func isEmojiish(r rune) bool {
	return r >= 0x1F000 && r <= 0x1FAFF || r >= 0x2300 && r <= 0x23FF ||
		r >= 0x2600 && r <= 0x27BF || r >= 0x2B00 && r <= 0x2BFF ||
		r == 0xFE0F || r == 0x00A9 || r == 0x00AE || r == 0x2122 || r == 0x3030 || r == 0x303D
}
