package mls

import "fmt"

// Framing structs of RFC 9420 §6: what is signed, MACed and encrypted.

// Wire formats.
const (
	WirePublicMessage  uint16 = 1
	WirePrivateMessage uint16 = 2
	WireWelcome        uint16 = 3
	WireGroupInfo      uint16 = 4
	WireKeyPackage     uint16 = 5
)

// Content types.
const (
	ContentApplication uint8 = 1
	ContentProposal    uint8 = 2
	ContentCommit      uint8 = 3
)

// Sender types.
const (
	SenderMember            uint8 = 1
	SenderExternal          uint8 = 2
	SenderNewMemberProposal uint8 = 3
	SenderNewMemberCommit   uint8 = 4
)

// Sender says who authored a message: a member leaf, an external sender index, or a joiner.
type Sender struct {
	Type  uint8
	Index uint32 // leaf index (member) or external sender index
}

func (s *Sender) encode(w *writer) {
	w.u8(s.Type)
	if s.Type == SenderMember || s.Type == SenderExternal {
		w.u32(s.Index)
	}
}

func (s *Sender) decode(r *reader) {
	s.Type = r.u8("sender.sender_type")
	switch s.Type {
	case SenderMember, SenderExternal:
		s.Index = r.u32("sender.index")
	case SenderNewMemberProposal, SenderNewMemberCommit:
	default:
		r.fail("sender.sender_type", fmt.Errorf("%w: %d", ErrBadValue, s.Type))
	}
}

// FramedContent is the authenticated body of a handshake or application message.
type FramedContent struct {
	GroupID           []byte
	Epoch             uint64
	Sender            Sender
	AuthenticatedData []byte
	ContentType       uint8
	ApplicationData   []byte
	Proposal          *Proposal
	Commit            *Commit
}

func (c *FramedContent) encodeBody(w *writer) {
	switch c.ContentType {
	case ContentApplication:
		w.opaque(c.ApplicationData)
	case ContentProposal:
		c.Proposal.encode(w)
	case ContentCommit:
		c.Commit.encode(w)
	}
}

func (c *FramedContent) decodeBody(r *reader) {
	switch c.ContentType {
	case ContentApplication:
		c.ApplicationData = clone(r.opaque("application_data"))
	case ContentProposal:
		c.Proposal = new(Proposal)
		c.Proposal.decode(r)
	case ContentCommit:
		c.Commit = new(Commit)
		c.Commit.decode(r)
	default:
		r.fail("content_type", fmt.Errorf("%w: %d", ErrBadValue, c.ContentType))
	}
}

func (c *FramedContent) encode(w *writer) {
	w.opaque(c.GroupID)
	w.u64(c.Epoch)
	c.Sender.encode(w)
	w.opaque(c.AuthenticatedData)
	w.u8(c.ContentType)
	c.encodeBody(w)
}

func (c *FramedContent) decode(r *reader) {
	c.GroupID = clone(r.opaque("framed_content.group_id"))
	c.Epoch = r.u64("framed_content.epoch")
	c.Sender.decode(r)
	c.AuthenticatedData = clone(r.opaque("framed_content.authenticated_data"))
	c.ContentType = r.u8("framed_content.content_type")
	c.decodeBody(r)
}

// FramedContentAuthData is the signature and, for commits, the confirmation tag.
type FramedContentAuthData struct {
	Signature       []byte
	ConfirmationTag []byte
}

func (a *FramedContentAuthData) encode(w *writer, ct uint8) {
	w.opaque(a.Signature)
	if ct == ContentCommit {
		w.opaque(a.ConfirmationTag)
	}
}

func (a *FramedContentAuthData) decode(r *reader, ct uint8) {
	a.Signature = clone(r.opaque("auth.signature"))
	if ct == ContentCommit {
		a.ConfirmationTag = clone(r.opaque("auth.confirmation_tag"))
	}
}

// AuthenticatedContent is FramedContent with its wire format and auth data.
type AuthenticatedContent struct {
	WireFormat uint16
	Content    FramedContent
	Auth       FramedContentAuthData
}

func (a *AuthenticatedContent) encode(w *writer) {
	w.u16(a.WireFormat)
	a.Content.encode(w)
	a.Auth.encode(w, a.Content.ContentType)
}

func (a *AuthenticatedContent) decode(r *reader) {
	a.WireFormat = r.u16("authenticated_content.wire_format")
	a.Content.decode(r)
	a.Auth.decode(r, a.Content.ContentType)
}

func (a *AuthenticatedContent) bytes() []byte {
	var w writer
	a.encode(&w)
	return w.b
}

// tbs is FramedContentTBS; ctx is the serialized GroupContext (member and new-member-commit senders).
func (a *AuthenticatedContent) tbs(ctx []byte) []byte {
	var w writer
	w.u16(mls10)
	w.u16(a.WireFormat)
	a.Content.encode(&w)
	if a.Content.Sender.Type == SenderMember || a.Content.Sender.Type == SenderNewMemberCommit {
		w.raw(ctx)
	}
	return w.b
}

// PublicMessage is a signed, optionally membership-tagged plaintext message.
type PublicMessage struct {
	Content       FramedContent
	Auth          FramedContentAuthData
	MembershipTag []byte
}

func (p *PublicMessage) encode(w *writer) {
	p.Content.encode(w)
	p.Auth.encode(w, p.Content.ContentType)
	if p.Content.Sender.Type == SenderMember {
		w.opaque(p.MembershipTag)
	}
}

func (p *PublicMessage) decode(r *reader) {
	p.Content.decode(r)
	p.Auth.decode(r, p.Content.ContentType)
	if p.Content.Sender.Type == SenderMember {
		p.MembershipTag = clone(r.opaque("public_message.membership_tag"))
	}
}

// PrivateMessage is an encrypted message; its sender is hidden in encrypted sender data.
type PrivateMessage struct {
	GroupID             []byte
	Epoch               uint64
	ContentType         uint8
	AuthenticatedData   []byte
	EncryptedSenderData []byte
	Ciphertext          []byte
}

func (p *PrivateMessage) encode(w *writer) {
	w.opaque(p.GroupID)
	w.u64(p.Epoch)
	w.u8(p.ContentType)
	w.opaque(p.AuthenticatedData)
	w.opaque(p.EncryptedSenderData)
	w.opaque(p.Ciphertext)
}

func (p *PrivateMessage) decode(r *reader) {
	p.GroupID = clone(r.opaque("private_message.group_id"))
	p.Epoch = r.u64("private_message.epoch")
	p.ContentType = r.u8("private_message.content_type")
	if p.ContentType < ContentApplication || p.ContentType > ContentCommit {
		r.fail("private_message.content_type", fmt.Errorf("%w: %d", ErrBadValue, p.ContentType))
	}
	p.AuthenticatedData = clone(r.opaque("private_message.authenticated_data"))
	p.EncryptedSenderData = clone(r.opaque("private_message.encrypted_sender_data"))
	p.Ciphertext = clone(r.opaque("private_message.ciphertext"))
}

// GroupInfo is the signed public state a joiner needs (RFC 9420 §12.4.3).
type GroupInfo struct {
	GroupContext    GroupContext
	Extensions      []Extension
	ConfirmationTag []byte
	Signer          uint32
	Signature       []byte
}

func (g *GroupInfo) encodeTBS(w *writer) {
	g.GroupContext.encode(w)
	encodeExtensions(w, g.Extensions)
	w.opaque(g.ConfirmationTag)
	w.u32(g.Signer)
}

func (g *GroupInfo) encode(w *writer) { g.encodeTBS(w); w.opaque(g.Signature) }

func (g *GroupInfo) decode(r *reader) {
	g.GroupContext.decode(r)
	g.Extensions = decodeExtensions(r, "group_info.extensions")
	g.ConfirmationTag = clone(r.opaque("group_info.confirmation_tag"))
	g.Signer = r.u32("group_info.signer")
	g.Signature = clone(r.opaque("group_info.signature"))
}

func (g *GroupInfo) tbs() []byte {
	var w writer
	g.encodeTBS(&w)
	return w.b
}

// GroupSecrets is what a Welcome encrypts to each new member.
type GroupSecrets struct {
	JoinerSecret []byte
	PathSecret   []byte // nil when absent
	PSKs         []PreSharedKeyID
}

func (g *GroupSecrets) encode(w *writer) {
	w.opaque(g.JoinerSecret)
	w.optional(g.PathSecret != nil, func(w *writer) { w.opaque(g.PathSecret) })
	w.vector(func(w *writer) {
		for i := range g.PSKs {
			g.PSKs[i].encode(w)
		}
	})
}

func (g *GroupSecrets) decode(r *reader) {
	g.JoinerSecret = clone(r.opaque("group_secrets.joiner_secret"))
	r.optional("group_secrets.path_secret", func(r *reader) {
		g.PathSecret = clone(r.opaque("group_secrets.path_secret"))
		if g.PathSecret == nil {
			g.PathSecret = []byte{}
		}
	})
	r.vector("group_secrets.psks", func(r *reader) {
		var p PreSharedKeyID
		p.decode(r)
		g.PSKs = append(g.PSKs, p)
	})
}

// EncryptedGroupSecrets addresses GroupSecrets to one KeyPackage.
type EncryptedGroupSecrets struct {
	NewMember []byte
	Secrets   HPKECiphertext
}

// Welcome invites new members (RFC 9420 §12.4.3.1).
type Welcome struct {
	CipherSuite        CipherSuite
	Secrets            []EncryptedGroupSecrets
	EncryptedGroupInfo []byte
}

func (wl *Welcome) encode(w *writer) {
	w.u16(uint16(wl.CipherSuite))
	w.vector(func(w *writer) {
		for i := range wl.Secrets {
			w.opaque(wl.Secrets[i].NewMember)
			wl.Secrets[i].Secrets.encode(w)
		}
	})
	w.opaque(wl.EncryptedGroupInfo)
}

func (wl *Welcome) decode(r *reader) {
	wl.CipherSuite = CipherSuite(r.u16("welcome.cipher_suite"))
	r.vector("welcome.secrets", func(r *reader) {
		var e EncryptedGroupSecrets
		e.NewMember = clone(r.opaque("encrypted_group_secrets.new_member"))
		e.Secrets.decode(r)
		wl.Secrets = append(wl.Secrets, e)
	})
	wl.EncryptedGroupInfo = clone(r.opaque("welcome.encrypted_group_info"))
}

// Message is an MLSMessage: the envelope every MLS message travels in.
type Message struct {
	WireFormat uint16
	Public     *PublicMessage
	Private    *PrivateMessage
	Welcome    *Welcome
	GroupInfo  *GroupInfo
	KeyPackage *KeyPackage
}

func (m *Message) encode(w *writer) {
	w.u16(mls10)
	w.u16(m.WireFormat)
	switch m.WireFormat {
	case WirePublicMessage:
		m.Public.encode(w)
	case WirePrivateMessage:
		m.Private.encode(w)
	case WireWelcome:
		m.Welcome.encode(w)
	case WireGroupInfo:
		m.GroupInfo.encode(w)
	case WireKeyPackage:
		m.KeyPackage.encode(w)
	}
}

// Bytes serializes the MLSMessage.
func (m *Message) Bytes() []byte {
	var w writer
	m.encode(&w)
	return w.b
}

func (m *Message) decode(r *reader) {
	if v := r.u16("mls_message.version"); v != mls10 && r.err == nil {
		r.fail("mls_message.version", fmt.Errorf("%w: protocol version %d", ErrBadValue, v))
	}
	m.WireFormat = r.u16("mls_message.wire_format")
	switch m.WireFormat {
	case WirePublicMessage:
		m.Public = new(PublicMessage)
		m.Public.decode(r)
	case WirePrivateMessage:
		m.Private = new(PrivateMessage)
		m.Private.decode(r)
	case WireWelcome:
		m.Welcome = new(Welcome)
		m.Welcome.decode(r)
	case WireGroupInfo:
		m.GroupInfo = new(GroupInfo)
		m.GroupInfo.decode(r)
	case WireKeyPackage:
		m.KeyPackage = new(KeyPackage)
		m.KeyPackage.decode(r)
	default:
		r.fail("mls_message.wire_format", fmt.Errorf("%w: wire format %d", ErrBadValue, m.WireFormat))
	}
}

// ParseMessage decodes one complete MLSMessage.
func ParseMessage(b []byte) (*Message, error) {
	m := new(Message)
	r := newReader(b)
	m.decode(r)
	if err := r.done("mls_message"); err != nil {
		return nil, err
	}
	return m, nil
}

// decodeAll decodes b fully into one struct via f.
func decodeAll(b []byte, field string, f func(r *reader)) error {
	r := newReader(b)
	f(r)
	return r.done(field)
}
