package history

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"

	"mimichat/content"
)

// CPIM import: a single message/cpim (with or without the outer MIME
// header), a multipart container of them (mimichat's export, the IMMI
// multipart/alternative wrapper), CRLF or bare LF. The container is
// streamed part by part; each message is parsed in memory.

const cpimNS = "cpim"

type line struct {
	no   int
	text string
}

type lineReader struct {
	r  *bufio.Reader
	no int
}

func (lr *lineReader) next() (line, error) {
	s, err := lr.r.ReadString('\n')
	if err == io.EOF && s == "" {
		return line{}, io.EOF
	}
	if err != nil && err != io.EOF {
		return line{}, err
	}
	lr.no++
	if len(s) > 1<<20 {
		return line{}, &ImportError{Format: FormatCPIM, Line: lr.no, Rule: "line longer than 1 MiB"}
	}
	return line{lr.no, strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")}, nil
}

type header struct {
	name, value string
	no          int
}

func headerValue(hs []header, name string, fold bool) (header, bool) {
	for _, h := range hs {
		if h.name == name || fold && strings.EqualFold(h.name, name) {
			return h, true
		}
	}
	return header{}, false
}

// splitHeaders returns the header block at the top of ls and the rest
// (after the blank line; nil if none). Continuation lines are unfolded.
func splitHeaders(ls []line) ([]header, []line, error) {
	var hs []header
	for i, l := range ls {
		if l.text == "" {
			return hs, ls[i+1:], nil
		}
		if (l.text[0] == ' ' || l.text[0] == '\t') && len(hs) > 0 {
			hs[len(hs)-1].value += " " + strings.TrimSpace(l.text)
			continue
		}
		name, value, ok := strings.Cut(l.text, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, nil, &ImportError{Format: FormatCPIM, Line: l.no, Rule: "want a header line \"Name: value\""}
		}
		hs = append(hs, header{name, strings.TrimSpace(value), l.no})
	}
	return hs, nil, nil
}

func joinLines(ls []line) []byte {
	var b bytes.Buffer
	for i, l := range ls {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l.text)
	}
	return b.Bytes()
}

type cpimReader struct {
	h      *History
	report *Report
	sink   func(*Item) error
	names  map[string]bool
	known  map[content.MessageID]*content.Message // first versions with a reply, expiry or reaction, for fix-ups
	last   int64
}

// ReadCPIM imports CPIM messages, handing each to sink in file order.
func ReadCPIM(r io.Reader, sink func(*Item) error) (*History, *Report, error) {
	cr := &cpimReader{h: &History{}, report: newReport(FormatCPIM), sink: sink, names: map[string]bool{},
		known: map[content.MessageID]*content.Message{}}
	lr := &lineReader{r: bufio.NewReaderSize(r, 64<<10)}
	var top []line
	for {
		l, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, cr.report, err
		}
		top = append(top, l)
		if l.text == "" {
			break
		}
	}
	if len(top) == 0 {
		return nil, cr.report, &ImportError{Format: FormatCPIM, Line: 1, Rule: "empty file"}
	}
	hs, _, err := splitHeaders(top)
	if err != nil {
		return nil, cr.report, err
	}
	ct, params := contentType(hs)
	switch {
	case strings.HasPrefix(ct, "multipart/"):
		cr.unmappedHeaders(hs, "Content-Type", "Content-Transfer-Encoding")
		if err := cr.container(lr, params["boundary"], top[0].no); err != nil {
			return nil, cr.report, err
		}
	default:
		rest, err := readRest(lr)
		if err != nil {
			return nil, cr.report, err
		}
		ents := splitEntities(append(top, rest...))
		if len(ents) > 1 {
			cr.report.Note("message/cpim documents back to back without a container (read one by one)", len(ents))
		}
		for _, e := range ents {
			if err := cr.entity(e); err != nil {
				return nil, cr.report, err
			}
		}
	}
	if cr.h.Room.ID == "" {
		cr.h.Room.ID = "urn:mimichat:import:cpim"
		cr.report.Note("files without a To: room (imported into the room given with --room, or a local one)", 1)
	}
	if cr.report.Items == 0 {
		return nil, cr.report, &ImportError{Format: FormatCPIM, Line: 1, Rule: "no CPIM message found"}
	}
	return cr.h, cr.report, nil
}

func readRest(lr *lineReader) ([]line, error) {
	var ls []line
	total := 0
	for {
		l, err := lr.next()
		if err == io.EOF {
			return ls, nil
		}
		if err != nil {
			return nil, err
		}
		total += len(l.text)
		if total > 64<<20 {
			return nil, &ImportError{Format: FormatCPIM, Line: l.no, Rule: "a single message over 64 MiB"}
		}
		ls = append(ls, l)
	}
}

func contentType(hs []header) (string, map[string]string) {
	h, ok := headerValue(hs, "Content-Type", true)
	if !ok {
		return "", nil
	}
	mt, params, err := mime.ParseMediaType(h.value)
	if err != nil {
		mt, _, _ = strings.Cut(strings.ToLower(h.value), ";")
		return strings.TrimSpace(mt), map[string]string{}
	}
	return mt, params
}

// container streams the parts of a multipart document.
func (cr *cpimReader) container(lr *lineReader, boundary string, no int) error {
	if boundary == "" {
		return &ImportError{Format: FormatCPIM, Line: no, Rule: "multipart without a boundary parameter"}
	}
	delim, end := "--"+boundary, "--"+boundary+"--"
	var part []line
	in, size := false, 0
	for {
		l, err := lr.next()
		if err == io.EOF {
			if in && len(part) > 0 {
				return cr.part(part) // tolerate a missing close delimiter
			}
			return nil
		}
		if err != nil {
			return err
		}
		t := strings.TrimRight(l.text, " \t")
		if t == delim || t == end {
			if in {
				if err := cr.part(part); err != nil {
					return err
				}
			}
			part, in, size = part[:0], t == delim, 0
			if t == end {
				return nil
			}
			continue
		}
		if in {
			size += len(l.text)
			if size > 64<<20 {
				return &ImportError{Format: FormatCPIM, Line: l.no, Rule: "a single message over 64 MiB"}
			}
			part = append(part, l)
		}
	}
}

// part handles one part of a container: message/cpim, a nested multipart,
// or something else (dropped, reported).
func (cr *cpimReader) part(ls []line) error {
	hs, body, err := splitHeaders(ls)
	if err != nil {
		return err
	}
	ct, params := contentType(hs)
	switch {
	case ct == "message/cpim":
		cr.unmappedHeaders(hs, "Content-Type", "Content-Transfer-Encoding")
		return cr.message(body)
	case strings.HasPrefix(ct, "multipart/"):
		cr.unmappedHeaders(hs, "Content-Type", "Content-Transfer-Encoding")
		return cr.nested(body, params["boundary"], ls)
	}
	cr.report.Drop("non-CPIM parts of a container ("+ct+")", 1)
	return nil
}

func (cr *cpimReader) nested(body []line, boundary string, ls []line) error {
	if boundary == "" {
		return &ImportError{Format: FormatCPIM, Line: ls[0].no, Rule: "multipart without a boundary parameter"}
	}
	for _, p := range splitParts(body, boundary) {
		if err := cr.part(p); err != nil {
			return err
		}
	}
	return nil
}

func splitParts(body []line, boundary string) [][]line {
	delim, end := "--"+boundary, "--"+boundary+"--"
	var parts [][]line
	var cur []line
	in := false
	for _, l := range body {
		t := strings.TrimRight(l.text, " \t")
		if t == delim || t == end {
			if in {
				parts = append(parts, cur)
			}
			cur, in = nil, t == delim
			if t == end {
				break
			}
			continue
		}
		if in {
			cur = append(cur, l)
		}
	}
	if in && cur != nil {
		parts = append(parts, cur)
	}
	return parts
}

// splitEntities cuts a file of message/cpim documents written back to back
// (CPIM has no container) at each "Content-Type: message/cpim" line that
// follows a blank line, and, for documents without that outer header, at
// each CPIM header block that follows a blank line (cpimBlockAt); without
// it the first message's body would swallow the others.
func splitEntities(ls []line) [][]line {
	var out [][]line
	start := 0
	for i := 1; i < len(ls); i++ {
		if ls[i-1].text != "" || !isCPIMTypeLine(ls[i].text) && !(hasBlank(ls[start:i-1]) && cpimBlockAt(ls, i)) {
			continue // (a CPIM block right after an outer header is that header's message)
		}
		if i-1 > start {
			out = append(out, ls[start:i-1]) // without the separating blank line
		}
		start = i
	}
	return append(out, ls[start:])
}

// cpimBlockAt reports whether a bare CPIM message starts at ls[i]: a From
// header with an address, then header lines only, among them To, DateTime,
// Message-ID or NS, then a blank line and a MIME header (the message's
// content). A text body quoting a whole CPIM message in that layout would be
// cut too; the report notes every cut.
func cpimBlockAt(ls []line, i int) bool {
	name, v, ok := strings.Cut(ls[i].text, ":")
	if !ok || name != "From" {
		return false
	}
	if _, _, ok := parseAddr(v); !ok {
		return false
	}
	cpim := false
	for j := i + 1; j < len(ls) && j < i+64; j++ {
		t := ls[j].text
		if t == "" {
			next := ""
			if j+1 < len(ls) {
				next = ls[j+1].text
			}
			n, _, ok := strings.Cut(next, ":")
			return cpim && ok && len(n) > 8 && strings.EqualFold(n[:8], "Content-")
		}
		if t[0] == ' ' || t[0] == '\t' {
			continue
		}
		n, _, ok := strings.Cut(t, ":")
		if !ok || n == "" || strings.ContainsAny(n, " \t") {
			return false
		}
		switch n {
		case "To", "DateTime", "Message-ID", "NS":
			cpim = true
		}
	}
	return false
}

func hasBlank(ls []line) bool {
	for _, l := range ls {
		if l.text == "" {
			return true
		}
	}
	return false
}

func isCPIMTypeLine(s string) bool {
	name, v, ok := strings.Cut(s, ":")
	if !ok || !strings.EqualFold(strings.TrimSpace(name), "Content-Type") {
		return false
	}
	mt, _, _ := strings.Cut(v, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "message/cpim")
}

// entity is a top-level document that is not a container: either an outer
// MIME header "Content-Type: message/cpim" or the CPIM headers directly.
func (cr *cpimReader) entity(ls []line) error {
	hs, body, err := splitHeaders(ls)
	if err != nil {
		return err
	}
	ct, _ := contentType(hs)
	if ct == "message/cpim" {
		cr.unmappedHeaders(hs, "Content-Type", "Content-Transfer-Encoding")
		return cr.message(body)
	}
	for _, h := range hs {
		switch h.name {
		case "From", "To", "DateTime", "Message-ID", "NS", "Subject":
			return cr.message(ls)
		}
	}
	return &ImportError{Format: FormatCPIM, Line: ls[0].no, Rule: "not CPIM: no message/cpim Content-Type and no CPIM header (From, To, DateTime, Message-ID, NS)"}
}

var errDecode = errors.New("undecodable")

func decodeTransfer(hs []header, body []byte) ([]byte, error) {
	h, ok := headerValue(hs, "Content-Transfer-Encoding", true)
	if !ok || strings.EqualFold(h.value, "8bit") || strings.EqualFold(h.value, "7bit") || strings.EqualFold(h.value, "binary") {
		return body, nil
	}
	if strings.EqualFold(h.value, "base64") {
		clean := strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == ' ' {
				return -1
			}
			return r
		}, string(body))
		return base64.StdEncoding.DecodeString(clean)
	}
	if strings.EqualFold(h.value, "quoted-printable") {
		// RFC 2045 §6.7; the lines were joined with LF, which the decoder
		// takes as a line break (soft ones end in "=").
		return io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
	}
	return nil, fmt.Errorf("%w: Content-Transfer-Encoding %q", errDecode, h.value)
}
