package content

// Builders: one constructor per feature a client sends, each producing a
// complete *Message with a fresh salt and the sender/room extensions, so
// callers never assemble the 7-element array by hand and every feature is
// encoded the way draft-ietf-mimi-content-08 §5 shows it.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"
)

// Media types the builders send.
const (
	TypeMarkdown = "text/markdown;variant=GFM-MIMI"
	TypePlain    = "text/plain;charset=utf-8"
	TypeHTML     = "text/html;charset=utf-8"
)

// MaxExpiry is the farthest ahead an expiry may lie; receivers discard
// messages whose expiry is more than a year away (§9.1).
const MaxExpiry = 365 * 24 * time.Hour

// Builder makes messages for one sender in one room.
type Builder struct {
	Sender string           // extension 1 (senderUri) when non-empty
	Room   string           // extension 2 (roomUri) when non-empty
	Rand   io.Reader        // salt source; nil means crypto/rand
	Now    func() time.Time // clock for expiry checks; nil means time.Now
}

// BuildError says which builder input broke which rule.
type BuildError struct {
	Field string // the input or message field at fault
	Rule  string // what was expected
	Err   error  // underlying cause, if any
}

func (e *BuildError) Error() string {
	msg := "content: build " + e.Field + ": " + e.Rule
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *BuildError) Unwrap() error { return e.Err }

// Option adjusts a message under construction.
type Option func(b *Builder, m *Message) error

// InReplyTo makes the message a reply to id (a specific version).
func InReplyTo(id MessageID) Option {
	return func(_ *Builder, m *Message) error { m.InReplyTo = refID(id); return nil }
}

// InTopic puts the message into the thread/topic with the given opaque ID.
func InTopic(topic []byte) Option {
	return func(_ *Builder, m *Message) error {
		if len(topic) > 4096 {
			return &BuildError{Field: "topicId", Rule: fmt.Sprintf("at most 4096 bytes, got %d", len(topic))}
		}
		m.TopicID = append([]byte(nil), topic...)
		return nil
	}
}

// ExpiresAt asks receivers to delete the message at absolute time t, which
// must lie in the future and at most MaxExpiry away.
func ExpiresAt(t time.Time) Option {
	return func(b *Builder, m *Message) error {
		now := b.now()
		if !t.After(now) {
			return &BuildError{Field: "expires", Rule: "absolute expiry must be in the future"}
		}
		if t.Sub(now) > MaxExpiry {
			return &BuildError{Field: "expires", Rule: "absolute expiry more than a year ahead"}
		}
		if t.Unix() > int64(^uint32(0)) {
			return &BuildError{Field: "expires", Rule: "time does not fit in uint32 seconds"}
		}
		m.Expires = &Expiration{Relative: false, Time: uint32(t.Unix())}
		return nil
	}
}

// ExpiresAfterRead asks receivers to delete the message d after reading it.
func ExpiresAfterRead(d time.Duration) Option {
	return func(_ *Builder, m *Message) error {
		secs := int64(d / time.Second)
		if secs < 1 || d > MaxExpiry {
			return &BuildError{Field: "expires", Rule: "relative expiry must be 1s..1 year"}
		}
		m.Expires = &Expiration{Relative: true, Time: uint32(secs)}
		return nil
	}
}

// WithLanguage sets the language tag list of the message body.
func WithLanguage(lang string) Option {
	return func(_ *Builder, m *Message) error { m.Body.Language = lang; return nil }
}

// WithDisposition overrides the disposition of the message body, e.g. inline
// instead of attachment.
func WithDisposition(d Disposition) Option {
	return func(_ *Builder, m *Message) error { m.Body.Disposition = d; return nil }
}

// WithExtension adds one extension; value is marshalled to deterministic CBOR.
func WithExtension(key ExtKey, value any) Option {
	return func(_ *Builder, m *Message) error {
		raw, err := EncodeValue(value)
		if err != nil {
			return &BuildError{Field: "extension", Rule: "value must encode as CBOR", Err: err}
		}
		m.Extensions.Set(key, raw)
		return nil
	}
}

// Message builds a message with the given body; every other builder ends here.
func (b *Builder) Message(body NestedPart, opts ...Option) (*Message, error) {
	m := &Message{Body: body}
	src := b.Rand
	if src == nil {
		src = rand.Reader
	}
	if _, err := io.ReadFull(src, m.Salt[:]); err != nil {
		return nil, &BuildError{Field: "salt", Rule: "16 random bytes", Err: err}
	}
	if b.Sender != "" {
		m.Extensions.SetSenderURI(b.Sender)
	}
	if b.Room != "" {
		m.Extensions.SetRoomURI(b.Room)
	}
	for _, opt := range opts {
		if err := opt(b, m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Markdown builds a GFM-MIMI message; raw HTML in text is neutralised first.
func (b *Builder) Markdown(text string, opts ...Option) (*Message, error) {
	return b.Message(MarkdownPart(text), opts...)
}

// Text builds a plain-text message.
func (b *Builder) Text(text string, opts ...Option) (*Message, error) {
	return b.Message(TextPart(text), opts...)
}

// HTML builds an HTML message.
func (b *Builder) HTML(html string, opts ...Option) (*Message, error) {
	return b.Message(HTMLPart(html), opts...)
}

// Reply builds a message with body that replies to parent.
func (b *Builder) Reply(parent MessageID, body NestedPart, opts ...Option) (*Message, error) {
	return b.Message(body, append([]Option{InReplyTo(parent)}, opts...)...)
}

// Edit replaces the message whose FIRST version is firstVersionID with a new
// body. previous (the version being edited, may be nil) supplies inReplyTo,
// topicId and expires, which a sender may not change (§9.3).
func (b *Builder) Edit(firstVersionID MessageID, previous *Message, body NestedPart, opts ...Option) (*Message, error) {
	if firstVersionID.IsZero() {
		return nil, &BuildError{Field: "replaces", Rule: "edit needs the first version's message ID"}
	}
	return b.Message(body, append(keepFields(firstVersionID, previous), opts...)...)
}

// Delete retracts the message whose first version is firstVersionID: a
// NullPart with disposition render, keeping previous's other fields.
func (b *Builder) Delete(firstVersionID MessageID, previous *Message, opts ...Option) (*Message, error) {
	if firstVersionID.IsZero() {
		return nil, &BuildError{Field: "replaces", Rule: "delete needs the first version's message ID"}
	}
	body := NestedPart{Disposition: Render, Cardinality: NullPart}
	return b.Message(body, append(keepFields(firstVersionID, previous), opts...)...)
}

// keepFields returns options that set replaces and copy the fields a
// replacement must keep from the version it replaces.
func keepFields(first MessageID, previous *Message) []Option {
	return []Option{func(_ *Builder, m *Message) error {
		m.Replaces = refID(first)
		if previous != nil {
			if previous.InReplyTo != nil {
				m.InReplyTo = refID(*previous.InReplyTo)
			}
			m.TopicID = append([]byte(nil), previous.TopicID...)
			if previous.Expires != nil {
				e := *previous.Expires
				m.Expires = &e
			}
		}
		return nil
	}}
}

// CallLink announces a call or conference: an ExternalPart with disposition
// session whose URL is the join URL. contentType may be "".
func (b *Builder) CallLink(contentType, joinURL, description string, opts ...Option) (*Message, error) {
	if joinURL == "" {
		return nil, &BuildError{Field: "url", Rule: "call link needs a join URL"}
	}
	body := ExternalBody(Session, contentType, ExternalPart{URL: joinURL, Description: description})
	return b.Message(body, opts...)
}

// Attachment sends an external part (see SealAttachment) with disposition
// attachment; use WithDisposition(Inline) to suggest inline rendering.
func (b *Builder) Attachment(contentType string, ext ExternalPart, opts ...Option) (*Message, error) {
	if ext.URL == "" {
		return nil, &BuildError{Field: "url", Rule: "attachment needs the upload URL"}
	}
	return b.Message(ExternalBody(Attachment, contentType, ext), opts...)
}

// Alternatives builds a chooseOne message: the same content in several forms
// or languages (see LanguagePart), in the sender's order of preference.
func (b *Builder) Alternatives(parts []NestedPart, opts ...Option) (*Message, error) {
	body, err := MultiBody(ChooseOne, parts...)
	if err != nil {
		return nil, err
	}
	return b.Message(body, opts...)
}

// refID returns a pointer to a copy of id.
func refID(id MessageID) *MessageID { return &id }

func (b *Builder) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

var errNoParts = errors.New("a MultiPart needs at least 2 parts")

// SaltFromSecret derives a message salt as §9.2 suggests: the first 16
// octets of HMAC-SHA256(saltBaseSecret, nonce), where saltBaseSecret is
// exported from the MLS key schedule and nonce is generated locally.
func SaltFromSecret(saltBaseSecret, nonce []byte) [SaltSize]byte {
	mac := hmac.New(sha256.New, saltBaseSecret)
	mac.Write(nonce)
	var salt [SaltSize]byte
	copy(salt[:], mac.Sum(nil))
	return salt
}

// SaltReader returns a Builder.Rand that yields §9.2 salts: each 16 bytes
// are SaltFromSecret(saltBaseSecret, 16 fresh bytes from nonces).
func SaltReader(saltBaseSecret []byte, nonces io.Reader) io.Reader {
	if nonces == nil {
		nonces = rand.Reader
	}
	return &saltReader{base: append([]byte{}, saltBaseSecret...), nonces: nonces}
}

type saltReader struct {
	base    []byte
	nonces  io.Reader
	pending []byte
}

func (s *saltReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.pending) == 0 {
			nonce := make([]byte, SaltSize)
			if _, err := io.ReadFull(s.nonces, nonce); err != nil {
				return n, err
			}
			salt := SaltFromSecret(s.base, nonce)
			s.pending = salt[:]
		}
		c := copy(p[n:], s.pending)
		s.pending = s.pending[c:]
		n += c
	}
	return n, nil
}
