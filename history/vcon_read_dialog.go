package history

// vCon import of one dialog object: a MIMI text message (rebuilt exactly
// and its ID checked), a tombstone, or a non-MIMI text dialog.

import (
	"encoding/json"
	"fmt"
	"strconv"

	"mimichat/content"
)

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
	ms, err := parseTime(d.Start, vr.report)
	if err != nil {
		return bad(".start", "want an RFC 3339 time", err)
	}
	if d.Duration != nil && *d.Duration != 0 {
		vr.report.Drop("$.dialog[].duration: non-zero durations of text dialogs (a message is an instant)", 1)
	}
	it := &Item{Seq: d.HubSeq, Time: ms}
	tombstone := d.Type == "tombstone" || d.Status != ""
	if d.Originator != nil {
		if it.Sender, err = vr.party(*d.Originator, path+".originator"); err != nil {
			return err
		}
	} else if first, ok := firstParty(d.PartiesRaw); ok && !(vr.mimi && first == 0) {
		if it.Sender, err = vr.party(first, path+".parties[0]"); err != nil {
			return err
		}
	} else if tombstone {
		// The draft's tombstone names no sender: the room stands for it (and
		// an export writes it without originator again).
		it.Sender = vr.h.Room.ID
	} else if vr.mimi {
		return bad(".originator", "a MIMI message needs its sender's party index", nil)
	} else {
		it.Sender = "urn:uuid:" + vr.uuid + "#unknown"
	}
	if n := recipients(d.PartiesRaw, d.Originator, vr.mimi); n > 0 {
		vr.report.Drop(dialogRecipients, 1)
	}
	if tombstone {
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
	if d.URL != "" && d.Body == nil && d.ExternalPart == nil && d.MultiPart == nil {
		// A dialog by reference (core: url + content_hash) is an external part.
		d.ExternalPart = &vExternal{MediaType: d.MediaType, MimeType: d.MimeType, URL: d.URL, ContentHash: d.ContentHash}
		vr.report.Note("$.dialog[].url: text dialogs given by url + content_hash (imported as external parts, not fetched)", 1)
	}
	if vr.mimi && d.Salt != "" {
		if vr.countOnly {
			// The ID mimiMessage keeps (given, verified or not).
			if it.ID, err = decodeID(d.MessageID); err != nil {
				return bad(".message_id", "bad MIMI message ID", err)
			}
			return vr.emit(it)
		}
		return vr.mimiMessage(d, it, path)
	}
	return vr.foreignMessage(d, it, path)
}

const dialogRecipients = "$.dialog[].parties: recipients named besides the sender (a room message reaches every member; the parties are kept as members)"

// recipients counts the parties a dialog names besides its sender: the
// originator when given, else the first party (core: the implied
// originator); in a MIMI vCon party 0 is the room itself. Channels may nest
// arrays and hold nulls (core's multi-channel form).
func recipients(raw json.RawMessage, originator *int, mimi bool) int {
	idx, ok := partyIndices(raw)
	if !ok {
		var v any
		if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
			return 0
		}
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case float64:
				idx = append(idx, int(v))
			case []any:
				for _, e := range v {
					walk(e)
				}
			}
		}
		walk(v)
	}
	sender := -1
	if originator != nil {
		sender = *originator
	} else if len(idx) > 0 {
		sender = idx[0]
	}
	n := 0
	for _, i := range idx {
		if i != sender && !(mimi && i == 0) {
			n++
		}
	}
	return n
}

// partyIndices reads the common forms of a dialog's parties (integers,
// nested arrays, nulls) without decoding JSON into values: this runs for
// every dialog of an import. ok is false for anything else (floats,
// exponents), which the caller decodes in full.
func partyIndices(raw []byte) (idx []int, ok bool) {
	var buf [4]int
	idx = buf[:0]
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c >= '0' && c <= '9':
			n := 0
			for ; i < len(raw) && raw[i] >= '0' && raw[i] <= '9'; i++ {
				n = n*10 + int(raw[i]-'0')
				if n > 1<<30 {
					return nil, false
				}
			}
			i--
			idx = append(idx, n)
		case c == '[' || c == ']' || c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n':
		case c == 'n' && i+4 <= len(raw) && string(raw[i:i+4]) == "null":
			i += 3
		default:
			return nil, false
		}
	}
	return idx, true
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
		at, err := parseTime(d.Expires.AbsoluteTime, nil)
		if err != nil || at < 0 || at/1000 > 1<<32-1 {
			return bad(".expires.absolute_time", "want an RFC 3339 time", err)
		}
		m.Expires = &content.Expiration{Time: uint32(at / 1000)}
	case d.Expiring != nil && d.Expiring.Relative:
		m.Expires = &content.Expiration{Relative: true, Time: d.Expiring.Time}
	case d.Expiring != nil:
		at, err := parseTime(d.Expiring.Expires, nil)
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
	if err := getBody(&d.vBody, &m.Body, path, 0, vr.report); err != nil {
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
	if err := getBody(&d.vBody, &m.Body, path, 0, vr.report); err != nil {
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
