package mls

import (
	"errors"
	"fmt"
	"time"
)

// Key packages (RFC 9420 §10): creation and validation.

// ErrInvalidKeyPackage is wrapped by key package validation failures.
var ErrInvalidKeyPackage = errors.New("mls: invalid key package")

// defaultLifetime is how long a fresh key package stays valid.
const defaultLifetime = 90 * 24 * time.Hour

// Identity is a client's long-term signing identity.
type Identity struct {
	CipherSuite   CipherSuite
	Credential    Credential
	SignaturePriv []byte
	SignaturePub  []byte
}

// NewIdentity creates a basic-credential identity with a fresh signature key.
func NewIdentity(cs CipherSuite, name []byte) (*Identity, error) {
	s, err := lookupSuite(cs)
	if err != nil {
		return nil, err
	}
	priv, pub, err := s.generateSignatureKey()
	if err != nil {
		return nil, err
	}
	return &Identity{CipherSuite: cs, Credential: Credential{Type: CredentialBasic, Identity: clone(name)},
		SignaturePriv: priv, SignaturePub: pub}, nil
}

// defaultCapabilities lists what this implementation supports, including
// ExtensionWelcomeTreeApart.
func defaultCapabilities(cs CipherSuite) Capabilities {
	return Capabilities{Versions: []uint16{mls10}, CipherSuites: []uint16{uint16(cs)},
		Extensions: []uint16{ExtensionWelcomeTreeApart},
		Proposals:  []uint16{ProposalSelfRemove}, Credentials: []uint16{CredentialBasic, CredentialX509}}
}

// newLeafNode builds and signs a leaf for id with the given encryption key.
func (id *Identity) newLeafNode(s *suite, encPub []byte, source uint8, groupID []byte, leaf uint32) (*LeafNode, error) {
	return id.newLeafNodeLifetime(s, encPub, source, groupID, leaf, defaultLifetime)
}

func (id *Identity) newLeafNodeLifetime(s *suite, encPub []byte, source uint8, groupID []byte, leaf uint32, lifetime time.Duration) (*LeafNode, error) {
	l := &LeafNode{EncryptionKey: encPub, SignatureKey: id.SignaturePub, Credential: id.Credential,
		Capabilities: defaultCapabilities(id.CipherSuite), Source: source}
	if source == sourceKeyPackage {
		now := time.Now()
		l.NotBefore = uint64(now.Add(-time.Hour).Unix())
		l.NotAfter = uint64(now.Add(lifetime).Unix())
	}
	return l, l.sign(s, id.SignaturePriv, groupID, leaf)
}

// KeyPackageOption tunes NewKeyPackage.
type KeyPackageOption func(*keyPackageConfig)

type keyPackageConfig struct {
	lastResort bool
	lifetime   time.Duration
	// capabilities replaces the leaf's default capabilities (tests: a
	// joiner of another implementation).
	capabilities *Capabilities
}

// WithLastResort marks the key package as a last-resort one
// (draft-ietf-mls-extensions last_resort_key_package component in an
// app_data_dictionary KeyPackage extension): the server hands it out again
// when the single-use ones are gone, so its owner keeps the bundle after use.
func WithLastResort() KeyPackageOption { return func(c *keyPackageConfig) { c.lastResort = true } }

// WithLifetime sets how long the key package stays valid (default 90 days).
func WithLifetime(d time.Duration) KeyPackageOption {
	return func(c *keyPackageConfig) { c.lifetime = d }
}

// KeyPackageBundle is a published KeyPackage and the private keys its owner keeps.
type KeyPackageBundle struct {
	KeyPackage     []byte // MLSMessage(KeyPackage), what is published
	InitPriv       []byte
	EncryptionPriv []byte
	Identity       *Identity
}

// NewKeyPackage creates a signed key package for id.
func NewKeyPackage(id *Identity, opts ...KeyPackageOption) (*KeyPackageBundle, error) {
	cfg := keyPackageConfig{lifetime: defaultLifetime}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.lifetime <= 0 {
		return nil, fmt.Errorf("mls: key package lifetime %v is not positive", cfg.lifetime)
	}
	s, err := lookupSuite(id.CipherSuite)
	if err != nil {
		return nil, err
	}
	initPriv, initPub, err := s.generateHPKEKey()
	if err != nil {
		return nil, err
	}
	encPriv, encPub, err := s.generateHPKEKey()
	if err != nil {
		return nil, err
	}
	leaf, err := id.newLeafNodeLifetime(s, encPub, sourceKeyPackage, nil, 0, cfg.lifetime)
	if err != nil {
		return nil, err
	}
	if cfg.capabilities != nil {
		leaf.Capabilities = *cfg.capabilities
		if err := leaf.sign(s, id.SignaturePriv, nil, 0); err != nil {
			return nil, err
		}
	}
	kp := &KeyPackage{Version: mls10, CipherSuite: id.CipherSuite, InitKey: initPub, LeafNode: *leaf}
	if cfg.lastResort {
		kp.Extensions = []Extension{lastResortExtension()}
	}
	var w writer
	kp.encodeTBS(&w)
	if kp.Signature, err = s.signWithLabel(id.SignaturePriv, "KeyPackageTBS", w.b); err != nil {
		return nil, err
	}
	msg := &Message{WireFormat: WireKeyPackage, KeyPackage: kp}
	return &KeyPackageBundle{KeyPackage: msg.Bytes(), InitPriv: initPriv, EncryptionPriv: encPriv, Identity: id}, nil
}

// ParseKeyPackage decodes an MLSMessage(KeyPackage) and validates it for cs.
func ParseKeyPackage(b []byte, cs CipherSuite) (*KeyPackage, error) {
	m, err := ParseMessage(b)
	if err != nil {
		return nil, err
	}
	if m.KeyPackage == nil {
		return nil, fmt.Errorf("%w: wire format %d, want key package", ErrInvalidKeyPackage, m.WireFormat)
	}
	return m.KeyPackage, validateKeyPackage(m.KeyPackage, cs, nil, time.Now())
}

// validateKeyPackage applies RFC 9420 §10.1; now==zero skips the lifetime check.
func validateKeyPackage(kp *KeyPackage, cs CipherSuite, groupExts []Extension, now time.Time) error {
	if kp.Version != mls10 {
		return fmt.Errorf("%w: version %d", ErrInvalidKeyPackage, kp.Version)
	}
	if kp.CipherSuite != cs {
		return fmt.Errorf("%w: cipher suite %s, group uses %s", ErrInvalidKeyPackage, kp.CipherSuite, cs)
	}
	s, err := lookupSuite(cs)
	if err != nil {
		return err
	}
	var w writer
	kp.encodeTBS(&w)
	if err := s.verifyWithLabel(kp.LeafNode.SignatureKey, "KeyPackageTBS", w.b, kp.Signature); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidKeyPackage, err)
	}
	l := &kp.LeafNode
	if l.Source != sourceKeyPackage {
		return fmt.Errorf("%w: leaf_node_source %d, want key_package", ErrInvalidKeyPackage, l.Source)
	}
	if err := l.verify(s, nil, 0); err != nil {
		return fmt.Errorf("%w: leaf: %v", ErrInvalidKeyPackage, err)
	}
	if string(kp.InitKey) == string(l.EncryptionKey) {
		return fmt.Errorf("%w: init_key equals the leaf encryption_key", ErrInvalidKeyPackage)
	}
	if !now.IsZero() {
		t := uint64(now.Unix())
		if t < l.NotBefore || t > l.NotAfter {
			return fmt.Errorf("%w: outside its lifetime", ErrInvalidKeyPackage)
		}
	}
	if err := validateLeafCapabilities(l, cs, groupExts); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidKeyPackage, err)
	}
	return nil
}
