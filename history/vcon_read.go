package history

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"mimichat/content"
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
}

type vAttachmentIn struct {
	vAttachment
	DialogObjectRefc string          `json:"dialogObjectRef"`
	MimeType         string          `json:"mimetype"`
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
}

// ReadVCon imports a vCon, handing each item to sink in document order. The
// returned History has the room, members and attachments (Items is nil).
func ReadVCon(r io.Reader, sink func(*Item) error) (*History, *Report, error) {
	return readVCon(r, sink, 0)
}

func readVCon(r io.Reader, sink func(*Item) error, depth int) (*History, *Report, error) {
	vr := &vconReader{h: &History{}, report: newReport(FormatVCon), sink: sink}
	dec := json.NewDecoder(r)
	fail := func(path, rule string, err error) (*History, *Report, error) {
		return nil, vr.report, &ImportError{Format: FormatVCon, Path: path, Rule: rule, Err: err}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fail("$", "a vCon is one JSON object", err)
	}
	var pending []json.RawMessage // dialog seen before parties/room
	var sawDialog, sawParties, sawPayload, sawRoom bool
	var payload string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fail("$", fmt.Sprintf("bad JSON near offset %d", dec.InputOffset()), err)
		}
		key, _ := t.(string)
		path := "$." + key
		switch key {
		case "uuid":
			if err := dec.Decode(&vr.uuid); err != nil {
				return fail(path, "want a string", err)
			}
		case "room":
			var room vRoom
			if err := dec.Decode(&room); err != nil {
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
			if err := dec.Decode(&ps); err != nil {
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
				var d vDialogIn
				if err := dec.Decode(&d); err != nil {
					return fail(ip, fmt.Sprintf("bad dialog object near offset %d", dec.InputOffset()), err)
				}
				if err := vr.dialog(&d, ip); err != nil {
					return nil, vr.report, err
				}
			}
			if _, err := dec.Token(); err != nil {
				return fail(path, "unterminated array", err)
			}
		case "attachments":
			var as []vAttachmentIn
			if err := dec.Decode(&as); err != nil {
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
		case "ciphertext":
			return fail(path, "encrypted vCon (JWE): decrypt it first; mimichat has no key for it", nil)
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(path, fmt.Sprintf("bad JSON near offset %d", dec.InputOffset()), err)
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
	for i, raw := range pending {
		var d vDialogIn
		ip := fmt.Sprintf("$.dialog[%d]", i)
		if err := json.Unmarshal(raw, &d); err != nil {
			return fail(ip, "bad dialog object", err)
		}
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
		}
		if p.Thumbprint != "" {
			m.Thumbprints = []string{p.Thumbprint}
		}
		vr.h.Members = append(vr.h.Members, m)
	}
}

func (vr *vconReader) party(i int, path string) (string, error) {
	if i < 0 || i >= len(vr.parties) || vr.parties[i] == "" {
		return "", &ImportError{Format: FormatVCon, Path: path, Rule: fmt.Sprintf("party index %d out of range (%d parties)", i, len(vr.parties))}
	}
	return vr.parties[i], nil
}

func (vr *vconReader) emit(it *Item) error {
	vr.report.count(it)
	return vr.sink(it)
}

func (vr *vconReader) dialog(d *vDialogIn, path string) error {
	bad := func(field, rule string, err error) error {
		return &ImportError{Format: FormatVCon, Path: path + field, Rule: rule, Err: err}
	}
	// -01 camelCase spellings.
	for _, f := range []struct {
		dst *string
		src string
	}{{&d.MessageID, d.MessageIDc}, {&d.InReplyTo, d.InReplyToc},
		{&d.TopicID, d.TopicIDc}, {&d.MIMIExtensions, d.MIMIExtc}} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
	if len(d.PartyHistory) == 0 {
		d.PartyHistory = d.PartyHistoryc
	}
	if len(d.PartyHistory) > 0 && d.Type == "" {
		for i := range d.PartyHistory {
			if err := vr.partyEvent(&d.PartyHistory[i], d.HubSeq, fmt.Sprintf("%s.party_history[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	if len(d.PartyHistory) > 0 {
		vr.report.Drop("party_history inside call dialogs (join/drop/hold events)", len(d.PartyHistory))
	}
	switch d.Type {
	case "text", "tombstone":
	case "recording", "recording-set", "transfer", "incomplete":
		vr.report.Drop("dialogs of type "+d.Type+" (calls, not chat messages)", 1)
		return nil
	default:
		vr.report.Drop(fmt.Sprintf("dialogs of unknown type %q", d.Type), 1)
		return nil
	}
	ms, err := parseTime(d.Start)
	if err != nil {
		return bad(".start", "want an RFC 3339 time", err)
	}
	it := &Item{Seq: d.HubSeq, Time: ms}
	if d.Originator != nil {
		if it.Sender, err = vr.party(*d.Originator, path+".originator"); err != nil {
			return err
		}
	} else if first, ok := firstParty(d.PartiesRaw); ok && !(vr.mimi && first == 0) {
		if it.Sender, err = vr.party(first, path+".parties[0]"); err != nil {
			return err
		}
	} else if vr.mimi {
		return bad(".originator", "a MIMI message needs its sender's party index", nil)
	} else {
		it.Sender = "urn:uuid:" + vr.uuid + "#unknown"
	}
	if d.Type == "tombstone" || d.Status != "" {
		switch d.Status {
		case "retracted":
			it.Tombstone = Retracted
		case "expired":
			it.Tombstone = Expired
		default:
			return bad(".status", "want \"retracted\" or \"expired\"", nil)
		}
		if it.ID, err = decodeID(d.MessageID); err != nil {
			return bad(".message_id", "bad MIMI message ID", err)
		}
		it.Msg = placeholder(it.Tombstone, ms)
		return vr.emit(it)
	}
	if vr.mimi && d.Salt != "" {
		return vr.mimiMessage(d, it, path)
	}
	return vr.foreignMessage(d, it, path)
}

func firstParty(raw json.RawMessage) (int, bool) {
	var one int
	if json.Unmarshal(raw, &one) == nil && len(raw) > 0 {
		return one, true
	}
	var many []json.RawMessage
	if json.Unmarshal(raw, &many) == nil && len(many) > 0 {
		if json.Unmarshal(many[0], &one) == nil {
			return one, true
		}
	}
	return 0, false
}

func (vr *vconReader) mimiMessage(d *vDialogIn, it *Item, path string) error {
	bad := func(field, rule string, err error) error {
		return &ImportError{Format: FormatVCon, Path: path + field, Rule: rule, Err: err}
	}
	m := &content.Message{}
	salt, err := decodeB64(d.Salt)
	if err != nil || len(salt) != content.SaltSize {
		return bad(".salt", "want 16 octets base64url", err)
	}
	copy(m.Salt[:], salt)
	if it.ID, err = decodeID(d.MessageID); err != nil {
		return bad(".message_id", "bad MIMI message ID", err)
	}
	for _, f := range []struct {
		name string
		in   string
		out  **content.MessageID
	}{{".replaces", d.Replaces, &m.Replaces}, {".in_reply_to", d.InReplyTo, &m.InReplyTo}} {
		if f.in == "" {
			continue
		}
		id, err := decodeID(f.in)
		if err != nil {
			return bad(f.name, "bad MIMI message ID", err)
		}
		*f.out = &id
	}
	if d.TopicID != "" {
		if m.TopicID, err = decodeB64(d.TopicID); err != nil {
			return bad(".topic_id", "not base64url", err)
		}
	}
	switch {
	case d.Expires != nil && d.Expires.Relative:
		m.Expires = &content.Expiration{Relative: true, Time: d.Expires.RelativeTime}
	case d.Expires != nil:
		at, err := parseTime(d.Expires.AbsoluteTime)
		if err != nil || at < 0 || at/1000 > 1<<32-1 {
			return bad(".expires.absolute_time", "want an RFC 3339 time", err)
		}
		m.Expires = &content.Expiration{Time: uint32(at / 1000)}
	case d.Expiring != nil && d.Expiring.Relative:
		m.Expires = &content.Expiration{Relative: true, Time: d.Expiring.Time}
	case d.Expiring != nil:
		at, err := parseTime(d.Expiring.Expires)
		if err != nil || at < 0 || at/1000 > 1<<32-1 {
			return bad(".expiring.expires", "want an RFC 3339 time", err)
		}
		m.Expires = &content.Expiration{Time: uint32(at / 1000)}
	}
	if d.MIMIExtensions != "" {
		raw, err := decodeB64(d.MIMIExtensions)
		if err != nil {
			return bad(".mimi_extensions", "not base64url", err)
		}
		if m.Extensions, err = decodeExtensions(raw); err != nil {
			return bad(".mimi_extensions", "not a MIMI extensions map", err)
		}
	}
	m.Body.Disposition = content.Render
	if d.Disposition != "" {
		disp, ok := parseDisposition(d.Disposition)
		if !ok {
			return bad(".disposition", "unknown disposition "+strconv.Quote(d.Disposition), nil)
		}
		m.Body.Disposition = disp
	}
	m.Body.Language = d.Language
	if err := getBody(&d.vBody, &m.Body, path, 0); err != nil {
		return &ImportError{Format: FormatVCon, Path: path, Rule: "bad body", Err: err}
	}
	raw, err := m.Encode()
	if err != nil {
		return &ImportError{Format: FormatVCon, Path: path, Rule: "not valid MIMI content", Err: err}
	}
	it.Msg, it.Raw = m, raw
	it.Verified = verifyID(it.ID, it.Sender, vr.h.Room.ID, raw)
	if !it.Verified {
		vr.report.Note("message IDs that do not match their content (kept as given, not verifiable)", 1)
	}
	return vr.emit(it)
}

// foreignMessage imports a text dialog of a non-MIMI vCon (email thread,
// legacy chat) as a plain message with a synthetic ID.
func (vr *vconReader) foreignMessage(d *vDialogIn, it *Item, path string) error {
	ns := "vcon:" + vr.uuid
	key := d.MessageID
	if key == "" {
		key = "#" + strconv.Itoa(vr.index)
	}
	vr.index++
	it.ID = syntheticID(ns, key)
	m := &content.Message{Salt: syntheticSalt(ns, key)}
	m.Body.Disposition = content.Render
	if err := getBody(&d.vBody, &m.Body, path, 0); err != nil {
		return &ImportError{Format: FormatVCon, Path: path, Rule: "bad body", Err: err}
	}
	if m.Body.Cardinality == content.Single && m.Body.ContentType == "" {
		m.Body.ContentType = content.TypePlain
	}
	raw, err := m.Encode()
	if err != nil {
		return &ImportError{Format: FormatVCon, Path: path, Rule: "cannot carry this body as MIMI content", Err: err}
	}
	it.Msg, it.Raw = m, raw
	vr.report.Note("non-MIMI text dialogs given synthetic message IDs", 1)
	return vr.emit(it)
}

var eventKinds = map[string]content.RoomEventKind{
	"add": content.EventJoin, "self_add": content.EventJoin, "join": content.EventJoin, "leave": content.EventLeave,
	"remove": content.EventKick, "ban": content.EventBan, "invite": content.EventInvite, "unban": content.EventUnban,
	"kick": content.EventKick,
}

func (vr *vconReader) partyEvent(pe *vPartyEvent, seq uint64, path string) error {
	ms, err := parseTime(pe.Time)
	if err != nil {
		return &ImportError{Format: FormatVCon, Path: path + ".time", Rule: "want an RFC 3339 time", Err: err}
	}
	ev := content.RoomEvent{Seq: seq, HubTime: ms}
	if pe.Originator != nil {
		if ev.Actor, err = vr.party(*pe.Originator, path+".originator"); err != nil {
			return err
		}
	}
	emit := func(ev content.RoomEvent) error {
		e := ev
		return vr.emit(&Item{Seq: seq, Time: ms, Sender: ev.Actor, Event: &e})
	}
	if pe.Event == "room" {
		if pe.Room == nil {
			return &ImportError{Format: FormatVCon, Path: path + ".room", Rule: "a room event needs a room object"}
		}
		n := 0
		for _, c := range []struct {
			k content.RoomEventKind
			v string
		}{{content.EventRoomName, pe.Room.Name}, {content.EventRoomTopic, pe.Room.Subject}, {content.EventRoomAvatar, pe.Room.Avatar}} {
			if c.v != "" {
				ev.Kind, ev.Text = c.k, c.v
				if err := emit(ev); err != nil {
					return err
				}
				n++
			}
		}
		vr.report.Drop("room mood and description changes", boolInt(pe.Room.Mood != "" || len(pe.Room.Description) > 0))
		if n == 0 {
			vr.report.Drop("room events with no name, subject or avatar", 1)
		}
		return nil
	}
	if ev.Target, err = vr.party(pe.Party, path+".party"); err != nil {
		return err
	}
	name := pe.Event
	if pe.MIMIChatEvent != "" {
		name = pe.MIMIChatEvent
	}
	if name == "self_add" || ev.Actor == "" && name == "add" {
		ev.Actor = ev.Target
	}
	if name == "update" || name == "role" {
		if pe.Role == "" {
			vr.report.Drop("member name updates (party_history update without role)", 1)
			return nil
		}
		role, ok := parseRole(pe.Role)
		if !ok {
			return &ImportError{Format: FormatVCon, Path: path + ".role", Rule: "unknown role " + strconv.Quote(pe.Role)}
		}
		ev.Kind, ev.Role = content.EventRoleChange, role
		return emit(ev)
	}
	k, ok := eventKinds[name]
	if !ok {
		vr.report.Drop(fmt.Sprintf("party_history events %q", pe.Event), 1)
		return nil
	}
	ev.Kind = k
	return emit(ev)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func parseRole(s string) (content.MemberRole, bool) {
	for r := content.RoleNone; r <= content.RoleOwner; r++ {
		if strings.EqualFold(r.String(), s) {
			return r, true
		}
	}
	return 0, false
}

func (vr *vconReader) attachment(a *vAttachmentIn, path string) error {
	bad := func(field, rule string, err error) error {
		return &ImportError{Format: FormatVCon, Path: path + field, Rule: rule, Err: err}
	}
	ref := a.DialogObjectRef
	if ref == "" {
		ref = a.DialogObjectRefc
	}
	if ref == "" {
		vr.report.Drop("attachments not tied to a message (no dialog_object_ref)", 1)
		return nil
	}
	s, ok := strings.CutPrefix(ref, "mid:")
	if ok {
		s, ok = strings.CutSuffix(s, "@anon.invalid")
		if !ok {
			s, ok = strings.CutSuffix(s, "@anonymous.invalid")
		}
	}
	idS, idxS, ok2 := strings.Cut(s, ":")
	id, err := decodeID(idS)
	idx, err2 := strconv.Atoi(idxS)
	if !ok || !ok2 || err != nil || err2 != nil || idx < 0 {
		return bad(".dialog_object_ref", "want mid:<message_id>:<part_index>@anon.invalid", err)
	}
	mt := a.MediaType
	if mt == "" {
		mt = a.MimeType
	}
	body, err := bodyBytes(a.Encoding, json.RawMessage(strconv.Quote(a.Body)), mt)
	if err != nil {
		return bad(".body", "cannot decode", err)
	}
	if err := checkContentHash(a.ContentHash, body); err != nil {
		return bad(".content_hash", "does not match the body", err)
	}
	ms, _ := parseTime(a.Start)
	vr.h.Attachments = append(vr.h.Attachments, Attachment{MessageID: id, PartIndex: idx, Time: ms, MediaType: mt,
		Filename: a.Filename, ContentHash: a.ContentHash, Body: body})
	vr.report.Note("embedded attachments", 1)
	return nil
}

func checkContentHash(h string, body []byte) error {
	alg, sum, ok := strings.Cut(h, ":")
	if !ok {
		alg, sum, ok = strings.Cut(h, "-") // core's "sha512-..." form
	}
	if !ok {
		return errors.New("want alg:base64url")
	}
	want, err := decodeB64(sum)
	if err != nil {
		return err
	}
	var got []byte
	switch alg {
	case "sha256":
		s := sha256.Sum256(body)
		got = s[:]
	case "sha512":
		s := sha512.Sum512(body)
		got = s[:]
	default:
		return errors.New("unsupported hash " + strconv.Quote(alg))
	}
	if !bytes.Equal(got, want) {
		return errors.New("hash mismatch")
	}
	return nil
}
