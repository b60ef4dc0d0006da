package mls

import "fmt"

// Sending application messages and proposals.

// frame builds member content for the current epoch.
func (g *Group) frame(ct uint8, aad []byte) *AuthenticatedContent {
	return &AuthenticatedContent{Content: FramedContent{GroupID: g.ctx.GroupID, Epoch: g.ctx.Epoch,
		Sender: Sender{Type: SenderMember, Index: g.me}, AuthenticatedData: clone(aad), ContentType: ct}}
}

// protect signs ac and wraps it as a PublicMessage or PrivateMessage.
func (g *Group) protect(ac *AuthenticatedContent, public bool) ([]byte, error) {
	ctx := g.contextBytes()
	ac.WireFormat = WirePrivateMessage
	if public {
		ac.WireFormat = WirePublicMessage
	}
	if ac.Auth.Signature == nil {
		if err := g.s.signFramed(ac, g.id.SignaturePriv, ctx); err != nil {
			return nil, err
		}
	}
	if public {
		pm, err := g.s.protectPublic(ac, g.ep.MembershipKey, ctx)
		if err != nil {
			return nil, err
		}
		return (&Message{WireFormat: WirePublicMessage, Public: pm}).Bytes(), nil
	}
	pm, err := g.s.encryptPrivate(ac, g.st, g.ep.SenderDataSecret)
	if err != nil {
		return nil, err
	}
	return (&Message{WireFormat: WirePrivateMessage, Private: pm}).Bytes(), nil
}

// Encrypt protects application data as a PrivateMessage.
func (g *Group) Encrypt(plaintext, authenticatedData []byte) ([]byte, error) {
	if err := g.checkActive(); err != nil {
		return nil, err
	}
	if g.pending != nil {
		return nil, fmt.Errorf("mls: cannot send application data with a commit pending")
	}
	ac := g.frame(ContentApplication, authenticatedData)
	ac.Content.ApplicationData = clone(plaintext)
	return g.protect(ac, false)
}

// propose frames and caches an own proposal.
func (g *Group) propose(p *Proposal) ([]byte, []byte, error) {
	return g.proposeAs(p, g.PublicHandshake)
}

// proposeAs is propose with the wire format chosen by the caller.
func (g *Group) proposeAs(p *Proposal, public bool) ([]byte, []byte, error) {
	if err := g.checkActive(); err != nil {
		return nil, nil, err
	}
	ac := g.frame(ContentProposal, nil)
	ac.Content.Proposal = p
	ac.WireFormat = WirePrivateMessage
	if public {
		ac.WireFormat = WirePublicMessage
	}
	if err := g.s.signFramed(ac, g.id.SignaturePriv, g.contextBytes()); err != nil {
		return nil, nil, err
	}
	ref := proposalRef(g.s, ac.bytes())
	msg, err := g.protect(ac, public)
	if err != nil {
		return nil, nil, err
	}
	g.proposals = append(g.proposals, cachedProposal{ref: ref, proposal: p, sender: ac.Content.Sender})
	return msg, ref, nil
}

// ProposeAdd proposes adding the member of an MLSMessage(KeyPackage).
func (g *Group) ProposeAdd(keyPackage []byte) ([]byte, error) {
	kp, err := ParseKeyPackage(keyPackage, g.ctx.CipherSuite)
	if err != nil {
		return nil, err
	}
	msg, _, err := g.propose(&Proposal{Type: ProposalAdd, KeyPackage: kp})
	return msg, err
}

// ProposeRemove proposes removing the member at leaf.
func (g *Group) ProposeRemove(leaf uint32) ([]byte, error) {
	if g.tree.leaf(leaf) == nil {
		return nil, fmt.Errorf("%w: leaf %d", ErrUnknownSender, leaf)
	}
	msg, _, err := g.propose(&Proposal{Type: ProposalRemove, Removed: leaf})
	return msg, err
}

// ProposeUpdate proposes a fresh encryption key for this member's leaf.
func (g *Group) ProposeUpdate() ([]byte, error) {
	priv, pub, err := g.s.generateHPKEKey()
	if err != nil {
		return nil, err
	}
	old := g.tree.leaf(g.me)
	l := *old
	l.EncryptionKey = pub
	l.Source = sourceUpdate
	l.NotBefore, l.NotAfter, l.ParentHash = 0, 0, nil
	if err := l.sign(g.s, g.id.SignaturePriv, g.ctx.GroupID, g.me); err != nil {
		return nil, err
	}
	msg, ref, err := g.propose(&Proposal{Type: ProposalUpdate, LeafNode: &l})
	if err != nil {
		return nil, err
	}
	if g.updateKeys == nil {
		g.updateKeys = map[string][]byte{}
	}
	g.updateKeys[string(ref)] = priv
	return msg, nil
}

// ProposeExternalPSK proposes injecting a known external PSK.
func (g *Group) ProposeExternalPSK(id []byte) ([]byte, error) {
	if _, ok := g.psks[string(id)]; !ok {
		return nil, fmt.Errorf("%w: external PSK %x unknown", ErrInvalidProposal, id)
	}
	msg, _, err := g.propose(&Proposal{Type: ProposalPSK, PSK: &PreSharedKeyID{Type: pskExternal, ID: clone(id),
		Nonce: randomBytes(g.s.hashSize())}})
	return msg, err
}
