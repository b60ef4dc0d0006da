package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"mimichat/content"
)

// The MIMI body in vCon: a Single part is body/encoding/mediatype on the
// dialog (or Part) object, an External part an external_part object, a
// MultiPart a multi_part object of Part objects (draft-ietf-vcon-mimi-
// messages-00 §dialog-fields..§part-obj).

type vExternal struct {
	MediaType   string     `json:"mediatype,omitempty"`
	MimeType    string     `json:"mimetype,omitempty"` // -00 examples' spelling; read only
	URL         string     `json:"url"`
	Expires     string     `json:"expires,omitempty"`
	Size        uint64     `json:"size,omitempty"`
	Description string     `json:"description,omitempty"`
	Filename    string     `json:"filename,omitempty"`
	ContentHash hashTokens `json:"content_hash,omitempty"`
	Cached      bool       `json:"cached,omitempty"`
	EncAlg      uint16     `json:"enc_alg,omitempty"`
	Key         string     `json:"key,omitempty"`
	Nonce       string     `json:"nonce,omitempty"`
	AAD         string     `json:"aad,omitempty"`
}

type vMulti struct {
	PartSemantics string  `json:"part_semantics"`
	Parts         []vPart `json:"parts"`
}

// vBody is the part content shared by dialog and Part objects.
type vBody struct {
	MediaType    string          `json:"mediatype,omitempty"`
	MimeType     string          `json:"mimetype,omitempty"` // 0.0.1 spelling; read only
	Encoding     string          `json:"encoding,omitempty"`
	Body         json.RawMessage `json:"body,omitempty"`
	ExternalPart *vExternal      `json:"external_part,omitempty"`
	MultiPart    *vMulti         `json:"multi_part,omitempty"`
}

type vPart struct {
	Disposition string `json:"disposition,omitempty"`
	Language    string `json:"language,omitempty"`
	PartIndex   int    `json:"part_index"`
	Cardinality string `json:"cardinality"`
	vBody
}

var semanticsNames = [...]string{"chooseOne", "singleUnit", "processAll"}
var cardinalityNames = [...]string{"nullpart", "single", "external", "multi"}

var hashNames = map[uint8]string{1: "sha256", 2: "sha256-128", 3: "sha256-120", 4: "sha256-96", 5: "sha256-64", 6: "sha256-32", 7: "sha384", 8: "sha512"}

// putBody fills b from p; next numbers parts depth first (the virtual
// part_index 0 is the top-level part).
func putBody(b *vBody, p *content.NestedPart, next *int) {
	switch p.Cardinality {
	case content.Single:
		b.MediaType = p.ContentType
		if utf8.Valid(p.Content) && !strings.ContainsRune(string(p.Content), 0) {
			b.Encoding = "none"
			b.Body, _ = json.Marshal(string(p.Content))
		} else {
			b.Encoding = "base64url"
			b.Body, _ = json.Marshal(b64.EncodeToString(p.Content))
		}
	case content.External:
		x := p.External
		v := &vExternal{MediaType: p.ContentType, URL: x.URL, Size: x.Size, Description: x.Description,
			Filename: x.Filename, EncAlg: x.EncAlg, Key: b64.EncodeToString(x.Key),
			Nonce: b64.EncodeToString(x.Nonce), AAD: b64.EncodeToString(x.AAD)}
		if x.Expires != 0 {
			v.Expires = formatTime(int64(x.Expires) * 1000)
		}
		if len(x.ContentHash) > 0 || x.HashAlg != 0 {
			name, ok := hashNames[x.HashAlg]
			if !ok {
				name = "hash" + strconv.Itoa(int(x.HashAlg))
			}
			v.ContentHash = hashTokens{name + ":" + b64.EncodeToString(x.ContentHash)}
		}
		b.ExternalPart = v
	case content.Multi:
		m := &vMulti{PartSemantics: semName(p.Semantics)}
		for i := range p.Parts {
			c := &p.Parts[i]
			*next++
			vp := vPart{PartIndex: *next, Cardinality: cardinalityNames[c.Cardinality], Language: c.Language}
			if c.Disposition != content.Render {
				vp.Disposition = dispositionName(c.Disposition)
			}
			putBody(&vp.vBody, c, next)
			m.Parts = append(m.Parts, vp)
		}
		b.MultiPart = m
	}
}

func semName(s content.PartSemantics) string {
	if int(s) < len(semanticsNames) {
		return semanticsNames[s]
	}
	return strconv.Itoa(int(s))
}

// getBody is the inverse of putBody. path names the JSON location for errors.
func getBody(b *vBody, p *content.NestedPart, path string, depth int, rep *Report) error {
	if depth > 8 {
		return fmt.Errorf("%s: parts nested deeper than 8", path)
	}
	switch {
	case b.MultiPart != nil:
		p.Cardinality = content.Multi
		sem := -1
		for i, n := range semanticsNames {
			if strings.EqualFold(n, b.MultiPart.PartSemantics) {
				sem = i
			}
		}
		if sem < 0 {
			return fmt.Errorf("%s.multi_part.part_semantics: unknown %q", path, b.MultiPart.PartSemantics)
		}
		p.Semantics = content.PartSemantics(sem)
		if len(b.MultiPart.Parts) < 2 {
			return fmt.Errorf("%s.multi_part.parts: a MultiPart needs at least 2 parts", path)
		}
		for i := range b.MultiPart.Parts {
			vp := &b.MultiPart.Parts[i]
			pp := fmt.Sprintf("%s.multi_part.parts[%d]", path, i)
			var c content.NestedPart
			c.Disposition = content.Render
			if vp.Disposition != "" {
				d, ok := parseDisposition(vp.Disposition)
				if !ok {
					return fmt.Errorf("%s.disposition: unknown %q", pp, vp.Disposition)
				}
				c.Disposition = d
			}
			c.Language = vp.Language
			if err := getBody(&vp.vBody, &c, pp, depth+1, rep); err != nil {
				return err
			}
			if want := strings.ToLower(vp.Cardinality); want != "" && want != cardinalityNames[c.Cardinality] {
				return fmt.Errorf("%s.cardinality: %q but the part is %s", pp, vp.Cardinality, cardinalityNames[c.Cardinality])
			}
			p.Parts = append(p.Parts, c)
		}
	case b.ExternalPart != nil:
		return getExternal(b.ExternalPart, p, path+".external_part", rep)
	case b.Body != nil:
		p.Cardinality = content.Single
		p.ContentType = b.MediaType
		if p.ContentType == "" {
			p.ContentType = b.MimeType
		}
		data, err := bodyBytes(b.Encoding, b.Body, p.ContentType)
		if err != nil {
			return fmt.Errorf("%s.body: %w", path, err)
		}
		if strings.EqualFold(b.Encoding, "json") {
			data = jsonBody(data, rep)
		}
		p.Content = data
	default:
		p.Cardinality = content.NullPart
	}
	return nil
}

// bodyBytes decodes an inline body by its encoding; a missing encoding is
// guessed from the media type (older vCons omit it).
func bodyBytes(enc string, raw json.RawMessage, mediatype string) ([]byte, error) {
	switch strings.ToLower(enc) {
	case "json":
		return raw, nil
	case "none", "":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			if enc == "" {
				return raw, nil // a JSON value without encoding: keep it as JSON
			}
			return nil, errors.New("encoding none needs a JSON string")
		}
		if enc == "" && !strings.HasPrefix(strings.ToLower(mediatype), "text/") && mediatype != "" {
			if b, err := decodeB64(s); err == nil {
				return b, nil
			}
		}
		return []byte(s), nil
	case "base64url", "base64":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New("base64url body must be a JSON string")
		}
		return decodeB64(s)
	}
	return nil, fmt.Errorf("unknown encoding %q", enc)
}

func getExternal(v *vExternal, p *content.NestedPart, path string, rep *Report) error {
	p.Cardinality = content.External
	p.ContentType = v.MediaType
	if p.ContentType == "" {
		p.ContentType = v.MimeType
	}
	if v.URL == "" {
		return fmt.Errorf("%s.url: missing", path)
	}
	x := &content.ExternalPart{URL: v.URL, Size: v.Size, Description: v.Description, Filename: v.Filename, EncAlg: v.EncAlg}
	if v.Expires != "" {
		ms, err := parseTime(v.Expires, nil)
		if err != nil || ms < 0 {
			return fmt.Errorf("%s.expires: not an RFC 3339 time", path)
		}
		x.Expires = uint32(ms / 1000)
	}
	var err error
	for _, f := range []struct {
		name string
		in   string
		out  *[]byte
	}{{"key", v.Key, &x.Key}, {"nonce", v.Nonce, &x.Nonce}, {"aad", v.AAD, &x.AAD}} {
		if *f.out, err = decodeB64(f.in); err != nil {
			return fmt.Errorf("%s.%s: %w", path, f.name, err)
		}
		if len(*f.out) == 0 {
			*f.out = nil
		}
	}
	if len(v.ContentHash) > 0 {
		if x.HashAlg, x.ContentHash, err = mimiHash(v.ContentHash); err != nil {
			return fmt.Errorf("%s.content_hash: %w", path, err)
		}
		rep.Drop("content_hash tokens beyond the first of an external part (MIMI carries one hash)", len(v.ContentHash)-1)
	}
	p.External = x
	return nil
}

// hashTokens is vCon core's ContentHash | ContentHash[]: one token or an
// array of them (several algorithms for the same content).
type hashTokens []string

func (h *hashTokens) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*h = hashTokens{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("content_hash: want a string or an array of strings")
	}
	*h = many
	return nil
}

func (h hashTokens) MarshalJSON() ([]byte, error) {
	if len(h) == 1 {
		return json.Marshal(h[0])
	}
	return json.Marshal([]string(h))
}

// splitHash splits "alg:base64url" (MIMI draft) or core's "alg-base64url"
// (there the name must be a known one: base64url has '-' too).
func splitHash(tok string) (alg, sum string, ok bool) {
	if alg, sum, ok = strings.Cut(tok, ":"); ok {
		return alg, sum, true
	}
	alg = ""
	for _, n := range hashNames {
		if strings.HasPrefix(tok, n+"-") && len(n) > len(alg) {
			alg, sum, ok = n, tok[len(n)+1:], true
		}
	}
	return alg, sum, ok
}

// mimiHash converts the first token of a content_hash to MIMI's hashAlg and
// hash octets.
func mimiHash(toks hashTokens) (uint8, []byte, error) {
	name, h, ok := splitHash(toks[0])
	if !ok {
		return 0, nil, errors.New("want \"alg:base64url\"")
	}
	var alg uint8
	for id, n := range hashNames {
		if n == name {
			alg = id
		}
	}
	if alg == 0 {
		n, err := strconv.Atoi(strings.TrimPrefix(name, "hash"))
		if err != nil || n <= 0 || n >= 256 {
			return 0, nil, fmt.Errorf("unknown hash %q", name)
		}
		alg = uint8(n)
	}
	sum, err := decodeB64(h)
	if err != nil {
		return 0, nil, err
	}
	return alg, sum, nil
}

// jsonBody is the content of a body with encoding "json": a JSON string is
// its value; any other JSON value is kept as compact JSON text (noted).
func jsonBody(raw []byte, rep *Report) []byte {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return []byte(str)
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	rep.Note("$.dialog[].body: bodies with encoding json that are not a string (kept as JSON text)", 1)
	return buf.Bytes()
}
