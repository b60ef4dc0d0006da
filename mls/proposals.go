package mls

import "fmt"

// Proposal types (RFC 9420 §17.4).
const (
	ProposalAdd                    uint16 = 1
	ProposalUpdate                 uint16 = 2
	ProposalRemove                 uint16 = 3
	ProposalPSK                    uint16 = 4
	ProposalReInit                 uint16 = 5
	ProposalExternalInit           uint16 = 6
	ProposalGroupContextExtensions uint16 = 7
	// ProposalSelfRemove is draft-ietf-mls-extensions' SelfRemove (0x000a, as
	// suggested there): an empty body; the leaf removed is the proposal's sender.
	ProposalSelfRemove uint16 = 0x000a
)

// Proposal is one proposed change; which fields are set depends on Type.
type Proposal struct {
	Type       uint16
	KeyPackage *KeyPackage     // add
	LeafNode   *LeafNode       // update
	Removed    uint32          // remove
	PSK        *PreSharedKeyID // psk
	ReInit     *ReInit         // reinit
	KEMOutput  []byte          // external_init
	Extensions []Extension     // group_context_extensions
}

// ReInit asks to restart the group with new parameters.
type ReInit struct {
	GroupID     []byte
	Version     uint16
	CipherSuite CipherSuite
	Extensions  []Extension
}

func (p *Proposal) encode(w *writer) {
	w.u16(p.Type)
	switch p.Type {
	case ProposalAdd:
		p.KeyPackage.encode(w)
	case ProposalUpdate:
		p.LeafNode.encode(w)
	case ProposalRemove:
		w.u32(p.Removed)
	case ProposalPSK:
		p.PSK.encode(w)
	case ProposalReInit:
		w.opaque(p.ReInit.GroupID)
		w.u16(p.ReInit.Version)
		w.u16(uint16(p.ReInit.CipherSuite))
		encodeExtensions(w, p.ReInit.Extensions)
	case ProposalExternalInit:
		w.opaque(p.KEMOutput)
	case ProposalGroupContextExtensions:
		encodeExtensions(w, p.Extensions)
	case ProposalSelfRemove: // struct {} SelfRemove
	}
}

func (p *Proposal) decode(r *reader) {
	p.Type = r.u16("proposal.proposal_type")
	switch p.Type {
	case ProposalAdd:
		p.KeyPackage = new(KeyPackage)
		p.KeyPackage.decode(r)
	case ProposalUpdate:
		p.LeafNode = new(LeafNode)
		p.LeafNode.decode(r)
	case ProposalRemove:
		p.Removed = r.u32("remove.removed")
	case ProposalPSK:
		p.PSK = new(PreSharedKeyID)
		p.PSK.decode(r)
	case ProposalReInit:
		p.ReInit = &ReInit{GroupID: clone(r.opaque("reinit.group_id")), Version: r.u16("reinit.version"),
			CipherSuite: CipherSuite(r.u16("reinit.cipher_suite"))}
		p.ReInit.Extensions = decodeExtensions(r, "reinit.extensions")
	case ProposalExternalInit:
		p.KEMOutput = clone(r.opaque("external_init.kem_output"))
	case ProposalGroupContextExtensions:
		p.Extensions = decodeExtensions(r, "group_context_extensions.extensions")
	case ProposalSelfRemove:
	default:
		r.fail("proposal.proposal_type", fmt.Errorf("%w: proposal type %d", ErrBadValue, p.Type))
	}
}

func (p *Proposal) bytes() []byte {
	var w writer
	p.encode(&w)
	return w.b
}

// ref is ProposalRef = RefHash("MLS 1.0 Proposal Reference", AuthenticatedContent).
func proposalRef(s *suite, authContent []byte) []byte {
	return s.refHash("MLS 1.0 Proposal Reference", authContent)
}

// ProposalOrRef carries a proposal inline or by reference.
type ProposalOrRef struct {
	Proposal  *Proposal
	Reference []byte
}

// UpdatePath carries a committer's new leaf and encrypted path secrets.
type UpdatePath struct {
	LeafNode LeafNode
	Nodes    []UpdatePathNode
}

// UpdatePathNode is one new parent public key and its encrypted path secret.
type UpdatePathNode struct {
	EncryptionKey []byte
	Secrets       []HPKECiphertext
}

// HPKECiphertext is an HPKE encapsulation and ciphertext.
type HPKECiphertext struct {
	KEMOutput  []byte
	Ciphertext []byte
}

func (h *HPKECiphertext) encode(w *writer) { w.opaque(h.KEMOutput); w.opaque(h.Ciphertext) }
func (h *HPKECiphertext) decode(r *reader) {
	h.KEMOutput = clone(r.opaque("hpke_ciphertext.kem_output"))
	h.Ciphertext = clone(r.opaque("hpke_ciphertext.ciphertext"))
}

func (u *UpdatePath) encode(w *writer) {
	u.LeafNode.encode(w)
	w.vector(func(w *writer) {
		for i := range u.Nodes {
			n := &u.Nodes[i]
			w.opaque(n.EncryptionKey)
			w.vector(func(w *writer) {
				for j := range n.Secrets {
					n.Secrets[j].encode(w)
				}
			})
		}
	})
}

func (u *UpdatePath) decode(r *reader) {
	u.LeafNode.decode(r)
	r.vector("update_path.nodes", func(r *reader) {
		var n UpdatePathNode
		n.EncryptionKey = clone(r.opaque("update_path_node.encryption_key"))
		r.vector("update_path_node.encrypted_path_secret", func(r *reader) {
			var h HPKECiphertext
			h.decode(r)
			n.Secrets = append(n.Secrets, h)
		})
		u.Nodes = append(u.Nodes, n)
	})
}

// Commit applies proposals and optionally refreshes the committer's path.
type Commit struct {
	Proposals []ProposalOrRef
	Path      *UpdatePath
}

func (c *Commit) encode(w *writer) {
	w.vector(func(w *writer) {
		for _, p := range c.Proposals {
			if p.Proposal != nil {
				w.u8(1)
				p.Proposal.encode(w)
			} else {
				w.u8(2)
				w.opaque(p.Reference)
			}
		}
	})
	w.optional(c.Path != nil, func(w *writer) { c.Path.encode(w) })
}

func (c *Commit) decode(r *reader) {
	r.vector("commit.proposals", func(r *reader) {
		switch t := r.u8("proposal_or_ref.type"); t {
		case 1:
			p := new(Proposal)
			p.decode(r)
			c.Proposals = append(c.Proposals, ProposalOrRef{Proposal: p})
		case 2:
			c.Proposals = append(c.Proposals, ProposalOrRef{Reference: clone(r.opaque("proposal_or_ref.reference"))})
		default:
			r.fail("proposal_or_ref.type", fmt.Errorf("%w: %d", ErrBadValue, t))
		}
	})
	r.optional("commit.path", func(r *reader) {
		c.Path = new(UpdatePath)
		c.Path.decode(r)
	})
}
