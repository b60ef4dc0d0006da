package mls

import "fmt"

// Wire structs of RFC 9420 shared by key packages, trees and groups.
// Each struct has encode(w) and decode(r); decoders copy what they keep.

// ProtocolVersion mls10 is the only version.
const mls10 uint16 = 1

// Extension types (RFC 9420 §17.3).
const (
	extApplicationID        uint16 = 1
	extRatchetTree          uint16 = 2
	extRequiredCapabilities uint16 = 3
	extExternalPub          uint16 = 4
	extExternalSenders      uint16 = 5
)

// Credential types.
const (
	CredentialBasic uint16 = 1
	CredentialX509  uint16 = 2
)

// Extension is one (type, data) pair.
type Extension struct {
	Type uint16
	Data []byte
}

func encodeExtensions(w *writer, exts []Extension) {
	w.vector(func(w *writer) {
		for _, e := range exts {
			w.u16(e.Type)
			w.opaque(e.Data)
		}
	})
}

func decodeExtensions(r *reader, field string) []Extension {
	var exts []Extension
	r.vector(field, func(r *reader) {
		e := Extension{Type: r.u16(field + ".extension_type")}
		e.Data = clone(r.opaque(field + ".extension_data"))
		exts = append(exts, e)
	})
	return exts
}

// findExtension returns the data of the extension of type t.
func findExtension(exts []Extension, t uint16) ([]byte, bool) {
	for _, e := range exts {
		if e.Type == t {
			return e.Data, true
		}
	}
	return nil, false
}

// Credential identifies a member: a basic identity or an X.509 chain.
type Credential struct {
	Type         uint16
	Identity     []byte   // basic
	Certificates [][]byte // x509
}

func (c *Credential) encode(w *writer) {
	w.u16(c.Type)
	switch c.Type {
	case CredentialBasic:
		w.opaque(c.Identity)
	case CredentialX509:
		w.vector(func(w *writer) {
			for _, cert := range c.Certificates {
				w.opaque(cert)
			}
		})
	}
}

func (c *Credential) decode(r *reader) {
	c.Type = r.u16("credential.credential_type")
	switch c.Type {
	case CredentialBasic:
		c.Identity = clone(r.opaque("credential.identity"))
	case CredentialX509:
		r.vector("credential.certificates", func(r *reader) {
			c.Certificates = append(c.Certificates, clone(r.opaque("credential.cert_data")))
		})
	default:
		r.fail("credential.credential_type", fmt.Errorf("%w: credential type %d", ErrBadValue, c.Type))
	}
}

// Capabilities lists what a client supports.
type Capabilities struct {
	Versions     []uint16
	CipherSuites []uint16
	Extensions   []uint16
	Proposals    []uint16
	Credentials  []uint16
}

func encodeU16s(w *writer, vs []uint16) {
	w.vector(func(w *writer) {
		for _, v := range vs {
			w.u16(v)
		}
	})
}

func decodeU16s(r *reader, field string) []uint16 {
	var vs []uint16
	r.vector(field, func(r *reader) { vs = append(vs, r.u16(field)) })
	return vs
}

func (c *Capabilities) encode(w *writer) {
	encodeU16s(w, c.Versions)
	encodeU16s(w, c.CipherSuites)
	encodeU16s(w, c.Extensions)
	encodeU16s(w, c.Proposals)
	encodeU16s(w, c.Credentials)
}

func (c *Capabilities) decode(r *reader) {
	c.Versions = decodeU16s(r, "capabilities.versions")
	c.CipherSuites = decodeU16s(r, "capabilities.cipher_suites")
	c.Extensions = decodeU16s(r, "capabilities.extensions")
	c.Proposals = decodeU16s(r, "capabilities.proposals")
	c.Credentials = decodeU16s(r, "capabilities.credentials")
}

func containsU16(vs []uint16, v uint16) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// Leaf node sources.
const (
	sourceKeyPackage uint8 = 1
	sourceUpdate     uint8 = 2
	sourceCommit     uint8 = 3
)

// LeafNode is a member's public state in the ratchet tree (RFC 9420 §7.2).
type LeafNode struct {
	EncryptionKey []byte
	SignatureKey  []byte
	Credential    Credential
	Capabilities  Capabilities
	Source        uint8
	NotBefore     uint64 // key_package source
	NotAfter      uint64
	ParentHash    []byte // commit source
	Extensions    []Extension
	Signature     []byte
}

func (l *LeafNode) encodeTBSBody(w *writer) {
	w.opaque(l.EncryptionKey)
	w.opaque(l.SignatureKey)
	l.Credential.encode(w)
	l.Capabilities.encode(w)
	w.u8(l.Source)
	switch l.Source {
	case sourceKeyPackage:
		w.u64(l.NotBefore)
		w.u64(l.NotAfter)
	case sourceCommit:
		w.opaque(l.ParentHash)
	}
	encodeExtensions(w, l.Extensions)
}

func (l *LeafNode) encode(w *writer) {
	l.encodeTBSBody(w)
	w.opaque(l.Signature)
}

// tbs is LeafNodeTBS: group id and leaf index bind update and commit leaves.
func (l *LeafNode) tbs(groupID []byte, leaf uint32) []byte {
	var w writer
	l.encodeTBSBody(&w)
	if l.Source == sourceUpdate || l.Source == sourceCommit {
		w.opaque(groupID)
		w.u32(leaf)
	}
	return w.b
}

func (l *LeafNode) decode(r *reader) {
	l.EncryptionKey = clone(r.opaque("leaf_node.encryption_key"))
	l.SignatureKey = clone(r.opaque("leaf_node.signature_key"))
	l.Credential.decode(r)
	l.Capabilities.decode(r)
	l.Source = r.u8("leaf_node.leaf_node_source")
	switch l.Source {
	case sourceKeyPackage:
		l.NotBefore = r.u64("leaf_node.lifetime.not_before")
		l.NotAfter = r.u64("leaf_node.lifetime.not_after")
	case sourceUpdate:
	case sourceCommit:
		l.ParentHash = clone(r.opaque("leaf_node.parent_hash"))
	default:
		r.fail("leaf_node.leaf_node_source", fmt.Errorf("%w: %d", ErrBadValue, l.Source))
	}
	l.Extensions = decodeExtensions(r, "leaf_node.extensions")
	l.Signature = clone(r.opaque("leaf_node.signature"))
}

func (l *LeafNode) bytes() []byte {
	var w writer
	l.encode(&w)
	return w.b
}

func (l *LeafNode) sign(s *suite, priv, groupID []byte, leaf uint32) error {
	sig, err := s.signWithLabel(priv, "LeafNodeTBS", l.tbs(groupID, leaf))
	l.Signature = sig
	return err
}

func (l *LeafNode) verify(s *suite, groupID []byte, leaf uint32) error {
	return s.verifyWithLabel(l.SignatureKey, "LeafNodeTBS", l.tbs(groupID, leaf), l.Signature)
}

// ParentNode is an interior node of the ratchet tree.
type ParentNode struct {
	EncryptionKey  []byte
	ParentHash     []byte
	UnmergedLeaves []uint32
}

func (p *ParentNode) encode(w *writer) {
	w.opaque(p.EncryptionKey)
	w.opaque(p.ParentHash)
	w.vector(func(w *writer) {
		for _, u := range p.UnmergedLeaves {
			w.u32(u)
		}
	})
}

func (p *ParentNode) decode(r *reader) {
	p.EncryptionKey = clone(r.opaque("parent_node.encryption_key"))
	p.ParentHash = clone(r.opaque("parent_node.parent_hash"))
	r.vector("parent_node.unmerged_leaves", func(r *reader) {
		p.UnmergedLeaves = append(p.UnmergedLeaves, r.u32("parent_node.unmerged_leaves"))
	})
}

// KeyPackage advertises a client that may be added to groups (RFC 9420 §10).
type KeyPackage struct {
	Version     uint16
	CipherSuite CipherSuite
	InitKey     []byte
	LeafNode    LeafNode
	Extensions  []Extension
	Signature   []byte
}

func (k *KeyPackage) encodeTBS(w *writer) {
	w.u16(k.Version)
	w.u16(uint16(k.CipherSuite))
	w.opaque(k.InitKey)
	k.LeafNode.encode(w)
	encodeExtensions(w, k.Extensions)
}

func (k *KeyPackage) encode(w *writer) {
	k.encodeTBS(w)
	w.opaque(k.Signature)
}

func (k *KeyPackage) decode(r *reader) {
	k.Version = r.u16("key_package.version")
	k.CipherSuite = CipherSuite(r.u16("key_package.cipher_suite"))
	k.InitKey = clone(r.opaque("key_package.init_key"))
	k.LeafNode.decode(r)
	k.Extensions = decodeExtensions(r, "key_package.extensions")
	k.Signature = clone(r.opaque("key_package.signature"))
}

func (k *KeyPackage) bytes() []byte {
	var w writer
	k.encode(&w)
	return w.b
}

// ref is KeyPackageRef = RefHash("MLS 1.0 KeyPackage Reference", KeyPackage).
func (k *KeyPackage) ref(s *suite) []byte {
	return s.refHash("MLS 1.0 KeyPackage Reference", k.bytes())
}

// GroupContext summarises the group state every key derivation binds to.
type GroupContext struct {
	Version                 uint16
	CipherSuite             CipherSuite
	GroupID                 []byte
	Epoch                   uint64
	TreeHash                []byte
	ConfirmedTranscriptHash []byte
	Extensions              []Extension
}

func (g *GroupContext) encode(w *writer) {
	w.u16(g.Version)
	w.u16(uint16(g.CipherSuite))
	w.opaque(g.GroupID)
	w.u64(g.Epoch)
	w.opaque(g.TreeHash)
	w.opaque(g.ConfirmedTranscriptHash)
	encodeExtensions(w, g.Extensions)
}

func (g *GroupContext) decode(r *reader) {
	g.Version = r.u16("group_context.version")
	g.CipherSuite = CipherSuite(r.u16("group_context.cipher_suite"))
	g.GroupID = clone(r.opaque("group_context.group_id"))
	g.Epoch = r.u64("group_context.epoch")
	g.TreeHash = clone(r.opaque("group_context.tree_hash"))
	g.ConfirmedTranscriptHash = clone(r.opaque("group_context.confirmed_transcript_hash"))
	g.Extensions = decodeExtensions(r, "group_context.extensions")
}

func (g *GroupContext) bytes() []byte {
	var w writer
	g.encode(&w)
	return w.b
}
