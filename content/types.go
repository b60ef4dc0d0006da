package content

import (
	"encoding/hex"
	"fmt"
)

// MessageID is the 32-octet derived message ID of §3.3: a hash algorithm
// octet (0x01 = SHA-256) followed by the first 31 octets of the hash.
// It is a value type so it can key maps without allocation.
type MessageID [32]byte

// String returns the ID as lowercase hex.
func (id MessageID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is all zero (no ID).
func (id MessageID) IsZero() bool { return id == MessageID{} }

// ParseMessageID parses 64 hex digits.
func ParseMessageID(s string) (MessageID, error) {
	var id MessageID
	if len(s) != 64 {
		return id, fmt.Errorf("message ID: want 64 hex digits, got %d characters", len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("message ID: %w", err)
	}
	return id, nil
}

// SaltSize is the fixed salt length since -07.
const SaltSize = 16

// Message is one mimiContent: the 7-element top-level array.
type Message struct {
	Salt       [SaltSize]byte
	Replaces   *MessageID // edit, delete, unlike, changed reaction: the FIRST version's ID
	TopicID    []byte     // empty means no topic
	Expires    *Expiration
	InReplyTo  *MessageID // reply or reaction target (a specific version)
	Extensions Extensions
	Body       NestedPart
}

// Expiration is [relative, time]. Absolute: seconds since the UNIX epoch.
// Relative: seconds after the receiver reads the message.
type Expiration struct {
	Relative bool
	Time     uint32
}

// Disposition is the MIMI Content Disposition registry value (0..255).
type Disposition uint8

const (
	Unspecified Disposition = 0
	Render      Disposition = 1
	Reaction    Disposition = 2
	Profile     Disposition = 3
	Inline      Disposition = 4
	Icon        Disposition = 5
	Attachment  Disposition = 6
	Session     Disposition = 7
	Preview     Disposition = 8
)

// Cardinality selects the NestedPart variant.
type Cardinality uint8

const (
	NullPart Cardinality = 0
	Single   Cardinality = 1
	External Cardinality = 2
	Multi    Cardinality = 3
)

// PartSemantics says how the parts of a MultiPart relate.
type PartSemantics uint8

const (
	ChooseOne  PartSemantics = 0 // like multipart/alternative, receiver's preference
	SingleUnit PartSemantics = 1 // like multipart/related: all or nothing
	ProcessAll PartSemantics = 2 // like multipart/mixed
)

// NestedPart is the body, flattened: which fields are meaningful depends on
// Cardinality. ContentType serves both Single and External parts.
type NestedPart struct {
	Disposition Disposition
	Language    string // "" or a comma-separated list of RFC 5646 tags
	Cardinality Cardinality

	ContentType string // Single, External
	Content     []byte // Single

	External *ExternalPart // External: the 11 fields after contentType

	Semantics PartSemantics // Multi
	Parts     []NestedPart  // Multi: at least 2
}

// ExternalPart holds the fields of an external part after contentType.
type ExternalPart struct {
	URL         string
	Expires     uint32 // seconds since epoch; 0 = never
	Size        uint64 // octets; 0 = unknown
	EncAlg      uint16 // IANA AEAD id; 0 = not encrypted, 1 = AEAD_AES_128_GCM
	Key         []byte
	Nonce       []byte
	AAD         []byte
	HashAlg     uint8 // IANA Named Information id; 1 = sha-256
	ContentHash []byte
	Description string
	Filename    string
}

// ExtKey is an extension map key: an int or a text string of 1..255 bytes.
type ExtKey struct {
	IsText bool
	Int    int64
	Text   string
}

// IntKey and TextKey make extension keys.
func IntKey(i int64) ExtKey   { return ExtKey{Int: i} }
func TextKey(s string) ExtKey { return ExtKey{IsText: true, Text: s} }

// Registered and proposed extension keys.
var (
	KeySenderURI         = IntKey(1)   // -08 registry
	KeyRoomURI           = IntKey(2)   // -08 registry
	KeySenderTimestamp   = IntKey(3)   // more-extensions-00 proposal (TBD1)
	KeyExternalMessageID = IntKey(4)   // more-extensions-00 proposal (TBD2)
	KeySubject           = IntKey(5)   // more-extensions-00 proposal (TBD3)
	KeyLastSeen          = IntKey(256) // more-extensions-00 proposal (TBD4)
)

// Extension is one entry of the extensions map. Value is exactly one
// well-formed CBOR data item, kept as bytes so unknown extensions survive a
// decode/encode round trip unchanged.
type Extension struct {
	Key   ExtKey
	Value []byte
}

// Extensions is the extensions map, in wire order after decoding.
type Extensions []Extension
