package history

import (
	"bytes"
	"encoding/json"
	"io"
)

// Counting a vCon's items ahead of the import. An import below a cached run
// numbers its entries low-n..low-1, so it can write them while the file is
// read only when it knows n first. CountVCon tells it, from a second,
// light read of the same file (by ReaderAt, alongside the import's own read):
// the bytes of each dialog object are found by a structural scan instead of
// encoding/json's scanner, and each object is decoded and converted by the
// reader's own code (decodeDialogFast or json.Unmarshal, then dialog), except
// that a MIMI message is not rebuilt: its item's ID is its message_id, which
// is what mimiMessage keeps. The count is a promise the import checks at its
// commit (a wrong one costs time, never a different result), so anything
// this read does not follow exactly the way ReadVCon does is refused instead:
// gzip, a signed or encrypted vCon, no MIMI room, the room or parties after
// the dialogs, a second dialog array, escaped top-level keys.

// CountVCon hands each item ReadVCon would hand to its sink to each, with
// its ID (a message) or Event (a room event) set and nothing else, in file
// order; it returns false when it cannot know them exactly (then the items
// given so far mean nothing) or stop was closed.
func CountVCon(ra io.ReaderAt, size int64, stop <-chan struct{}, each func(*Item)) (ok bool) {
	defer func() {
		// The fast dialog decoder trusts its input to be valid JSON, which
		// here nothing checked: bad bytes fail the import, not the count.
		if recover() != nil {
			ok = false
		}
	}()
	vr := &vconReader{h: &History{}, report: newReport(FormatVCon), countOnly: true}
	vr.sink = func(it *Item) error {
		each(it)
		return nil
	}
	// Only what Read would read as a vCon (not gzip, not MIMI JSON).
	head := make([]byte, min(size, 8<<10))
	if n, _ := ra.ReadAt(head, 0); n < len(head) {
		return false
	}
	if f, err := Detect(head); err != nil || f != FormatVCon || bytes.HasPrefix(head, gzipMagic) {
		return false
	}
	s := &spanScanner{ra: ra, size: size}
	if !s.ws() || s.cur() != '{' {
		return false
	}
	s.pos++
	var sawDialog, sawRoom, sawParties bool
	for n := 0; ; n++ {
		if !s.ws() {
			return false
		}
		if s.cur() == '}' {
			return sawDialog
		}
		if n > 0 {
			if s.cur() != ',' {
				return false
			}
			s.pos++
			if !s.ws() {
				return false
			}
		}
		key, ok := s.key()
		if !ok {
			return false
		}
		if !s.ws() || s.cur() != ':' {
			return false
		}
		s.pos++
		if !s.ws() {
			return false
		}
		switch key {
		case "dialog":
			if sawDialog || !sawRoom || !sawParties || !vr.mimi {
				return false
			}
			sawDialog = true
			if !vr.countDialogs(s, stop) {
				return false
			}
			continue
		case "payload", "ciphertext":
			return false
		}
		s.mark()
		if !s.skip() {
			return false
		}
		raw := s.span()
		var err error
		switch key {
		case "room":
			var room vRoom
			if err = json.Unmarshal(raw, &room); err == nil && room.ID != "" {
				vr.h.Room = Room{ID: room.ID, Name: room.Name, Subject: room.Subject}
				vr.mimi, sawRoom = true, true
			}
		case "parties":
			var ps []vPartyIn
			if err = json.Unmarshal(raw, &ps); err == nil {
				vr.setParties(ps)
				sawParties = true
			}
		case "uuid":
			err = json.Unmarshal(raw, &vr.uuid)
		}
		if err != nil {
			return false
		}
		s.release()
	}
}

// countDialogs reads the dialog array at s: each object's bytes are decoded
// as decodeDialog does and converted by dialog in count mode.
func (vr *vconReader) countDialogs(s *spanScanner, stop <-chan struct{}) bool {
	if s.cur() != '[' {
		return false
	}
	s.pos++
	d := &vr.d
	for n := 0; ; n++ {
		if n&1023 == 0 {
			select {
			case <-stop:
				return false
			default:
			}
		}
		if !s.ws() {
			return false
		}
		if s.cur() == ']' {
			s.pos++
			s.release()
			return true
		}
		if n > 0 {
			if s.cur() != ',' {
				return false
			}
			s.pos++
			if !s.ws() {
				return false
			}
		}
		s.mark()
		if s.cur() != '{' || !s.skip() {
			return false
		}
		raw := s.span()
		if done, ok := vr.countLight(raw); done {
			if !ok {
				return false
			}
			s.release()
			continue
		}
		*d = vDialogIn{}
		if !vr.fast.decodeDialogFast(raw, d) {
			*d = vDialogIn{}
			if json.Unmarshal(raw, d) != nil {
				return false
			}
		}
		if vr.dialog(d, "$.dialog[]") != nil {
			return false
		}
		s.release()
	}
}

// countLight counts a common dialog object from the four strings that
// decide its item (type, status, salt, message_id), as dialog would: a text
// or tombstone has the item of its message_id, any other type none. done
// false: the object is not one it reads (a key the fast decoder does not
// know, or given twice, one of the four not a plain string, a message
// without salt, whose ID is synthetic): decode it whole. ok false: the
// import will fail here (a bad ID).
func (vr *vconReader) countLight(raw []byte) (done, ok bool) {
	var typ, id, salt, status []byte
	p := fastParser{b: raw}
	if !p.byte('{') {
		return false, false
	}
	if p.peek() == '}' {
		return false, false
	}
	var seen uint32
	for {
		key, ok := p.key()
		if !ok {
			return false, false
		}
		n, known := dialogKeys[string(key)]
		if !known || seen&(1<<n) != 0 {
			return false, false
		}
		seen |= 1 << n
		var v *[]byte
		switch n {
		case 0:
			v = &typ
		case 5:
			v = &id
		case 6:
			v = &salt
		case 14:
			v = &status
		}
		if v != nil {
			if *v, ok = p.plainString(); !ok {
				return false, false
			}
		} else if p.peek() == '"' {
			if !skipString(&p) {
				return false, false
			}
		} else if _, ok := p.value(); !ok {
			return false, false
		}
		c := p.next()
		if c == '}' && p.end() {
			break
		}
		if c != ',' {
			return false, false
		}
	}
	tombstone := string(typ) == "tombstone" || len(status) > 0
	switch {
	case string(typ) != "text" && string(typ) != "tombstone":
		return true, true // dropped: no item
	case !tombstone && len(salt) == 0:
		return false, false // a foreign message: synthetic ID, numbered
	}
	it := &vr.countItem
	*it = Item{}
	// decodeID's first try (base64url) straight into the ID; anything else
	// through decodeID itself.
	if b64.DecodedLen(len(id)) != len(it.ID) || !decodeInto(it.ID[:], id) {
		mid, err := decodeID(string(id))
		if err != nil {
			return true, false
		}
		it.ID = mid
	}
	return true, vr.sink(it) == nil
}

// decodeInto decodes base64url src into dst, which it must fill exactly.
func decodeInto(dst, src []byte) bool {
	n, err := b64.Decode(dst, src)
	return err == nil && n == len(dst)
}

// skipString skips the string at p (its opening quote): the next quote not
// escaped, found a block at a time.
func skipString(p *fastParser) bool {
	p.i++
	q := bytes.IndexByte(p.b[p.i:], '"')
	if q < 0 {
		return false
	}
	if bytes.IndexByte(p.b[p.i:p.i+q], '\\') < 0 {
		p.i += q + 1
		return true
	}
	// An escape before the quote: step over the escapes one by one.
	for ; p.i < len(p.b); p.i++ {
		switch p.b[p.i] {
		case '\\':
			p.i++
		case '"':
			p.i++
			return true
		}
	}
	return false
}

// spanScanner finds the spans of JSON values in a file read by ReaderAt in
// large blocks, keeping the bytes from the value being scanned on. It checks
// structure only (strings, nesting); the import's own decoder checks the rest.
type spanScanner struct {
	ra   io.ReaderAt
	size int64
	off  int64 // file offset of buf[0]
	buf  []byte
	pos  int // next byte in buf
	keep int // buf[keep:] is still needed (-1: from pos)
	err  bool
}

// spanBlock is how much one read takes (a variable so tests can cut blocks
// mid-token).
var spanBlock = 1 << 20

// more reads the next block; false at the end of the file or on an error.
func (s *spanScanner) more() bool {
	if s.err || s.off+int64(len(s.buf)) >= s.size {
		return false
	}
	keep := s.pos
	if s.keep >= 0 && s.keep < keep {
		keep = s.keep
	}
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:])
		s.buf = s.buf[:n]
		s.off += int64(keep)
		s.pos -= keep
		if s.keep >= 0 {
			s.keep -= keep
		}
	}
	at := s.off + int64(len(s.buf))
	want := min(int64(spanBlock), s.size-at)
	if cap(s.buf)-len(s.buf) < int(want) {
		nb := make([]byte, len(s.buf), len(s.buf)+int(want)+spanBlock)
		copy(nb, s.buf)
		s.buf = nb
	}
	n, _ := s.ra.ReadAt(s.buf[len(s.buf):len(s.buf)+int(want)], at)
	s.buf = s.buf[:len(s.buf)+n]
	if n < int(want) {
		s.err = true // an error or a file shorter than its size: stop after these bytes
	}
	return n > 0
}

// cur is the byte at pos (which ws or a check has made available).
func (s *spanScanner) cur() byte { return s.buf[s.pos] }

// mark starts keeping bytes from pos; span returns them up to pos.
func (s *spanScanner) mark() { s.keep = s.pos }

// span is the bytes from the mark to pos, valid until the next release.
func (s *spanScanner) span() []byte { return s.buf[s.keep:s.pos] }

// release stops keeping the marked bytes.
func (s *spanScanner) release() { s.keep = -1 }

// ws skips white space; false at the end of the file.
func (s *spanScanner) ws() bool {
	for {
		for s.pos < len(s.buf) {
			switch s.buf[s.pos] {
			case ' ', '\t', '\r', '\n':
				s.pos++
			default:
				return true
			}
		}
		if !s.more() {
			return false
		}
	}
}

// key reads an object key without escapes (a key with one is refused: the
// import would read it unescaped).
func (s *spanScanner) key() (string, bool) {
	if s.cur() != '"' {
		return "", false
	}
	s.mark()
	if !s.str() {
		return "", false
	}
	k := s.span()
	k = k[1 : len(k)-1]
	s.release()
	for _, c := range k {
		if c == '\\' {
			return "", false
		}
	}
	return string(k), true
}

// str skips the string at pos (its opening quote).
func (s *spanScanner) str() bool {
	s.pos++
	for {
		// Most strings have no escape: their end is the next quote.
		if q := bytes.IndexByte(s.buf[s.pos:], '"'); q >= 0 && bytes.IndexByte(s.buf[s.pos:s.pos+q], '\\') < 0 {
			s.pos += q + 1
			return true
		}
		for s.pos < len(s.buf) {
			switch s.buf[s.pos] {
			case '"':
				s.pos++
				return true
			case '\\':
				if s.pos+1 >= len(s.buf) {
					goto refill
				}
				s.pos += 2
			default:
				s.pos++
			}
		}
	refill:
		if !s.more() {
			return false
		}
	}
}

// skip skips the value at pos: a string, or an object or array by nesting,
// or a literal or number up to the next delimiter.
func (s *spanScanner) skip() bool {
	switch s.cur() {
	case '"':
		return s.str()
	case '{', '[':
	default:
		for {
			for s.pos < len(s.buf) {
				switch s.buf[s.pos] {
				case ',', '}', ']', ' ', '\t', '\r', '\n':
					return true
				}
				s.pos++
			}
			if !s.more() {
				return true // a literal at the end: the import judges it
			}
		}
	}
	depth := 0
	for {
		for s.pos < len(s.buf) {
			switch s.buf[s.pos] {
			case '"':
				if !s.str() {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.pos++
					return true
				}
			}
			s.pos++
		}
		if !s.more() {
			return false
		}
	}
}
