package render

// Recognizing terminal escape sequences well enough to remove them whole.
// The grammar follows ECMA-48 and what xterm accepts: a sequence starts
// with ESC or an 8-bit C1 introducer, either raw (a byte that is invalid
// UTF-8) or UTF-8 encoded (U+0080..U+009F), since terminals differ in which
// they honour. Anything not understood ends the sequence early; the rest is
// sanitized as text, so a wrong guess can only leave inert characters.

const (
	esc = 0x1b
	bel = 0x07
	can = 0x18
	sub = 0x1a
)

// introducer returns the 7-bit final byte equivalent to the C1 control at
// the start of s ('[' for CSI, ']' for OSC, ...) and its length in bytes,
// or 0, 0 when s does not start with one of the sequence-opening C1s.
func introducer(s string) (byte, int) {
	if s == "" {
		return 0, 0
	}
	switch c := s[0]; {
	case c == esc:
		if len(s) < 2 {
			return 0, 1
		}
		return s[1], 2
	case c >= 0x80 && c <= 0x9f: // raw 8-bit C1, invalid as UTF-8
		return c - 0x40, 1
	case c == 0xc2 && len(s) >= 2 && s[1] >= 0x80 && s[1] <= 0x9f: // UTF-8 encoded C1
		return s[1] - 0x40, 2
	}
	return 0, 0
}

// escapeLen returns the length in bytes of the escape sequence that starts
// s, or 0 if s does not start one. A lone ESC counts as a sequence of one.
func escapeLen(s string) int {
	kind, n := introducer(s)
	if n == 0 {
		return 0
	}
	if s[0] != esc {
		switch kind {
		case '[', ']', 'P', 'X', '^', '_':
		default:
			return 0 // other C1 controls are replaced, not parsed
		}
	} else if kind == 0 {
		return 1 // ESC at the very end
	}
	switch {
	case kind == '[':
		return n + csiLen(s[n:])
	case kind == ']' || kind == 'P' || kind == 'X' || kind == '^' || kind == '_':
		return n + stringLen(s[n:])
	case kind == 'N' || kind == 'O': // SS2, SS3: one more character
		if n < len(s) && s[n] >= 0x20 && s[n] < 0x7f {
			return n + 1
		}
		return n
	case kind >= 0x20 && kind <= 0x2f: // nF: intermediates, then a final
		i := n
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			i++
		}
		return i
	case kind >= 0x30 && kind <= 0x7e: // two-byte escapes: ESC 7, ESC c, ...
		return n
	}
	return 1 // ESC followed by a control or non-ASCII: drop the ESC only
}

// csiLen returns the length of a CSI body: parameters 0x30-0x3F,
// intermediates 0x20-0x2F, one final 0x40-0x7E. It stops before any other
// byte (a control, or text), which is then sanitized on its own.
func csiLen(s string) int {
	i := 0
	for i < len(s) && s[i] >= 0x30 && s[i] <= 0x3f {
		i++
	}
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// stringLen returns the length of an OSC/DCS/SOS/PM/APC body including its
// terminator: BEL, ST (ESC \, raw 0x9c or UTF-8 U+009C), or CAN/SUB which
// cancel it. Unterminated, it runs to the end of s: a terminal would keep
// swallowing too, and whatever hides there was the sender's own text.
func stringLen(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case bel, can, sub, 0x9c:
			return i + 1
		case esc:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		case 0xc2:
			if i+1 < len(s) && s[i+1] == 0x9c {
				return i + 2
			}
		}
	}
	return len(s)
}
