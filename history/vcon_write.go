package history

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"

	"mimichat/content"
)

// vCon export: a streaming writer. The header (room, parties) is written
// first, then one dialog object per item as it comes, then the cached
// attachments; nothing but the party index and the attachment list is kept.

// VConOptions tunes an export.
type VConOptions struct {
	// CreatedAt is the vCon created_at time (ms); it also seeds the uuid.
	CreatedAt int64
	// Fetch, when set, returns the plaintext of an external part for
	// embedding (--embed-attachments); ok false leaves it as a reference.
	Fetch func(id content.MessageID, partIndex int, p *content.NestedPart) (data []byte, ok bool, err error)
}

// VConWriter writes one vCon document.
type VConWriter struct {
	w       *bufio.Writer
	opts    VConOptions
	room    string
	parties map[string]int
	n       int
	pending []pendingAttachment
	report  *Report
	err     error
	buf     []byte // the dialog being written
}

type pendingAttachment struct {
	id     content.MessageID
	index  int
	part   *content.NestedPart
	time   int64
	party  int
	dialog int
}

type vParty struct {
	IMURI      string `json:"im_uri,omitempty"`
	Name       string `json:"name,omitempty"`
	Role       string `json:"role,omitempty"`
	Thumbprint string `json:"thumbprint,omitempty"`
}

type vRoom struct {
	ID          string         `json:"id,omitempty"`
	Name        string         `json:"name,omitempty"`
	Avatar      string         `json:"avatar,omitempty"`
	Subject     string         `json:"subject,omitempty"`
	Mood        string         `json:"mood,omitempty"`
	Description []vDescription `json:"description,omitempty"`
}

type vDescription struct {
	Type    string `json:"type,omitempty"`
	Lang    string `json:"lang,omitempty"`
	Content string `json:"content"`
}

type vHeader struct {
	VCon       string   `json:"vcon"`
	UUID       string   `json:"uuid"`
	Extensions []string `json:"extensions"`
	CreatedAt  string   `json:"created_at"`
	Subject    string   `json:"subject,omitempty"`
	Room       vRoom    `json:"room"`
	Parties    []vParty `json:"parties"`
}

// MIMIExtensionToken names the extension in the vCon extensions list; the
// draft registers none yet, so this is the draft's name.
const MIMIExtensionToken = "mimi-messages"

type vExpires struct {
	Relative     bool   `json:"relative"`
	RelativeTime uint32 `json:"relative_time,omitempty"`
	AbsoluteTime string `json:"absolute_time,omitempty"`
}

type vPartyEvent struct {
	Party      int    `json:"party"`
	Originator *int   `json:"originator,omitempty"`
	Time       string `json:"time"`
	Event      string `json:"event"`
	Name       string `json:"name,omitempty"`
	Role       string `json:"role,omitempty"`
	Room       *vRoom `json:"room,omitempty"`
	// MIMIChatEvent keeps the exact timeline event kind where the draft's
	// event names are coarser (invite, unban, join by another).
	MIMIChatEvent string `json:"mimichat_event,omitempty"`
}

// vDialog is one dialog object: a text message, a tombstone, or a
// standalone party_history element (as in the draft's example).
type vDialog struct {
	Type           string        `json:"type,omitempty"`
	Start          string        `json:"start,omitempty"`
	Duration       *float64      `json:"duration,omitempty"`
	Parties        []int         `json:"parties,omitempty"`
	Originator     *int          `json:"originator,omitempty"`
	MessageID      string        `json:"message_id,omitempty"`
	Salt           string        `json:"salt,omitempty"`
	Replaces       string        `json:"replaces,omitempty"`
	TopicID        string        `json:"topic_id,omitempty"`
	Expires        *vExpires     `json:"expires,omitempty"`
	InReplyTo      string        `json:"in_reply_to,omitempty"`
	MIMIExtensions string        `json:"mimi_extensions,omitempty"`
	Disposition    string        `json:"disposition,omitempty"`
	Language       string        `json:"language,omitempty"`
	Status         string        `json:"status,omitempty"`
	HubSeq         uint64        `json:"hub_seq,omitempty"`
	PartyHistory   []vPartyEvent `json:"party_history,omitempty"`
	vBody
}

type vAttachment struct {
	Start           string `json:"start"`
	Party           int    `json:"party"`
	Dialog          int    `json:"dialog"`
	ContentHash     string `json:"content_hash"`
	DialogObjectRef string `json:"dialog_object_ref"`
	MediaType       string `json:"mediatype"`
	Filename        string `json:"filename"`
	Encoding        string `json:"encoding"`
	Body            string `json:"body"`
}

// NewVConWriter writes the header. Every sender and event party of the
// items to come must be in members (MembersOf collects them).
func NewVConWriter(w io.Writer, room Room, members []Member, opts VConOptions) (*VConWriter, error) {
	vw := &VConWriter{w: bufio.NewWriterSize(w, 64<<10), opts: opts, room: room.ID,
		parties: map[string]int{room.ID: 0}, report: newReport(FormatVCon)}
	h := vHeader{VCon: "0.4.0", UUID: vconUUID(room.ID, opts.CreatedAt), Extensions: []string{MIMIExtensionToken},
		CreatedAt: formatTime(opts.CreatedAt), Subject: room.Name, Room: toVRoom(room)}
	h.Parties = append(h.Parties, vParty{IMURI: room.ID})
	for _, m := range members {
		if _, dup := vw.parties[m.URI]; dup {
			continue
		}
		vw.parties[m.URI] = len(h.Parties)
		p := vParty{IMURI: m.URI, Name: m.Name, Role: m.Role}
		if len(m.Thumbprints) > 0 {
			p.Thumbprint = m.Thumbprints[0]
			vw.report.Drop("extra client thumbprints of a member (one party per user)", len(m.Thumbprints)-1)
		}
		h.Parties = append(h.Parties, p)
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("history: vcon header: %w", err)
	}
	vw.w.Write(b[:len(b)-1])
	vw.w.WriteString(`,"dialog":[`)
	return vw, nil
}

func toVRoom(r Room) vRoom {
	v := vRoom{ID: r.ID, Name: r.Name, Avatar: r.Avatar, Subject: r.Subject, Mood: r.Mood}
	for _, d := range r.Description {
		v.Description = append(v.Description, vDescription(d))
	}
	return v
}

// vconUUID is a UUIDv8 laid out like v7 (time first), its random bits from
// SHA-256 of the room, as core-03 suggests for stable identifiers.
func vconUUID(room string, ms int64) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", room, ms)))
	var u [16]byte
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	copy(u[6:], h[:10])
	u[6] = u[6]&0x0f | 0x80
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func (vw *VConWriter) party(uri string) (int, error) {
	i, ok := vw.parties[uri]
	if !ok {
		return 0, fmt.Errorf("history: vcon export: %q is not among the parties", uri)
	}
	return i, nil
}

// Write appends one item as a dialog object.
func (vw *VConWriter) Write(it *Item) error {
	if vw.err != nil {
		return vw.err
	}
	if it.Event != nil && it.Event.Kind == content.EventReadReceipts {
		vw.report.Drop("read-receipt policy changes (no vCon party event for them)", 1)
		return nil
	}
	d, err := vw.dialog(it)
	if err == nil {
		vw.buf, err = appendDialog(vw.buf[:0], d)
		if vw.n > 0 {
			vw.w.WriteByte(',')
		}
		vw.w.Write(vw.buf)
	}
	if err != nil {
		vw.err = err
		return err
	}
	vw.n++
	vw.report.count(it)
	return nil
}

func (vw *VConWriter) dialog(it *Item) (*vDialog, error) {
	orig, err := vw.party(it.Sender)
	if err != nil && it.Event == nil {
		return nil, err
	}
	if it.Event != nil {
		return vw.eventDialog(it)
	}
	d := &vDialog{Start: formatTime(it.Time), Originator: &orig, MessageID: b64.EncodeToString(it.ID[:]), HubSeq: it.Seq}
	if it.Tombstone != NoTombstone {
		d.Type, d.Status = "tombstone", it.Tombstone.String()
		if orig == 0 {
			d.Originator = nil // the draft's form: the sender is not known
		}
		return d, nil
	}
	m := it.Msg
	if m == nil {
		if m, err = content.Decode(it.Raw); err != nil {
			return nil, fmt.Errorf("history: vcon export seq %d: %w", it.Seq, err)
		}
	}
	zero := 0.0
	d.Type, d.Duration, d.Parties = "text", &zero, []int{0}
	d.Salt = b64.EncodeToString(m.Salt[:])
	if m.Replaces != nil {
		d.Replaces = b64.EncodeToString(m.Replaces[:])
	}
	if m.InReplyTo != nil {
		d.InReplyTo = b64.EncodeToString(m.InReplyTo[:])
	}
	d.TopicID = b64.EncodeToString(m.TopicID)
	if m.Expires != nil {
		if m.Expires.Relative {
			d.Expires = &vExpires{Relative: true, RelativeTime: m.Expires.Time}
		} else {
			d.Expires = &vExpires{AbsoluteTime: formatTime(int64(m.Expires.Time) * 1000)}
		}
	}
	if len(m.Extensions) > 0 {
		ext, err := encodeExtensions(m.Extensions)
		if err != nil {
			return nil, fmt.Errorf("history: vcon export seq %d: %w", it.Seq, err)
		}
		d.MIMIExtensions = b64.EncodeToString(ext)
	}
	if m.Body.Disposition != content.Render {
		d.Disposition = dispositionName(m.Body.Disposition)
	}
	d.Language = m.Body.Language
	next := 0
	putBody(&d.vBody, &m.Body, &next)
	vw.noteAttachments(it, &m.Body, orig)
	return d, nil
}

// noteAttachments remembers the external parts to embed at Close.
func (vw *VConWriter) noteAttachments(it *Item, p *content.NestedPart, party int) {
	if vw.opts.Fetch == nil {
		return
	}
	idx := 0
	var walk func(p *content.NestedPart)
	walk = func(p *content.NestedPart) {
		here := idx
		if p.Cardinality == content.External {
			vw.pending = append(vw.pending, pendingAttachment{id: it.ID, index: here, part: p, time: it.Time, party: party, dialog: vw.n})
		}
		for i := range p.Parts {
			idx++
			walk(&p.Parts[i])
		}
	}
	walk(p)
}

func (vw *VConWriter) eventDialog(it *Item) (*vDialog, error) {
	ev := it.Event
	name := vconEventName(ev.Kind)
	if name == "" {
		return nil, fmt.Errorf("history: vcon export seq %d: unknown room event %s", it.Seq, ev.Kind)
	}
	pe := vPartyEvent{Time: formatTime(ev.HubTime), Event: name}
	if ev.Actor != "" {
		a, err := vw.party(ev.Actor)
		if err != nil {
			return nil, err
		}
		pe.Originator = &a
	}
	switch name {
	case "room":
		r := &vRoom{}
		switch ev.Kind {
		case content.EventRoomName:
			r.Name = ev.Text
		case content.EventRoomTopic:
			r.Subject = ev.Text
		default:
			r.Avatar = ev.Text
		}
		pe.Room = r
	default:
		p, err := vw.party(ev.Target)
		if err != nil {
			return nil, err
		}
		pe.Party = p
		if ev.Kind == content.EventRoleChange {
			pe.Role = ev.Role.String()
		}
	}
	if ev.Kind == content.EventJoin && ev.Actor != ev.Target || ev.Kind == content.EventInvite || ev.Kind == content.EventUnban {
		pe.MIMIChatEvent = ev.Kind.String()
	}
	return &vDialog{PartyHistory: []vPartyEvent{pe}, HubSeq: it.Seq}, nil
}

// Close writes the attachments and the closing brace and returns the
// export report.
func (vw *VConWriter) Close() (*Report, error) {
	if vw.err != nil {
		return vw.report, vw.err
	}
	vw.w.WriteString(`]`)
	first := true
	for _, pa := range vw.pending {
		data, ok, err := vw.opts.Fetch(pa.id, pa.index, pa.part)
		if err != nil {
			vw.report.Drop("attachments that could not be fetched (left as references)", 1)
			continue
		}
		if !ok {
			continue
		}
		sum := sha256.Sum256(data)
		a := vAttachment{Start: formatTime(pa.time), Party: pa.party, Dialog: pa.dialog,
			ContentHash:     "sha256:" + b64.EncodeToString(sum[:]),
			DialogObjectRef: fmt.Sprintf("mid:%s:%d@anon.invalid", b64.EncodeToString(pa.id[:]), pa.index),
			MediaType:       pa.part.ContentType, Filename: pa.part.External.Filename,
			Encoding: "base64url", Body: b64.EncodeToString(data)}
		b, err := json.Marshal(a)
		if err != nil {
			return vw.report, err
		}
		if first {
			vw.w.WriteString(`,"attachments":[`)
			first = false
		} else {
			vw.w.WriteByte(',')
		}
		vw.w.Write(b)
		vw.report.Note("attachments embedded", 1)
	}
	if !first {
		vw.w.WriteByte(']')
	}
	vw.w.WriteString("}\n")
	if err := vw.w.Flush(); err != nil {
		return vw.report, fmt.Errorf("history: vcon export: %w", err)
	}
	return vw.report, nil
}
