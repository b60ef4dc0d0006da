package history

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"mimichat/content"
)

// CPIM export (RFC 3862 with the IMMI profile): one message/cpim per item,
// framed as the parts of one multipart/mixed document, since CPIM has no
// container of its own. MIMI IDs travel as <base64url@anon.invalid>.

// CPIMWriter writes a history as CPIM messages.
type CPIMWriter struct {
	w        *bufio.Writer
	room     string
	names    map[string]string
	boundary string
	report   *Report
	err      error
}

// NewCPIMWriter writes the container header.
func NewCPIMWriter(w io.Writer, room Room, members []Member, createdAt int64) *CPIMWriter {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", room.ID, createdAt)))
	cw := &CPIMWriter{w: bufio.NewWriterSize(w, 64<<10), room: room.ID, names: map[string]string{},
		boundary: "mimichat-history-" + hex.EncodeToString(h[:12]), report: newReport(FormatCPIM)}
	for _, m := range members {
		cw.names[m.URI] = m.Name
	}
	cw.report.Drop("room metadata and member roles (CPIM has no room object)", 1)
	fmt.Fprintf(cw.w, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", cw.boundary)
	return cw
}

func msgIDHeader(id content.MessageID) string {
	return "<" + b64.EncodeToString(id[:]) + "@anon.invalid>"
}

// Write appends one item.
func (cw *CPIMWriter) Write(it *Item) error {
	if cw.err != nil {
		return cw.err
	}
	if it.Event != nil {
		cw.report.Drop("membership and room changes (no CPIM equivalent)", 1)
		return nil
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "--%s\r\nContent-Type: message/cpim\r\n\r\n", cw.boundary)
	if name := cw.names[it.Sender]; name != "" {
		fmt.Fprintf(&b, "From: %s <%s>\r\n", strconv.Quote(name), it.Sender)
	} else {
		fmt.Fprintf(&b, "From: <%s>\r\n", it.Sender)
	}
	fmt.Fprintf(&b, "To: <%s>\r\nDateTime: %s\r\nMessage-ID: %s\r\n", cw.room, formatTime(it.Time), msgIDHeader(it.ID))
	switch it.Tombstone {
	case Retracted:
		b.WriteString("\r\nContent-Length: 0\r\n\r\n")
		cw.report.Note("deleted messages written as empty placeholders", 1)
		return cw.emit(it, &b)
	case Expired:
		fmt.Fprintf(&b, "ExpiresDateTime: %s\r\n\r\nContent-Length: 0\r\n\r\n", formatTime(it.Time))
		return cw.emit(it, &b)
	}
	m := it.Msg
	if m == nil {
		var err error
		if m, err = content.Decode(it.Raw); err != nil {
			cw.err = fmt.Errorf("history: cpim export seq %d: %w", it.Seq, err)
			return cw.err
		}
	}
	if m.InReplyTo != nil {
		fmt.Fprintf(&b, "In-Reply-To: %s\r\n", msgIDHeader(*m.InReplyTo))
	}
	if m.Replaces != nil {
		fmt.Fprintf(&b, "Supersedes: %s\r\n", msgIDHeader(*m.Replaces))
	}
	if m.Expires != nil {
		if m.Expires.Relative {
			cw.report.Drop("relative (after-read) expiry", 1)
		} else {
			fmt.Fprintf(&b, "ExpiresDateTime: %s\r\n", formatTime(int64(m.Expires.Time)*1000))
		}
	}
	if len(m.TopicID) > 0 {
		cw.report.Drop("topic (thread) IDs", 1)
	}
	cw.report.Drop("salts, so MIMI message IDs cannot be re-verified", 1)
	subject := false
	if s, ok, err := m.Extensions.Subject(); ok && err == nil && subjectHeaderSafe(s) {
		fmt.Fprintf(&b, "Subject: %s\r\n", s)
		subject = true
	}
	knock := content.IsKnock(m)
	if n := len(m.Extensions) - boolInt(knock) - boolInt(subject); n > 0 {
		cw.report.Drop("MIMI extensions (senderUri, roomUri and others)", 1)
	}
	b.WriteString("\r\n")
	if err := cw.part(&b, &m.Body, knock, 0); err != nil {
		cw.err = fmt.Errorf("history: cpim export seq %d: %w", it.Seq, err)
		return cw.err
	}
	return cw.emit(it, &b)
}

func (cw *CPIMWriter) emit(it *Item, b *bytes.Buffer) error {
	if bytes.Contains(b.Bytes()[len(cw.boundary)+4:], []byte("--"+cw.boundary)) {
		cw.err = fmt.Errorf("history: cpim export seq %d: content contains the container boundary", it.Seq)
		return cw.err
	}
	cw.w.Write(b.Bytes())
	cw.report.count(it)
	return nil
}

var semanticsMIME = [...]string{"multipart/alternative", "multipart/related", "multipart/mixed"}

// part writes a MIME entity (headers, blank line, body, CRLF) for p.
func (cw *CPIMWriter) part(b *bytes.Buffer, p *content.NestedPart, knock bool, depth int) error {
	disp := ""
	switch {
	case knock && depth == 0:
		disp = "alert"
	case p.Disposition == content.Unspecified || p.Disposition == content.Render && depth == 0:
	case p.Disposition == content.Render:
		disp = "render"
	default:
		disp = dispositionName(p.Disposition)
	}
	if p.Language != "" {
		fmt.Fprintf(b, "Content-Language: %s\r\n", p.Language)
	}
	switch p.Cardinality {
	case content.NullPart:
		if disp != "" {
			fmt.Fprintf(b, "Content-Disposition: %s\r\n", disp)
		}
		b.WriteString("Content-Length: 0\r\n\r\n")
	case content.Single:
		fmt.Fprintf(b, "Content-Type: %s\r\n", p.ContentType)
		if disp != "" {
			fmt.Fprintf(b, "Content-Disposition: %s\r\n", disp)
		}
		if utf8.Valid(p.Content) && !bytes.ContainsRune(p.Content, '\r') && !bytes.Contains(p.Content, []byte("\n--")) && !bytes.HasPrefix(p.Content, []byte("--")) {
			b.WriteString("\r\n")
			b.Write(p.Content)
		} else {
			b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
			b.WriteString(base64.StdEncoding.EncodeToString(p.Content))
		}
		b.WriteString("\r\n")
	case content.External:
		x := p.External
		fmt.Fprintf(b, "Content-Type: message/external-body; access-type=URL; URL=%s", strconv.Quote(x.URL))
		if x.Size > 0 {
			fmt.Fprintf(b, "; size=%d", x.Size)
		}
		if x.Expires != 0 {
			fmt.Fprintf(b, "; expiration=%s", strconv.Quote(time.Unix(int64(x.Expires), 0).UTC().Format(time.RFC1123Z)))
		}
		b.WriteString("\r\n")
		if disp != "" {
			fmt.Fprintf(b, "Content-Disposition: %s\r\n", disp)
		}
		fmt.Fprintf(b, "\r\nContent-Type: %s\r\n", p.ContentType)
		if x.Filename != "" {
			fmt.Fprintf(b, "Content-Disposition: attachment; filename=%s\r\n", strconv.Quote(x.Filename))
		}
		if x.Description != "" {
			fmt.Fprintf(b, "Content-Description: %s\r\n", strings.ReplaceAll(x.Description, "\n", " "))
		}
		b.WriteString("\r\n")
		if x.EncAlg != 0 || len(x.ContentHash) > 0 {
			cw.report.Drop("attachment decryption keys and content hashes (message/external-body has no field)", 1)
		}
	case content.Multi:
		if int(p.Semantics) >= len(semanticsMIME) {
			return fmt.Errorf("unknown part semantics %d", p.Semantics)
		}
		bd := fmt.Sprintf("part%d-%d-%s", depth, b.Len(), cw.boundary[len(cw.boundary)-12:])
		fmt.Fprintf(b, "Content-Type: %s; boundary=\"%s\"\r\n", semanticsMIME[p.Semantics], bd)
		if disp != "" {
			fmt.Fprintf(b, "Content-Disposition: %s\r\n", disp)
		}
		b.WriteString("\r\n")
		for i := range p.Parts {
			fmt.Fprintf(b, "--%s\r\n", bd)
			if err := cw.part(b, &p.Parts[i], false, depth+1); err != nil {
				return err
			}
		}
		fmt.Fprintf(b, "--%s--\r\n", bd)
	}
	if p.Cardinality == content.Single && content.IsStatusMediaType(p.ContentType) {
		return cw.statusPart(b, p)
	}
	return nil
}

// statusPart replaces a status report body with the IMMI notification.
func (cw *CPIMWriter) statusPart(b *bytes.Buffer, p *content.NestedPart) error {
	rep, err := content.DecodeStatusReport(p.Content)
	if err != nil {
		return err
	}
	// Undo the generic single part written above and write the IMMI form.
	i := bytes.LastIndex(b.Bytes(), []byte("Content-Type: "+p.ContentType))
	b.Truncate(i)
	b.WriteString("Content-Type: message/immi-disposition-notification\r\nContent-Disposition: notification\r\n\r\n")
	for _, e := range rep {
		if e.Status == content.StatusUnread || !e.Status.Known() {
			cw.report.Drop("receipt statuses IMMI has no name for (unread, unknown)", 1)
			continue
		}
		fmt.Fprintf(b, "IMMI-Disposition: %s;dispo=%s\r\n", msgIDHeader(e.ID), e.Status)
	}
	return nil
}

// Close ends the container and returns the report.
func (cw *CPIMWriter) Close() (*Report, error) {
	if cw.err != nil {
		return cw.report, cw.err
	}
	fmt.Fprintf(cw.w, "--%s--\r\n", cw.boundary)
	if err := cw.w.Flush(); err != nil {
		return cw.report, fmt.Errorf("history: cpim export: %w", err)
	}
	return cw.report, nil
}

// subjectHeaderSafe says whether a subject can be a CPIM Subject header's
// value as it is: one line of no control characters, not starting with the
// ";" of a language tag (RFC 3862 §5.3.4). Others stay reported as dropped.
func subjectHeaderSafe(s string) bool {
	if strings.HasPrefix(s, ";") || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}
