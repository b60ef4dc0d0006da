package history

import (
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"unicode/utf8"

	"mimichat/content"
)

// One CPIM message: the CPIM header block (names case-sensitive, NS
// prefixes resolved by URI) and the inner MIME entity (names
// case-insensitive) mapped to MIMI content.

const imdnNS = "urn:ietf:params:imdn"

// parseAddr splits `"Name" <uri>`, `Name <uri>` or `<uri>`.
func parseAddr(v string) (name, uri string, ok bool) {
	i, j := strings.LastIndexByte(v, '<'), strings.LastIndexByte(v, '>')
	if i < 0 || j < i {
		return "", "", false
	}
	name = strings.TrimSpace(v[:i])
	if uq, err := strconv.Unquote(name); err == nil {
		name = uq
	}
	return strings.Trim(name, `"`), v[i+1 : j], true
}

// cpimID maps a Message-ID to a MIMI ID: mimichat's own <b64@anon.invalid>
// back to the original, anything else to a stable synthetic ID.
func cpimID(v string) content.MessageID {
	v = strings.TrimSpace(v)
	if inner, ok := strings.CutPrefix(v, "<"); ok {
		inner = strings.TrimSuffix(inner, ">")
		if local, dom, ok := strings.Cut(inner, "@"); ok && (dom == "anon.invalid" || dom == "anonymous.invalid") {
			if id, err := decodeID(local); err == nil {
				return id
			}
		}
	}
	return syntheticID(cpimNS, v)
}

func (cr *cpimReader) message(ls []line) error {
	if len(ls) == 0 {
		return &ImportError{Format: FormatCPIM, Line: 0, Rule: "empty message/cpim part"}
	}
	first := ls[0].no
	hs, rest, err := splitHeaders(ls)
	if err != nil {
		return err
	}
	bad := func(h header, rule string, err error) error {
		return &ImportError{Format: FormatCPIM, Line: h.no, Rule: rule, Err: err}
	}
	ns := map[string]string{}
	for _, h := range hs {
		if h.name == "NS" {
			f := strings.Fields(h.value)
			switch {
			case len(f) == 1:
				ns[""] = strings.Trim(f[0], "<>")
			case len(f) >= 2:
				ns[f[0]] = strings.Trim(f[1], "<>")
			}
		}
	}
	it := &Item{Time: cr.last}
	m := &content.Message{}
	var msgID, subject string
	var supersedes, inReplyTo, subjectHdr *header
	var sawTime bool
	for i := range hs {
		h := &hs[i]
		name := h.name
		if pfx, local, ok := strings.Cut(name, "."); ok {
			uri, declared := ns[pfx]
			if !declared {
				cr.report.Drop("CPIM header "+h.name+": an undeclared namespace prefix (not carried)", 1)
				continue
			}
			switch {
			case uri == imdnNS && local == "Message-ID":
				name = "Message-ID"
			case uri == "urn:ietf:params:cpim-headers:":
				name = local
			default:
				cr.report.Drop("CPIM header "+h.name+": extension headers of <"+uri+"> (not carried)", 1)
				continue
			}
		}
		switch name {
		case "From":
			n, uri, ok := parseAddr(h.value)
			if !ok {
				return bad(*h, "From: want [Name] <uri>", nil)
			}
			it.Sender = uri
			if !cr.names[uri] {
				cr.names[uri] = true
				cr.h.Members = append(cr.h.Members, Member{URI: uri, Name: n})
			}
		case "To":
			if _, uri, ok := parseAddr(h.value); ok && cr.h.Room.ID == "" {
				cr.h.Room.ID = uri
			}
		case "DateTime":
			ms, err := parseTime(h.value, cr.report)
			if err != nil {
				return bad(*h, "DateTime: want an RFC 3339 time", err)
			}
			it.Time, sawTime = ms, true
		case "Message-ID":
			msgID = h.value
		case "In-Reply-To":
			inReplyTo = h
		case "Supersedes", "Supercedes":
			supersedes = h
		case "ExpiresDateTime":
			ms, err := parseTime(h.value, nil)
			if err != nil || ms < 0 || ms/1000 > 1<<32-1 {
				return bad(*h, "ExpiresDateTime: want an RFC 3339 time", err)
			}
			m.Expires = &content.Expiration{Time: uint32(ms / 1000)}
		case "Subject":
			if subject == "" && !strings.HasPrefix(h.value, ";") {
				subject, subjectHdr = h.value, h
			} else {
				cr.report.Drop("Subject language variants", 1)
			}
		case "Require":
			for _, req := range strings.Split(h.value, ",") {
				req = strings.TrimSpace(req)
				return bad(*h, fmt.Sprintf("Require: %q is an extension mimichat does not implement (RFC 3862 §3.4: must not process)", req), nil)
			}
		case "NS":
		case "cc":
			cr.report.Drop("CPIM header cc: copied recipients (the room is the audience)", 1)
		default:
			cr.report.Drop("CPIM header "+h.name+": "+unmappedHeader, 1)
		}
	}
	if it.Sender == "" {
		return &ImportError{Format: FormatCPIM, Line: first, Rule: "message without a From header"}
	}
	if !sawTime {
		cr.report.Note("messages without DateTime (given the previous message's time)", 1)
	}
	cr.last = it.Time
	if msgID == "" {
		msgID = fmt.Sprintf("#line%d:%x", first, syntheticID("body", string(joinLines(ls))))
		cr.report.Note("messages without Message-ID (given a synthetic ID)", 1)
	}
	it.ID = cpimID(msgID)
	m.Salt = syntheticSalt(cpimNS, msgID)
	if inReplyTo != nil {
		id := cpimID(inReplyTo.value)
		m.InReplyTo = &id
	}
	if supersedes != nil {
		id := cpimID(supersedes.value)
		m.Replaces = &id
	}
	if subject != "" {
		if err := m.Extensions.SetSubject(subject); err != nil {
			return bad(*subjectHdr, "Subject", err)
		}
	}
	ihs, body, err := splitHeaders(rest)
	if err != nil {
		return err
	}
	if err := cr.body(ihs, body, &m.Body, 0, first); err != nil {
		if errors.Is(err, errSkipMessage) {
			return nil // dropped and reported by body
		}
		return err
	}
	if m.Body.Disposition == alertDisposition {
		m.Body.Disposition = content.Render
		m.Extensions.Set(content.KeyKnock, []byte{0xf5})
	}
	cr.fixup(it, m)
	raw, err := m.Encode()
	if err != nil {
		return &ImportError{Format: FormatCPIM, Line: first, Rule: "cannot carry this message as MIMI content", Err: err}
	}
	it.Msg, it.Raw = m, raw
	cr.report.count(it)
	it.Room = cr.h.Room.ID
	return cr.sink(it)
}

// fixup restores what IMMI leaves implicit: an edit repeats the original's
// In-Reply-To and expiry, and an empty Supersedes of a reaction is an
// unlike, so the timeline accepts them as MIMI content would carry them.
func (cr *cpimReader) fixup(it *Item, m *content.Message) {
	if m.Replaces == nil {
		// Only what a later edit or unlike would need is kept, so a plain
		// message costs nothing here.
		if (m.InReplyTo != nil || m.Expires != nil || m.Body.Disposition == content.Reaction) && len(cr.known) < 1<<20 {
			cr.known[it.ID] = &content.Message{InReplyTo: m.InReplyTo, Expires: m.Expires, Body: content.NestedPart{Disposition: m.Body.Disposition}}
		}
		return
	}
	orig, ok := cr.known[*m.Replaces]
	if !ok {
		return
	}
	if m.InReplyTo == nil {
		m.InReplyTo = orig.InReplyTo
	}
	if m.Expires == nil {
		m.Expires = orig.Expires
	}
	if m.Body.Cardinality == content.NullPart && orig.Body.Disposition == content.Reaction {
		m.Body.Disposition = content.Reaction
	}
}

// alertDisposition marks the IMMI knock while parsing (not a MIMI value).
const alertDisposition = content.Disposition(255)

var mimeSemantics = map[string]content.PartSemantics{
	"multipart/alternative": content.ChooseOne, "multipart/related": content.SingleUnit,
	"multipart/mixed": content.ProcessAll, "multipart/parallel": content.ProcessAll,
}

// body maps an inner MIME entity to a part.
func (cr *cpimReader) body(hs []header, body []line, p *content.NestedPart, depth, no int) error {
	if depth > 8 {
		return &ImportError{Format: FormatCPIM, Line: no, Rule: "multiparts nested deeper than 8"}
	}
	p.Disposition = content.Render
	cr.unmappedHeaders(hs, "Content-Type", "Content-Disposition", "Content-Language", "Content-Transfer-Encoding")
	if h, ok := headerValue(hs, "Content-Disposition", true); ok {
		d, _, _ := strings.Cut(h.value, ";")
		d = strings.ToLower(strings.TrimSpace(d))
		switch d {
		case "alert":
			p.Disposition = alertDisposition
		case "notification":
		default:
			v, ok := parseDisposition(d)
			if !ok {
				cr.report.Drop("unknown Content-Disposition values ("+d+")", 1)
			} else {
				p.Disposition = v
			}
		}
	}
	if h, ok := headerValue(hs, "Content-Language", true); ok {
		p.Language = h.value
	}
	ctH, hasCT := headerValue(hs, "Content-Type", true)
	raw := joinLines(body)
	if !hasCT {
		if len(body) == 0 || len(raw) == 0 {
			p.Cardinality = content.NullPart
			return nil
		}
		ctH.value = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ctH.value)
	if err != nil {
		return &ImportError{Format: FormatCPIM, Line: ctH.no, Rule: "bad Content-Type", Err: err}
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		sem, ok := mimeSemantics[mt]
		if !ok {
			sem = content.ProcessAll
			cr.report.Drop("multipart subtypes mapped to processAll ("+mt+")", 1)
		}
		p.Cardinality, p.Semantics = content.Multi, sem
		for _, part := range splitParts(body, params["boundary"]) {
			phs, pbody, err := splitHeaders(part)
			if err != nil {
				return err
			}
			var c content.NestedPart
			n := no
			if len(part) > 0 {
				n = part[0].no
			}
			if err := cr.body(phs, pbody, &c, depth+1, n); err != nil {
				return err
			}
			p.Parts = append(p.Parts, c)
		}
		if len(p.Parts) < 2 {
			return &ImportError{Format: FormatCPIM, Line: ctH.no, Rule: "a multipart needs at least 2 parts"}
		}
	case mt == "message/external-body":
		p.Cardinality = content.External
		x := &content.ExternalPart{URL: params["url"]}
		if x.URL == "" {
			return &ImportError{Format: FormatCPIM, Line: ctH.no, Rule: "message/external-body needs access-type=URL and URL"}
		}
		if s, err := strconv.ParseUint(params["size"], 10, 64); err == nil {
			x.Size = s
		}
		ehs, _, err := splitHeaders(body)
		if err != nil {
			return err
		}
		cr.unmappedHeaders(ehs, "Content-Type", "Content-Disposition", "Content-Description")
		if h, ok := headerValue(ehs, "Content-Type", true); ok {
			p.ContentType = h.value
		}
		if h, ok := headerValue(ehs, "Content-Disposition", true); ok {
			if _, ps, err := mime.ParseMediaType(h.value); err == nil {
				x.Filename = ps["filename"]
			}
		}
		if h, ok := headerValue(ehs, "Content-Description", true); ok {
			x.Description = h.value
		}
		p.External = x
	case mt == "message/immi-disposition-notification":
		return cr.notification(body, p)
	case mt == "message/imdn+xml":
		data, err := decodeTransfer(hs, raw)
		if err != nil {
			return &ImportError{Format: FormatCPIM, Line: no, Rule: "bad body encoding", Err: err}
		}
		return cr.imdn(data, p, no)
	default:
		data, err := decodeTransfer(hs, raw)
		if err != nil {
			return &ImportError{Format: FormatCPIM, Line: no, Rule: "bad body encoding", Err: err}
		}
		if len(data) == 0 && hasContentLengthZero(hs) && !hasCT {
			p.Cardinality = content.NullPart
			return nil
		}
		p.Cardinality, p.ContentType, p.Content = content.Single, ctH.value, data
		if strings.HasPrefix(mt, "text/") && params["charset"] != "" {
			cr.transcode(p, mt, params)
		}
	}
	return nil
}

// transcode turns a text body of a declared charset into UTF-8 (MIMI text
// is UTF-8). ISO-8859-1 and US-ASCII are converted; other charsets are kept
// as they are and reported.
func (cr *cpimReader) transcode(p *content.NestedPart, mt string, params map[string]string) {
	cs := strings.ToLower(params["charset"])
	switch cs {
	case "utf-8", "utf8":
		return
	case "iso-8859-1", "iso_8859-1", "latin1", "l1", "iso-ir-100", "cp819", "ibm819", "us-ascii", "ascii":
		if !utf8.Valid(p.Content) || cs[0] != 'u' && cs[0] != 'a' {
			u := make([]rune, 0, len(p.Content))
			for _, b := range p.Content {
				u = append(u, rune(b)) // ISO-8859-1 is the first 256 code points
			}
			p.Content = []byte(string(u))
		}
	default:
		cr.report.Drop("text bodies in charsets other than UTF-8, ISO-8859-1 and US-ASCII (kept untranscoded)", 1)
		return
	}
	ps := map[string]string{}
	for k, v := range params {
		ps[k] = v
	}
	ps["charset"] = "utf-8"
	p.ContentType = mime.FormatMediaType(mt, ps)
}

func hasContentLengthZero(hs []header) bool {
	h, ok := headerValue(hs, "Content-Length", true)
	return ok && strings.TrimSpace(h.value) == "0"
}

var immiStatus = map[string]content.Status{"delivered": content.StatusDelivered, "read": content.StatusRead,
	"expired": content.StatusExpired, "deleted": content.StatusDeleted, "hidden": content.StatusHidden, "error": content.StatusError}

// notification maps IMMI-Disposition lines to a MIMI status report.
func (cr *cpimReader) notification(body []line, p *content.NestedPart) error {
	var rep content.StatusReport
	for _, l := range body {
		if strings.TrimSpace(l.text) == "" {
			continue
		}
		name, v, ok := strings.Cut(l.text, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "IMMI-Disposition") {
			return &ImportError{Format: FormatCPIM, Line: l.no, Rule: "want IMMI-Disposition: <id>;dispo=..."}
		}
		id, dispo, ok := strings.Cut(strings.TrimSpace(v), ";")
		st, known := immiStatus[strings.TrimPrefix(strings.TrimSpace(dispo), "dispo=")]
		if !ok || !known {
			return &ImportError{Format: FormatCPIM, Line: l.no, Rule: "IMMI-Disposition: unknown dispo " + strconv.Quote(dispo)}
		}
		rep = append(rep, content.StatusEntry{ID: cpimID(id), Status: st})
	}
	sb, err := content.StatusBody(rep)
	if err != nil {
		return err
	}
	*p = sb
	return nil
}

const unmappedHeader = "headers mimichat does not know (not carried)"

// unmappedHeaders reports each MIME header of hs that is not one of mapped
// (names case-insensitive, RFC 2045), by name. MIME-Version and
// Content-Length only frame the entity.
func (cr *cpimReader) unmappedHeaders(hs []header, mapped ...string) {
	for _, h := range hs {
		if strings.EqualFold(h.name, "MIME-Version") || strings.EqualFold(h.name, "Content-Length") {
			continue
		}
		known := false
		for _, m := range mapped {
			known = known || strings.EqualFold(h.name, m)
		}
		if !known {
			cr.report.Drop("MIME header "+h.name+": "+unmappedHeader, 1)
		}
	}
}
