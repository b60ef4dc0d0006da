package history

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"mimichat/content"
)

// Import of the first MIMI JSON format (draft-rosenberg-mimi-msg-format-00,
// §3): {"ID", "chat": {"ID", "provider"}, "sender", "type", a per-type
// structure, "reference": the referenced message embedded}. The file may be
// one message, an array of them, or a sequence of objects (JSON lines).
// An embedded reference whose message the file lacks is imported first, so
// a reaction or edit of a message sent before the history starts renders.

const mimiJSONNS = "mimi-json"

type rText struct {
	Format string `json:"format"`
	Text   string `json:"text"`
}

type rMsg struct {
	ID        string          `json:"ID"`
	Chat      *rChat          `json:"chat"`
	Sender    string          `json:"sender"`
	Type      string          `json:"type"`
	Timestamp json.RawMessage `json:"timestamp"`
	Format    string          `json:"format"`
	Text      string          `json:"text"`
	Content   *rText          `json:"content"`
	Edit      *rText          `json:"edit"`
	Reaction  *struct {
		Unicode string `json:"unicode"`
	} `json:"reaction"`
	Thread *struct {
		ID string `json:"ID"`
	} `json:"thread"`
	Reference *rMsg  `json:"reference"`
	RefersTo  string `json:"refersTo"`
}

type rChat struct {
	ID       string `json:"ID"`
	Provider string `json:"provider"`
}

type mimiJSONReader struct {
	h      *History
	report *Report
	sink   func(*Item) error
	known  map[string]bool
	names  map[string]bool
	chat   rChat
	last   int64
	md     mappedDecoder
}

// ReadMIMIJSON imports draft-rosenberg-mimi-msg-format-00 messages.
func ReadMIMIJSON(r io.Reader, sink func(*Item) error) (*History, *Report, error) {
	jr := &mimiJSONReader{h: &History{}, report: newReport(FormatMIMIJSON), sink: sink, known: map[string]bool{}, names: map[string]bool{}}
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err != nil {
		return nil, jr.report, &ImportError{Format: FormatMIMIJSON, Path: "$", Rule: "empty file", Err: err}
	}
	dec := jr.md.newDecoder(br)
	if first == '[' {
		dec.Token()
		for i := 0; dec.More(); i++ {
			if err := jr.decodeOne(dec, fmt.Sprintf("$[%d]", i)); err != nil {
				return nil, jr.report, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, jr.report, &ImportError{Format: FormatMIMIJSON, Path: "$", Rule: "unterminated array", Err: err}
		}
	} else {
		for i := 0; ; i++ {
			if _, err := firstByte(br); err == io.EOF && !dec.More() {
				break
			}
			if !dec.More() {
				break
			}
			if err := jr.decodeOne(dec, fmt.Sprintf("$[%d]", i)); err != nil {
				return nil, jr.report, err
			}
		}
	}
	if jr.report.Items == 0 {
		return nil, jr.report, &ImportError{Format: FormatMIMIJSON, Path: "$", Rule: "no message"}
	}
	return jr.h, jr.report, nil
}

func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, err
		}
		if b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t' {
			br.ReadByte()
			continue
		}
		return b[0], nil
	}
}

func (jr *mimiJSONReader) decodeOne(dec *json.Decoder, path string) error {
	var m rMsg
	if err := decodeMapped(&jr.md, dec, &m, path, jr.report); err != nil {
		return &ImportError{Format: FormatMIMIJSON, Path: path, Rule: fmt.Sprintf("bad message object near offset %d", dec.InputOffset()), Err: err}
	}
	return jr.message(&m, path, 0)
}

func (jr *mimiJSONReader) roomURI() string {
	return "mimi://" + jr.chat.Provider + "/r/" + jr.chat.ID
}

func (jr *mimiJSONReader) senderURI(s string) string {
	switch {
	case strings.HasPrefix(s, "+"):
		return "tel:" + s
	case strings.Contains(s, ":"):
		return s
	}
	return "mimi://" + jr.chat.Provider + "/u/" + s
}

func (jr *mimiJSONReader) message(r *rMsg, path string, depth int) error {
	bad := func(field, rule string) error {
		return &ImportError{Format: FormatMIMIJSON, Path: path + field, Rule: rule}
	}
	if depth > 4 {
		return bad(".reference", "references nested deeper than 4")
	}
	if r.ID == "" {
		return bad(".ID", "missing")
	}
	if r.Sender == "" {
		return bad(".sender", "missing")
	}
	if r.Chat != nil {
		if r.Chat.ID == "" || r.Chat.Provider == "" {
			return bad(".chat", "needs ID and provider")
		}
		if jr.chat.ID == "" {
			jr.chat = *r.Chat
			jr.h.Room.ID = jr.roomURI()
		} else if *r.Chat != jr.chat {
			return bad(".chat", fmt.Sprintf("a second chat %s@%s in one file", r.Chat.ID, r.Chat.Provider))
		}
	} else if depth == 0 && jr.chat.ID == "" {
		return bad(".chat", "missing (the first message must name its chat)")
	}
	if jr.known[r.ID] {
		if depth > 0 {
			return nil // the referenced message is already here
		}
		jr.report.Note("messages repeated in the file (kept once)", 1)
		return nil
	}
	var target content.MessageID
	if r.Reference != nil {
		if r.Reference.ID == "" {
			return bad(".reference.ID", "missing")
		}
		target = syntheticID(mimiJSONNS, r.Reference.ID)
		if !jr.known[r.Reference.ID] {
			if r.Reference.Timestamp == nil {
				r.Reference.Timestamp = r.Timestamp
			}
			if err := jr.message(r.Reference, path+".reference", depth+1); err != nil {
				return err
			}
			jr.report.Note("embedded references imported as messages (their originals were not in the file)", 1)
		}
	}
	it := &Item{ID: syntheticID(mimiJSONNS, r.ID), Sender: jr.senderURI(r.Sender), Time: jr.last}
	if r.Timestamp != nil {
		ms, err := jsonTime(r.Timestamp, jr.report)
		if err != nil {
			return bad(".timestamp", "want RFC 3339 or milliseconds since the epoch")
		}
		it.Time = ms
	} else {
		jr.report.Note("messages without a timestamp (given the previous one's)", 1)
	}
	jr.last = it.Time
	m := &content.Message{Salt: syntheticSalt(mimiJSONNS, r.ID)}
	text := func(t *rText) content.NestedPart {
		if t == nil {
			t = &rText{Format: r.Format, Text: r.Text}
		}
		f := t.Format
		if f == "" {
			f = content.TypeMarkdown
		}
		return content.SinglePart(content.Render, f, []byte(t.Text))
	}
	needRef := func() error {
		if r.Reference == nil {
			return bad(".reference", "a "+r.Type+" needs the referenced message")
		}
		return nil
	}
	switch r.Type {
	case "content", "":
		m.Body = text(r.Content)
	case "thread":
		m.Body = text(r.Content)
		switch {
		case r.Thread != nil && r.Thread.ID != "":
			m.TopicID = []byte(r.Thread.ID)
		case r.Reference != nil:
			m.TopicID = []byte(r.Reference.ID)
			m.InReplyTo = &target
		}
	case "reaction":
		if err := needRef(); err != nil {
			return err
		}
		if r.Reaction == nil || r.Reaction.Unicode == "" {
			return bad(".reaction.unicode", "missing")
		}
		emoji, err := parseUnicode(r.Reaction.Unicode)
		if err != nil {
			return bad(".reaction.unicode", err.Error())
		}
		m.Body = content.SinglePart(content.Reaction, content.TypePlain, []byte(emoji))
		m.InReplyTo = &target
	case "edit":
		if err := needRef(); err != nil {
			return err
		}
		m.Body = text(r.Edit)
		m.Replaces = &target
	case "delete":
		if err := needRef(); err != nil {
			return err
		}
		m.Body = content.NestedPart{Cardinality: content.NullPart}
		m.Replaces = &target
	default:
		return bad(".type", "unknown type "+strconv.Quote(r.Type))
	}
	if r.RefersTo != "" {
		jr.report.Drop("refersTo (the sender's latest visible message; no MIMI field)", 1)
	}
	raw, err := m.Encode()
	if err != nil {
		return &ImportError{Format: FormatMIMIJSON, Path: path, Rule: "cannot carry as MIMI content", Err: err}
	}
	it.Msg, it.Raw = m, raw
	jr.known[r.ID] = true
	if !jr.names[it.Sender] {
		jr.names[it.Sender] = true
		jr.h.Members = append(jr.h.Members, Member{URI: it.Sender})
	}
	jr.report.count(it)
	it.Room = jr.h.Room.ID
	return jr.sink(it)
}

// parseUnicode accepts "U+2764", "U+1F44D U+FE0F" or the emoji itself.
func parseUnicode(s string) (string, error) {
	if !strings.HasPrefix(strings.ToUpper(s), "U+") {
		return s, nil
	}
	var b strings.Builder
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(f), "U+"), 16, 32)
		if err != nil || n > 0x10FFFF {
			return "", fmt.Errorf("bad code point %q", f)
		}
		b.WriteRune(rune(n))
	}
	return b.String(), nil
}

func jsonTime(raw json.RawMessage, rep *Report) (int64, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return parseTime(s, rep)
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, err
	}
	if n < 1e11 { // seconds
		n *= 1000
	}
	return n, nil
}
