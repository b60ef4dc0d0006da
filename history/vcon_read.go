package history

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// vCon import: token streaming over the top-level object, one dialog object
// decoded at a time. Lenient with the older spellings (mimetype, camelCase
// names of -01, anonymous.invalid, expiring), strict about what would
// corrupt state (IDs, salts, indices, hashes, critical extensions).

type vPartyIn struct {
	IMURI      string          `json:"im_uri"`
	IMURIc     string          `json:"imUri"`
	Name       string          `json:"name"`
	Role       json.RawMessage `json:"role"`
	Thumbprint string          `json:"thumbprint"`
	Tel        string          `json:"tel"`
	Mailto     string          `json:"mailto"`
	SIP        string          `json:"sip"`
	UUID       string          `json:"uuid"`
}

// extraIdentities names the identity fields after the one uri() takes.
func (p *vPartyIn) extraIdentities() []string {
	var set []string
	for _, f := range []struct{ name, v string }{{"im_uri", p.IMURI}, {"imUri", p.IMURIc}, {"tel", p.Tel},
		{"mailto", p.Mailto}, {"sip", p.SIP}, {"uuid", p.UUID}} {
		if f.v != "" {
			set = append(set, f.name)
		}
	}
	if len(set) < 2 {
		return nil
	}
	return set[1:]
}

func (p *vPartyIn) uri() string {
	switch {
	case p.IMURI != "":
		return p.IMURI
	case p.IMURIc != "":
		return p.IMURIc
	case p.Tel != "":
		return "tel:" + strings.TrimPrefix(p.Tel, "tel:")
	case p.Mailto != "":
		return "mailto:" + strings.TrimPrefix(p.Mailto, "mailto:")
	case p.SIP != "":
		return p.SIP
	case p.UUID != "":
		return "urn:uuid:" + p.UUID
	case p.Name != "":
		return "name:" + p.Name
	}
	return ""
}

type vExpiring struct {
	Relative bool   `json:"relative"`
	Expires  string `json:"expires"`
	Time     uint32 `json:"time"`
}

type vDialogIn struct {
	vDialog
	MessageIDc    string          `json:"messageId"`
	InReplyToc    string          `json:"inReplyTo"`
	TopicIDc      string          `json:"topicId"`
	MIMIExtc      string          `json:"mimiExtensions"`
	Expiring      *vExpiring      `json:"expiring"`
	PartyHistoryc []vPartyEvent   `json:"partyHistory"`
	PartiesRaw    json.RawMessage `json:"parties"`
	// Core's externally referenced dialog: url + content_hash.
	URL         string     `json:"url"`
	ContentHash hashTokens `json:"content_hash"`
}

type vAttachmentIn struct {
	vAttachment
	DialogObjectRefc string          `json:"dialogObjectRef"`
	MimeType         string          `json:"mimetype"`
	ContentHashes    hashTokens      `json:"content_hash"`
	Party            json.RawMessage `json:"party"`
	Dialog           json.RawMessage `json:"dialog"`
}

// vconReader holds what dialog conversion needs from the header.
type vconReader struct {
	h       *History
	uuid    string
	mimi    bool // the file has a MIMI room object
	parties []string
	report  *Report
	sink    func(*Item) error
	index   int
	md      mappedDecoder
	// The dialog object being read, its bytes and the decoder of the
	// common ones (decodeDialog), reused from one dialog to the next.
	d    vDialogIn
	raw  json.RawMessage
	fast fastDecoder
	// countOnly: CountVCon's reader, which hands over a MIMI message's ID
	// without rebuilding the message (countItem: the item it reuses).
	countOnly bool
	countItem Item
}

// ReadVCon imports a vCon, handing each item to sink in document order. The
// returned History has the room, members and attachments (Items is nil).
func ReadVCon(r io.Reader, sink func(*Item) error) (*History, *Report, error) {
	return readVCon(r, sink, 0)
}

func readVCon(r io.Reader, sink func(*Item) error, depth int) (*History, *Report, error) {
	vr := &vconReader{h: &History{}, report: newReport(FormatVCon), sink: sink}
	dec := vr.md.newDecoder(r)
	fail := func(path, rule string, err error) (*History, *Report, error) {
		return nil, vr.report, &ImportError{Format: FormatVCon, Path: path, Rule: rule, Err: err}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fail("$", "a vCon is one JSON object", err)
	}
	var pending []json.RawMessage // dialog seen before parties/room
	var sawDialog, sawParties, sawPayload, sawRoom bool
	var payload, subject string
	seenKeys := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fail("$", fmt.Sprintf("bad JSON near offset %d", dec.InputOffset()), err)
		}
		key, _ := t.(string)
		path := "$." + key
		if seenKeys[key] {
			vr.report.Drop(path+": "+duplicateField, 1)
		}
		seenKeys[key] = true
		switch key {
		case "uuid":
			if err := dec.Decode(&vr.uuid); err != nil {
				return fail(path, "want a string", err)
			}
		case "room":
			var room vRoom
			if err := decodeMapped(&vr.md, dec, &room, path, vr.report); err != nil {
				return fail(path, "want a room object", err)
			}
			if room.ID == "" {
				return fail(path+".id", "the MIMI room object needs an id", nil)
			}
			vr.h.Room = Room{ID: room.ID, Name: room.Name, Subject: room.Subject, Avatar: room.Avatar, Mood: room.Mood}
			for _, d := range room.Description {
				vr.h.Room.Description = append(vr.h.Room.Description, Description(d))
			}
			vr.mimi, sawRoom = true, true
		case "parties":
			var ps []vPartyIn
			if err := decodeMapped(&vr.md, dec, &ps, path, vr.report); err != nil {
				return fail(path, "want an array of party objects", err)
			}
			vr.setParties(ps)
			sawParties = true
		case "critical", "must_support":
			var cs []string
			if err := dec.Decode(&cs); err != nil {
				return fail(path, "want an array of strings", err)
			}
			for i, c := range cs {
				if c != MIMIExtensionToken {
					return fail(fmt.Sprintf("%s[%d]", path, i), "critical extension not supported: "+strconv.Quote(c), nil)
				}
			}
		case "dialog":
			sawDialog = true
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return fail(path, "want an array", err)
			}
			for i := 0; dec.More(); i++ {
				ip := fmt.Sprintf("%s[%d]", path, i)
				if !sawParties || !sawRoom {
					var raw json.RawMessage
					if err := dec.Decode(&raw); err != nil {
						return fail(ip, fmt.Sprintf("bad JSON near offset %d", dec.InputOffset()), err)
					}
					pending = append(pending, raw)
					continue
				}
				d := &vr.d
				if err := vr.decodeDialog(dec, d); err != nil {
					return fail(ip, fmt.Sprintf("bad dialog object near offset %d", dec.InputOffset()), err)
				}
				if err := vr.dialog(d, ip); err != nil {
					return nil, vr.report, err
				}
			}
			if _, err := dec.Token(); err != nil {
				return fail(path, "unterminated array", err)
			}
		case "attachments":
			var as []vAttachmentIn
			if err := decodeMapped(&vr.md, dec, &as, path, vr.report); err != nil {
				return fail(path, "want an array of attachment objects", err)
			}
			for i := range as {
				if err := vr.attachment(&as[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return nil, vr.report, err
				}
			}
		case "payload":
			sawPayload = true
			if err := dec.Decode(&payload); err != nil {
				return fail(path, "want a base64url string", err)
			}
		case "subject":
			if err := dec.Decode(&subject); err != nil {
				return fail(path, "want a string", err)
			}
		case "analysis", "redacted", "amended", "appended":
			var v any
			if err := dec.Decode(&v); err != nil {
				return fail(path, fmt.Sprintf("bad JSON near offset %d", dec.InputOffset()), err)
			}
			n := 1
			if a, ok := v.([]any); ok {
				n = len(a)
			}
			vr.report.Drop(path+": "+unkeptObjects[key], n)
		case "ciphertext":
			return fail(path, "encrypted vCon (JWE): decrypt it first; mimichat has no key for it", nil)
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(path, fmt.Sprintf("bad JSON near offset %d", dec.InputOffset()), err)
			}
			if !vconFraming[key] {
				vr.report.Drop(path+": "+unmappedField, 1)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return fail("$", "unterminated object", err)
	}
	if sawPayload && !sawDialog {
		if depth > 0 {
			return fail("$.payload", "nested signed vCon", nil)
		}
		return vr.signed(payload, sink, depth)
	}
	if !sawRoom {
		vr.h.Room.ID = "urn:uuid:" + vr.uuid
		if vr.uuid == "" {
			return fail("$.uuid", "a vCon without a MIMI room needs a uuid to name the imported room", nil)
		}
	}
	// Core's subject is the conversation's topic; mimichat writes the room's
	// name there (the name is what a vCon viewer should show).
	switch {
	case subject == "" || subject == vr.h.Room.Name || subject == vr.h.Room.Subject:
	case vr.h.Room.Name == "":
		vr.h.Room.Name = subject // the room's name where the file gives none
	case vr.h.Room.Subject == "":
		vr.h.Room.Subject = subject // a name and another subject: the room's topic
	default:
		vr.report.Drop("$.subject: a subject other than the room's name and subject", 1)
	}
	for i, raw := range pending {
		var d vDialogIn
		ip := fmt.Sprintf("$.dialog[%d]", i)
		if err := json.Unmarshal(raw, &d); err != nil {
			return fail(ip, "bad dialog object", err)
		}
		unmappedFields(raw, schemaFor[vDialogIn](), "$.dialog[]", vr.report)
		if err := vr.dialog(&d, ip); err != nil {
			return nil, vr.report, err
		}
	}
	if vr.report.Items == 0 {
		return fail("$.dialog", "nothing to import: "+vr.dropSummary(), nil)
	}
	return vr.h, vr.report, nil
}

func (vr *vconReader) dropSummary() string {
	if len(vr.report.Dropped) == 0 {
		return "no dialog objects"
	}
	var parts []string
	for _, k := range sortedKeys(vr.report.Dropped) {
		parts = append(parts, fmt.Sprintf("%d %s", vr.report.Dropped[k], k))
	}
	return strings.Join(parts, "; ")
}

// signed imports the payload of a JWS-signed vCon (general serialization);
// the signature is not verified (no trust anchors), which the report says.
func (vr *vconReader) signed(payload string, sink func(*Item) error, depth int) (*History, *Report, error) {
	b, err := decodeB64(payload)
	if err != nil {
		return nil, vr.report, &ImportError{Format: FormatVCon, Path: "$.payload", Rule: "not base64url", Err: err}
	}
	var in io.Reader = bytes.NewReader(b)
	if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
		gz, err := gzip.NewReader(in)
		if err != nil {
			return nil, vr.report, &ImportError{Format: FormatVCon, Path: "$.payload", Rule: "bad gzip", Err: err}
		}
		in = io.LimitReader(gz, 1<<30)
	}
	h, rep, err := readVCon(in, sink, depth+1)
	if err != nil {
		var ie *ImportError
		if errors.As(err, &ie) {
			ie.Path = "$.payload→" + ie.Path
		}
		return h, rep, err
	}
	rep.Note("signed vCon: JWS signature not verified", 1)
	return h, rep, nil
}

func (vr *vconReader) setParties(ps []vPartyIn) {
	vr.parties = vr.parties[:0]
	for i := range ps {
		p := &ps[i]
		uri := p.uri()
		vr.parties = append(vr.parties, uri)
		if i == 0 && vr.mimi || uri == "" {
			continue
		}
		m := Member{URI: uri, Name: p.Name}
		var role string
		if json.Unmarshal(p.Role, &role) == nil {
			m.Role = role
		} else if len(p.Role) > 0 && string(p.Role) != "null" {
			vr.report.Drop("$.parties[].role: roles that are not a string", 1)
		}
		for _, extra := range p.extraIdentities() {
			vr.report.Drop("$.parties[]."+extra+": identities of a party beyond the first (the party is its first: im_uri, tel, mailto, sip, uuid)", 1)
		}
		if p.Thumbprint != "" {
			m.Thumbprints = []string{p.Thumbprint}
		}
		vr.h.Members = append(vr.h.Members, m)
	}
}

func (vr *vconReader) party(i int, path string) (string, error) {
	if i < 0 || i >= len(vr.parties) {
		return "", &ImportError{Format: FormatVCon, Path: path, Rule: fmt.Sprintf("party index %d out of range (%d parties)", i, len(vr.parties))}
	}
	if vr.parties[i] == "" {
		// An empty party object (core allows it; redaction leaves it): a
		// stable stand-in, known only once the room is.
		vr.parties[i] = vr.h.Room.ID + "#party" + strconv.Itoa(i)
		vr.h.Members = append(vr.h.Members, Member{URI: vr.parties[i]})
		vr.report.Note(anonymousParties, 1)
	}
	return vr.parties[i], nil
}

const anonymousParties = "parties without identity (redacted or empty), named <room>#party<index>"

func (vr *vconReader) emit(it *Item) error {
	vr.report.count(it)
	it.Room = vr.h.Room.ID
	return vr.sink(it)
}

// unkeptObjects are vCon core's top-level objects the model has no place
// for, each reported by its path.
var unkeptObjects = map[string]string{
	"analysis": "analysis objects (summaries, transcripts, sentiment)",
	"redacted": "the reference to the less redacted vCon",
	"amended":  "the reference to the vCon this one amends",
	"appended": "the reference to the vCon this one appends to (legacy)",
}

// vconFraming are the top-level members that describe the file rather than
// the room's history (the syntax version, the extensions it uses, when it
// was made): read or checked, not kept, and not a loss. The JWS members of a
// signed vCon are its framing too; that the signature is not verified is
// noted.
var vconFraming = map[string]bool{"vcon": true, "created_at": true, "updated_at": true, "extensions": true,
	"signatures": true, "header": true}

// mappedDecoder decodes values one at a time out of a stream and reports
// the fields of each that its Go type does not map. The decoder reads
// through rec, which keeps the bytes since the last value, so the raw text
// of the value just decoded is walked without a copy or a second decode (a
// decode into json.RawMessage and then into the type scanned every dialog
// object twice more: +20-35 % CPU on ImportVCon100k).
type mappedDecoder struct {
	rec  streamRecorder
	path []byte
}

// newDecoder returns a decoder over r whose values decodeMapped can walk.
func (md *mappedDecoder) newDecoder(r io.Reader) *json.Decoder {
	md.rec = streamRecorder{r: r}
	return json.NewDecoder(&md.rec)
}

// decodeMapped decodes the next value of dec (made by md.newDecoder) into
// v and reports the fields of it that v's type does not map (path: where
// the value is).
func decodeMapped[T any](md *mappedDecoder, dec *json.Decoder, v *T, path string, rep *Report) error {
	start := dec.InputOffset()
	if err := dec.Decode(v); err != nil {
		return err
	}
	end := dec.InputOffset()
	if raw, ok := md.rec.span(start, end); ok {
		// From the previous token on: the separator and space before the value.
		raw = bytes.TrimLeft(raw, " \t\r\n,:")
		md.path = walkFields(raw, schemaFor[T](), genericPath(path), rep, md.path)
	}
	md.rec.forget(end)
	return nil
}

// decodeDialog decodes the next dialog object of dec into d (zeroed
// first) and reports its unmapped fields, as decodeMapped does: the common
// ones by hand (vcon_read_fast.go), the others with encoding/json.
func (vr *vconReader) decodeDialog(dec *json.Decoder, d *vDialogIn) error {
	*d = vDialogIn{}
	if err := dec.Decode(&vr.raw); err != nil {
		return err
	}
	vr.md.rec.forget(dec.InputOffset())
	if !vr.fast.decodeDialogFast(vr.raw, d) {
		*d = vDialogIn{}
		if err := json.Unmarshal(vr.raw, d); err != nil {
			return err
		}
	}
	vr.md.path = walkFields(vr.raw, schemaFor[vDialogIn](), "$.dialog[]", vr.report, vr.md.path)
	return nil
}

// streamRecorder is an io.Reader that keeps what it passed on since the
// last forget, by stream offset.
type streamRecorder struct {
	r    io.Reader
	buf  []byte
	base int64 // stream offset of buf[0]
}

func (s *streamRecorder) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.buf = append(s.buf, p[:n]...)
	return n, err
}

// span returns the bytes between two stream offsets, if still kept.
func (s *streamRecorder) span(from, to int64) ([]byte, bool) {
	if from < s.base || to < from || to-s.base > int64(len(s.buf)) {
		return nil, false
	}
	return s.buf[from-s.base : to-s.base], true
}

// forget drops the bytes before stream offset off.
func (s *streamRecorder) forget(off int64) {
	n := off - s.base
	if n <= 0 || n > int64(len(s.buf)) {
		return
	}
	s.buf = s.buf[:copy(s.buf, s.buf[n:])]
	s.base = off
}

// genericPath writes a path's array indices as [].
func genericPath(p string) string {
	if !strings.Contains(p, "[") || !hasIndex(p) {
		return p
	}
	var b strings.Builder
	skip := false
	for _, r := range p {
		switch {
		case r == '[':
			skip = true
			b.WriteString("[]")
		case r == ']':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hasIndex(p string) bool {
	for i := 0; i+1 < len(p); i++ {
		if p[i] == '[' && p[i+1] != ']' {
			return true
		}
	}
	return false
}
