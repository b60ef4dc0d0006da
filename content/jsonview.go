package content

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// The JSON view is the testers' window on a message: every field, byte
// strings as hex, registry values by name and number. It is lossless: a view
// made by ToJSONView turns back into the same message (and so the same bytes)
// with FromJSONView. docs/content-tools.md documents it.

// JSONView is a message as `mimichat content decode` prints it.
type JSONView struct {
	Salt           string          `json:"salt"`
	Replaces       *string         `json:"replaces"`
	TopicID        string          `json:"topicId"`
	TopicIDText    string          `json:"topicIdText,omitempty"`
	Expires        *JSONExpiration `json:"expires"`
	InReplyTo      *string         `json:"inReplyTo"`
	MimiExtensions []JSONExtension `json:"mimiExtensions"`
	NestedPart     JSONPart        `json:"nestedPart"`
}

// JSONExpiration is [relative, time] with a readable form of an absolute time.
type JSONExpiration struct {
	Relative bool   `json:"relative"`
	Time     uint32 `json:"time"`
	UTC      string `json:"utc,omitempty"` // informative; absolute times only
}

// JSONExtension is one extension. CBOR (hex) is authoritative; Value is a
// JSON form of simple values, used when CBOR is absent (hand-written views).
// Diag is informative diagnostic notation.
type JSONExtension struct {
	Key   json.RawMessage `json:"key"` // a JSON number (int key) or string (text key)
	Name  string          `json:"name,omitempty"`
	CBOR  string          `json:"cbor,omitempty"`
	Diag  string          `json:"diag,omitempty"`
	Value any             `json:"value,omitempty"`
}

// JSONCode is a registry value with its name. Encoding reads Value when set,
// otherwise Name.
type JSONCode struct {
	Value *int   `json:"value,omitempty"`
	Name  string `json:"name,omitempty"`
}

// JSONPart is a NestedPart. Content (hex) is authoritative; ContentText is
// shown when the content is UTF-8 and is used only when Content is absent.
type JSONPart struct {
	PartIndex   *int     `json:"partIndex,omitempty"` // informative: the implied index
	Disposition JSONCode `json:"disposition"`
	Language    string   `json:"language"`
	Cardinality JSONCode `json:"cardinality"`

	ContentType *string `json:"contentType,omitempty"`
	Content     *string `json:"content,omitempty"`
	ContentText *string `json:"contentText,omitempty"`

	URL         *string `json:"url,omitempty"`
	Expires     *uint32 `json:"expires,omitempty"`
	Size        *uint64 `json:"size,omitempty"`
	EncAlg      *uint16 `json:"encAlg,omitempty"`
	Key         *string `json:"key,omitempty"`
	Nonce       *string `json:"nonce,omitempty"`
	AAD         *string `json:"aad,omitempty"`
	HashAlg     *uint8  `json:"hashAlg,omitempty"`
	ContentHash *string `json:"contentHash,omitempty"`
	Description *string `json:"description,omitempty"`
	Filename    *string `json:"filename,omitempty"`

	PartSemantics *JSONCode  `json:"partSemantics,omitempty"`
	Parts         []JSONPart `json:"parts,omitempty"`
}

var extensionNames = map[ExtKey]string{
	KeySenderURI:         "senderUri",
	KeyRoomURI:           "roomUri",
	KeySenderTimestamp:   "senderTimestamp (proposed)",
	KeyExternalMessageID: "externalMessageId (proposed)",
	KeySubject:           "subject (proposed)",
	KeyLastSeen:          "lastSeen (proposed)",
}

// ToJSONView makes the JSON view of m.
func ToJSONView(m *Message) JSONView {
	v := JSONView{
		Salt:           hex.EncodeToString(m.Salt[:]),
		TopicID:        hex.EncodeToString(m.TopicID),
		MimiExtensions: []JSONExtension{},
	}
	if len(m.TopicID) > 0 && utf8.Valid(m.TopicID) {
		v.TopicIDText = string(m.TopicID)
	}
	if m.Replaces != nil {
		s := m.Replaces.String()
		v.Replaces = &s
	}
	if m.InReplyTo != nil {
		s := m.InReplyTo.String()
		v.InReplyTo = &s
	}
	if m.Expires != nil {
		e := &JSONExpiration{Relative: m.Expires.Relative, Time: m.Expires.Time}
		if !e.Relative {
			e.UTC = time.Unix(int64(e.Time), 0).UTC().Format(time.RFC3339)
		}
		v.Expires = e
	}
	for _, x := range m.Extensions {
		je := JSONExtension{Name: extensionNames[x.Key], CBOR: hex.EncodeToString(x.Value)}
		if x.Key.IsText {
			je.Key, _ = json.Marshal(x.Key.Text)
		} else {
			je.Key, _ = json.Marshal(x.Key.Int)
		}
		if d, err := cbor.Diagnose(x.Value); err == nil {
			je.Diag = d
		}
		v.MimiExtensions = append(v.MimiExtensions, je)
	}
	index := 0
	v.NestedPart = partToJSON(&m.Body, &index)
	return v
}

func code(n int, name string) JSONCode { return JSONCode{Value: &n, Name: name} }

func partToJSON(p *NestedPart, index *int) JSONPart {
	i := *index
	*index++
	j := JSONPart{
		PartIndex:   &i,
		Disposition: code(int(p.Disposition), p.Disposition.String()),
		Language:    p.Language,
		Cardinality: code(int(p.Cardinality), p.Cardinality.String()),
	}
	hexp := func(b []byte) *string { s := hex.EncodeToString(b); return &s }
	switch p.Cardinality {
	case Single:
		j.ContentType = &p.ContentType
		j.Content = hexp(p.Content)
		if utf8.Valid(p.Content) {
			s := string(p.Content)
			j.ContentText = &s
		}
	case External:
		e := p.External
		if e == nil {
			e = &ExternalPart{}
		}
		j.ContentType = &p.ContentType
		j.URL, j.Expires, j.Size, j.EncAlg = &e.URL, &e.Expires, &e.Size, &e.EncAlg
		j.Key, j.Nonce, j.AAD = hexp(e.Key), hexp(e.Nonce), hexp(e.AAD)
		j.HashAlg, j.ContentHash = &e.HashAlg, hexp(e.ContentHash)
		j.Description, j.Filename = &e.Description, &e.Filename
	case Multi:
		sem := code(int(p.Semantics), p.Semantics.String())
		j.PartSemantics = &sem
		j.Parts = make([]JSONPart, len(p.Parts))
		for k := range p.Parts {
			j.Parts[k] = partToJSON(&p.Parts[k], index)
		}
	}
	return j
}

// ViewError names the JSON path of a field that cannot become a message.
type ViewError struct {
	Path string
	Msg  string
}

func (e *ViewError) Error() string { return e.Path + ": " + e.Msg }

func viewErr(path, format string, a ...any) error {
	return &ViewError{Path: path, Msg: fmt.Sprintf(format, a...)}
}

// FromJSONView turns a JSON view back into a message. Informative fields
// (partIndex, names beside values, diag, utc, topicIdText when topicId is
// given) are ignored. The result is not validated here: Encode does that.
func FromJSONView(v *JSONView) (*Message, error) {
	m := &Message{}
	salt, err := hex.DecodeString(v.Salt)
	if err != nil || len(salt) != SaltSize {
		return nil, viewErr("salt", "want %d bytes as hex, got %q", SaltSize, v.Salt)
	}
	copy(m.Salt[:], salt)
	if m.Replaces, err = viewID("replaces", v.Replaces); err != nil {
		return nil, err
	}
	if m.InReplyTo, err = viewID("inReplyTo", v.InReplyTo); err != nil {
		return nil, err
	}
	if v.TopicID != "" {
		if m.TopicID, err = hex.DecodeString(v.TopicID); err != nil {
			return nil, viewErr("topicId", "not hex: %v", err)
		}
	} else if v.TopicIDText != "" {
		m.TopicID = []byte(v.TopicIDText)
	}
	if v.Expires != nil {
		m.Expires = &Expiration{Relative: v.Expires.Relative, Time: v.Expires.Time}
	}
	for i, x := range v.MimiExtensions {
		ext, err := viewExtension(fmt.Sprintf("mimiExtensions[%d]", i), x)
		if err != nil {
			return nil, err
		}
		m.Extensions = append(m.Extensions, ext)
	}
	if err := partFromJSON("nestedPart", &v.NestedPart, &m.Body); err != nil {
		return nil, err
	}
	return m, nil
}

func viewID(path string, s *string) (*MessageID, error) {
	if s == nil {
		return nil, nil
	}
	id, err := ParseMessageID(*s)
	if err != nil {
		return nil, viewErr(path, "%v", err)
	}
	return &id, nil
}

var valueEncoder, _ = cbor.CoreDetEncOptions().EncMode()

func viewExtension(path string, x JSONExtension) (Extension, error) {
	var ext Extension
	var text string
	var n int64
	if err := json.Unmarshal(x.Key, &n); err == nil {
		ext.Key = IntKey(n)
	} else if err := json.Unmarshal(x.Key, &text); err == nil {
		ext.Key = TextKey(text)
	} else {
		return ext, viewErr(path+".key", "want an integer or a string, got %s", x.Key)
	}
	var err error
	switch {
	case x.CBOR != "":
		if ext.Value, err = hex.DecodeString(x.CBOR); err != nil {
			return ext, viewErr(path+".cbor", "not hex: %v", err)
		}
	case x.Value != nil:
		v := x.Value
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			v = int64(f) // JSON numbers that are integers become CBOR integers
		}
		if ext.Value, err = valueEncoder.Marshal(v); err != nil {
			return ext, viewErr(path+".value", "%v", err)
		}
	default:
		return ext, viewErr(path, "needs cbor (hex) or value")
	}
	return ext, nil
}

func viewCode(path string, c JSONCode, parse func(string) (int, bool)) (int, error) {
	if c.Value != nil {
		if *c.Value < 0 || *c.Value > 255 {
			return 0, viewErr(path, "value %d out of range 0..255", *c.Value)
		}
		return *c.Value, nil
	}
	if n, ok := parse(c.Name); ok {
		return n, nil
	}
	return 0, viewErr(path, "unknown name %q and no value", c.Name)
}

func partFromJSON(path string, j *JSONPart, p *NestedPart) error {
	d, err := viewCode(path+".disposition", j.Disposition, func(s string) (int, bool) {
		v, ok := ParseDisposition(s)
		return int(v), ok
	})
	if err != nil {
		return err
	}
	c, err := viewCode(path+".cardinality", j.Cardinality, func(s string) (int, bool) {
		v, ok := ParseCardinality(s)
		return int(v), ok
	})
	if err != nil {
		return err
	}
	p.Disposition, p.Language, p.Cardinality = Disposition(d), j.Language, Cardinality(c)
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	bytesField := func(name string, s *string) ([]byte, error) {
		if s == nil {
			return []byte{}, nil
		}
		b, err := hex.DecodeString(*s)
		if err != nil {
			return nil, viewErr(path+"."+name, "not hex: %v", err)
		}
		return b, nil
	}
	switch p.Cardinality {
	case NullPart:
	case Single:
		p.ContentType = str(j.ContentType)
		if j.Content != nil {
			if p.Content, err = bytesField("content", j.Content); err != nil {
				return err
			}
		} else {
			p.Content = []byte(str(j.ContentText))
		}
	case External:
		p.ContentType = str(j.ContentType)
		e := &ExternalPart{URL: str(j.URL), Description: str(j.Description), Filename: str(j.Filename)}
		if j.Expires != nil {
			e.Expires = *j.Expires
		}
		if j.Size != nil {
			e.Size = *j.Size
		}
		if j.EncAlg != nil {
			e.EncAlg = *j.EncAlg
		}
		if j.HashAlg != nil {
			e.HashAlg = *j.HashAlg
		}
		for _, f := range []struct {
			name string
			src  *string
			dst  *[]byte
		}{{"key", j.Key, &e.Key}, {"nonce", j.Nonce, &e.Nonce}, {"aad", j.AAD, &e.AAD}, {"contentHash", j.ContentHash, &e.ContentHash}} {
			if *f.dst, err = bytesField(f.name, f.src); err != nil {
				return err
			}
		}
		p.External = e
	case Multi:
		if j.PartSemantics == nil {
			return viewErr(path+".partSemantics", "missing for a multi part")
		}
		s, err := viewCode(path+".partSemantics", *j.PartSemantics, func(s string) (int, bool) {
			v, ok := ParsePartSemantics(s)
			return int(v), ok
		})
		if err != nil {
			return err
		}
		p.Semantics = PartSemantics(s)
		p.Parts = make([]NestedPart, len(j.Parts))
		for k := range j.Parts {
			if err := partFromJSON(fmt.Sprintf("%s.parts[%d]", path, k), &j.Parts[k], &p.Parts[k]); err != nil {
				return err
			}
		}
	default:
		return viewErr(path+".cardinality", "unknown cardinality %d", c)
	}
	return nil
}
