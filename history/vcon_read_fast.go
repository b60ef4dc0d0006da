package history

import (
	"encoding/json"
	"strconv"
)

// The common dialog object, decoded by hand. encoding/json's reflection
// was most of the vCon reader's CPU (a 100k import spent ~0.65 s of its
// ~1 s reader there). decodeDialogFast takes the bytes of one dialog object
// (already checked to be valid JSON by the stream decoder) and fills d only
// when it can do so exactly as json.Unmarshal would: the keys the writer
// and the drafts use, each once, spelled exactly, with values of the field's
// JSON type, strings without escapes or non-ASCII bytes, no nulls. Anything
// else (camelCase keys, external and multipart bodies, party_history,
// escapes, nulls, keys given twice, unknown keys, numbers out of range)
// returns false and the caller decodes with encoding/json, so what the
// reader accepts, refuses and reports does not change
// (TestDecodeDialogFastIsUnmarshal).

// dialogKey numbers the keys decoded here (a bit each, to find a key given
// twice).
var dialogKeys = map[string]int{
	"type": 0, "start": 1, "duration": 2, "parties": 3, "originator": 4, "message_id": 5, "salt": 6,
	"replaces": 7, "topic_id": 8, "expires": 9, "in_reply_to": 10, "mimi_extensions": 11, "disposition": 12,
	"language": 13, "status": 14, "hub_seq": 15, "mediatype": 16, "mimetype": 17, "encoding": 18, "body": 19,
	"url": 20,
}

// fastDecoder holds the interned strings of the values that repeat (types,
// media types, encodings, dispositions, languages).
type fastDecoder struct {
	interned map[string]string
}

// decodeDialogFast fills the zero d from raw, or returns false (d then
// holds a partial result: zero it before decoding otherwise).
func (fd *fastDecoder) decodeDialogFast(raw []byte, d *vDialogIn) bool {
	p := fastParser{b: raw}
	if !p.byte('{') {
		return false
	}
	var seen uint32
	if p.peek() == '}' {
		p.i++
		return p.end()
	}
	for {
		key, ok := p.key()
		if !ok {
			return false
		}
		n, known := dialogKeys[string(key)]
		if !known || seen&(1<<n) != 0 {
			return false
		}
		seen |= 1 << n
		if !fd.field(&p, n, d) {
			return false
		}
		switch p.next() {
		case ',':
		case '}':
			return p.end()
		default:
			return false
		}
	}
}

func (fd *fastDecoder) field(p *fastParser, n int, d *vDialogIn) bool {
	var s *string
	switch n {
	case 0:
		s = &d.Type
	case 1:
		s = &d.Start
	case 2:
		lit, ok := p.number()
		if !ok {
			return false
		}
		f, err := strconv.ParseFloat(string(lit), 64)
		if err != nil {
			return false
		}
		d.Duration = &f
		return true
	case 3:
		v, ok := p.value()
		d.PartiesRaw = append(json.RawMessage(nil), v...)
		return ok
	case 4:
		lit, ok := p.number()
		if !ok {
			return false
		}
		i, err := strconv.ParseInt(string(lit), 10, 64)
		if err != nil || int64(int(i)) != i {
			return false
		}
		o := int(i)
		d.Originator = &o
		return true
	case 5:
		s = &d.MessageID
	case 6:
		s = &d.Salt
	case 7:
		s = &d.Replaces
	case 8:
		s = &d.TopicID
	case 9:
		return fd.expires(p, d)
	case 10:
		s = &d.InReplyTo
	case 11:
		s = &d.MIMIExtensions
	case 12:
		s = &d.Disposition
	case 13:
		s = &d.Language
	case 14:
		s = &d.Status
	case 15:
		lit, ok := p.number()
		if !ok {
			return false
		}
		u, err := strconv.ParseUint(string(lit), 10, 64)
		if err != nil {
			return false
		}
		d.HubSeq = u
		return true
	case 16:
		s = &d.MediaType
	case 17:
		s = &d.MimeType
	case 18:
		s = &d.Encoding
	case 19:
		v, ok := p.value()
		d.Body = append(json.RawMessage(nil), v...)
		return ok
	case 20:
		s = &d.URL
	default:
		return false
	}
	lit, ok := p.plainString()
	if !ok {
		return false
	}
	*s = fd.str(lit, n)
	return true
}

// expires decodes {relative, relative_time, absolute_time}.
func (fd *fastDecoder) expires(p *fastParser, d *vDialogIn) bool {
	if !p.byte('{') {
		return false
	}
	e := &vExpires{}
	d.Expires = e
	if p.peek() == '}' {
		p.i++
		return true
	}
	var seen uint8
	for {
		key, ok := p.key()
		if !ok {
			return false
		}
		var bit uint8
		switch string(key) {
		case "relative":
			bit = 1
			switch lit, _ := p.literal(); string(lit) {
			case "true":
				e.Relative = true
			case "false":
				e.Relative = false
			default:
				return false
			}
		case "relative_time":
			bit = 2
			lit, ok := p.number()
			if !ok {
				return false
			}
			u, err := strconv.ParseUint(string(lit), 10, 32)
			if err != nil {
				return false
			}
			e.RelativeTime = uint32(u)
		case "absolute_time":
			bit = 4
			lit, ok := p.plainString()
			if !ok {
				return false
			}
			e.AbsoluteTime = string(lit)
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch p.next() {
		case ',':
		case '}':
			return true
		default:
			return false
		}
	}
}

// str returns lit as a string; the values of the fields that repeat across
// dialogs are interned.
func (fd *fastDecoder) str(lit []byte, n int) string {
	switch n {
	case 0, 12, 13, 14, 16, 17, 18:
	default:
		return string(lit)
	}
	if s, ok := fd.interned[string(lit)]; ok {
		return s
	}
	s := string(lit)
	if fd.interned == nil {
		fd.interned = map[string]string{}
	}
	if len(fd.interned) < 1024 {
		fd.interned[s] = s
	}
	return s
}

// fastParser reads valid JSON (the stream decoder has checked it).
type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) peek() byte {
	p.ws()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *fastParser) next() byte {
	c := p.peek()
	p.i++
	return c
}

func (p *fastParser) byte(c byte) bool { return p.next() == c }

// end reports whether nothing but space follows.
func (p *fastParser) end() bool {
	p.ws()
	return p.i == len(p.b)
}

// key reads an object key without escapes and the colon after it.
func (p *fastParser) key() ([]byte, bool) {
	k, ok := p.plainString()
	return k, ok && p.byte(':')
}

// plainString reads a string of printable ASCII without escapes and
// returns its contents.
func (p *fastParser) plainString() ([]byte, bool) {
	if p.peek() != '"' {
		return nil, false
	}
	p.i++
	start := p.i
	for ; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return p.b[start : p.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// number reads a number literal.
func (p *fastParser) number() ([]byte, bool) {
	lit, ok := p.literal()
	if !ok || len(lit) == 0 || !(lit[0] == '-' || '0' <= lit[0] && lit[0] <= '9') {
		return nil, false
	}
	return lit, true
}

// literal reads a number, true, false or null.
func (p *fastParser) literal() ([]byte, bool) {
	p.ws()
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			break
		}
		p.i++
	}
	return p.b[start:p.i], p.i > start
}

// value reads any value (not null) and returns its bytes.
func (p *fastParser) value() ([]byte, bool) {
	p.ws()
	start := p.i
	depth := 0
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case '"':
			p.i++
			for p.i < len(p.b) && p.b[p.i] != '"' {
				if p.b[p.i] == '\\' {
					p.i++
				}
				p.i++
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return p.literalValue(start)
			}
			depth--
		case ',', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return p.literalValue(start)
			}
		}
		p.i++
		if depth == 0 && p.i > start && (p.b[start] == '"' || p.b[start] == '{' || p.b[start] == '[') {
			return p.b[start:p.i], true
		}
	}
	return p.literalValue(start)
}

func (p *fastParser) literalValue(start int) ([]byte, bool) {
	v := p.b[start:p.i]
	return v, len(v) > 0 && string(v) != "null"
}
