package history

import (
	"encoding/json"
	"strconv"
)

// The vCon writer's dialog objects, encoded by hand: encoding/json's
// reflection was a fifth of a 100k export's CPU. appendDialog writes the
// bytes json.Marshal writes for the same vDialog (field order, omitempty,
// HTML-safe escaping); the shapes it does not handle itself (room events,
// external and multipart bodies, a non-zero duration, a body that is not a
// plain JSON string) go through json.Marshal, so its output is always
// Marshal's (TestAppendDialogIsMarshal checks every kind of item and the
// 100k room).

// appendDialog appends d as JSON to b.
func appendDialog(b []byte, d *vDialog) ([]byte, error) {
	if !dialogByHand(d) {
		out, err := json.Marshal(d)
		return append(b, out...), err
	}
	b = append(b, '{')
	first := true
	key := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
	}
	str := func(name, v string) {
		if v != "" {
			key(name)
			b = appendJSONString(b, v)
		}
	}
	str("type", d.Type)
	str("start", d.Start)
	if d.Duration != nil {
		key("duration")
		b = append(b, '0')
	}
	if len(d.Parties) > 0 {
		key("parties")
		b = append(b, '[')
		for i, p := range d.Parties {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(p), 10)
		}
		b = append(b, ']')
	}
	if d.Originator != nil {
		key("originator")
		b = strconv.AppendInt(b, int64(*d.Originator), 10)
	}
	str("message_id", d.MessageID)
	str("salt", d.Salt)
	str("replaces", d.Replaces)
	str("topic_id", d.TopicID)
	if e := d.Expires; e != nil {
		key("expires")
		b = append(b, `{"relative":`...)
		b = strconv.AppendBool(b, e.Relative)
		if e.RelativeTime != 0 {
			b = append(b, `,"relative_time":`...)
			b = strconv.AppendUint(b, uint64(e.RelativeTime), 10)
		}
		if e.AbsoluteTime != "" {
			b = append(b, `,"absolute_time":`...)
			b = appendJSONString(b, e.AbsoluteTime)
		}
		b = append(b, '}')
	}
	str("in_reply_to", d.InReplyTo)
	str("mimi_extensions", d.MIMIExtensions)
	str("disposition", d.Disposition)
	str("language", d.Language)
	str("status", d.Status)
	if d.HubSeq != 0 {
		key("hub_seq")
		b = strconv.AppendUint(b, d.HubSeq, 10)
	}
	str("mediatype", d.MediaType)
	str("mimetype", d.MimeType)
	str("encoding", d.Encoding)
	if len(d.Body) > 0 {
		key("body")
		b = append(b, d.Body...)
	}
	return append(b, '}'), nil
}

// dialogByHand reports whether appendDialog writes d itself.
func dialogByHand(d *vDialog) bool {
	if len(d.PartyHistory) > 0 || d.ExternalPart != nil || d.MultiPart != nil {
		return false
	}
	if d.Duration != nil && (*d.Duration != 0 || *d.Duration == 0 && 1/(*d.Duration) < 0) {
		return false // only a positive zero is written by hand ("0"; -0 is "-0")
	}
	return len(d.Body) == 0 || plainStringLiteral(d.Body)
}

// plainStringLiteral reports whether raw is one JSON string literal that
// json.Marshal copies unchanged as a json.RawMessage: nothing it would
// escape for HTML ('<', '>', '&') or as a line separator (U+2028, U+2029),
// no raw control characters, and well-formed escapes. Other bytes are
// copied as they are, by Marshal too (putBody's bodies are its own output).
func plainStringLiteral(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	for i := 1; i < len(raw)-1; i++ {
		switch c := raw[i]; {
		case c == '"', c < 0x20, c == '<', c == '>', c == '&':
			return false
		case c == 0xE2 && i+2 < len(raw) && raw[i+1] == 0x80 && raw[i+2]&^1 == 0xA8:
			return false
		case c == '\\':
			i++
			if i >= len(raw)-1 {
				return false
			}
			switch raw[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(raw)-1 {
					return false
				}
				for _, h := range raw[i+1 : i+5] {
					if !isHex(h) {
						return false
					}
				}
				i += 4
			default:
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// appendJSONString appends s as json.Marshal writes it: printable ASCII
// that needs no escape is copied, anything else goes through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			out, _ := json.Marshal(s)
			return append(b, out...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
