package mls

import (
	"fmt"
)

// Receiving messages (RFC 9420 §6.3, §12.4.2).

// Received describes one processed message.
type Received struct {
	ContentType       uint8  // ContentApplication, ContentProposal or ContentCommit
	Sender            Sender // who sent it
	Epoch             uint64 // the epoch it was sent in (a past one for late application messages)
	Data              []byte // application data
	AuthenticatedData []byte
	Proposal          *Proposal // for proposals
	Joined            []uint32  // leaves added by a commit
	Removed           []uint32  // leaves removed by a commit (Remove and SelfRemove)
	SelfRemoved       []uint32  // the leaves of Removed that left by SelfRemove
}

// Process verifies and applies one MLSMessage addressed to the group.
// A commit moves the group to the next epoch; an own pending commit echoed
// back by the delivery service is merged.
func (g *Group) Process(msg []byte) (*Received, error) {
	if err := g.checkActive(); err != nil {
		return nil, err
	}
	if g.pending != nil && string(msg) == string(g.pending.msg) {
		return &Received{ContentType: ContentCommit, Sender: Sender{Type: SenderMember, Index: g.me}, Epoch: g.ctx.Epoch}, g.MergePendingCommit()
	}
	m, err := ParseMessage(msg)
	if err != nil {
		return nil, err
	}
	var ac *AuthenticatedContent
	ctx := g.contextBytes()
	switch m.WireFormat {
	case WirePublicMessage:
		if err := g.checkEpoch(m.Public.Content.GroupID, m.Public.Content.Epoch); err != nil {
			return nil, err
		}
		if ac, err = g.s.unprotectPublic(m.Public, g.ep.MembershipKey, ctx); err != nil {
			return nil, err
		}
	case WirePrivateMessage:
		if string(m.Private.GroupID) == string(g.ctx.GroupID) && m.Private.Epoch < g.ctx.Epoch {
			return g.processPast(m.Private)
		}
		if err := g.checkEpoch(m.Private.GroupID, m.Private.Epoch); err != nil {
			return nil, err
		}
		if ac, err = g.s.decryptPrivate(m.Private, g.st, g.ep.SenderDataSecret); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: wire format %d is not a group message", ErrWireFormat, m.WireFormat)
	}
	pub, err := g.senderKey(ac)
	if err != nil {
		return nil, err
	}
	if err := g.s.verifyFramed(ac, pub, ctx); err != nil {
		return nil, err
	}
	c := &ac.Content
	r := &Received{ContentType: c.ContentType, Sender: c.Sender, Epoch: c.Epoch, AuthenticatedData: c.AuthenticatedData}
	switch c.ContentType {
	case ContentApplication:
		r.Data = c.ApplicationData
		return r, nil
	case ContentProposal:
		if err := g.checkProposalSender(c.Sender, c.Proposal); err != nil {
			return nil, err
		}
		if c.Proposal.Type == ProposalSelfRemove && ac.WireFormat != WirePublicMessage {
			return nil, fmt.Errorf("%w: SelfRemove must be a PublicMessage", ErrWireFormat)
		}
		g.proposals = append(g.proposals, cachedProposal{ref: proposalRef(g.s, ac.bytes()), proposal: c.Proposal, sender: c.Sender})
		r.Proposal = c.Proposal
		return r, nil
	default:
		return r, g.processCommit(ac, r)
	}
}

func (g *Group) checkEpoch(groupID []byte, epoch uint64) error {
	if string(groupID) != string(g.ctx.GroupID) {
		return ErrWrongGroup
	}
	if epoch != g.ctx.Epoch {
		return fmt.Errorf("%w: message epoch %d, group epoch %d", ErrWrongEpoch, epoch, g.ctx.Epoch)
	}
	return nil
}

// senderKey returns the signature key that must have signed ac.
func (g *Group) senderKey(ac *AuthenticatedContent) ([]byte, error) {
	snd := ac.Content.Sender
	switch snd.Type {
	case SenderMember:
		l := g.tree.leaf(snd.Index)
		if l == nil {
			return nil, fmt.Errorf("%w: leaf %d", ErrUnknownSender, snd.Index)
		}
		if snd.Index == g.me {
			return nil, ErrOwnMessage
		}
		return l.SignatureKey, nil
	case SenderExternal:
		if ac.WireFormat != WirePublicMessage || ac.Content.ContentType != ContentProposal {
			return nil, fmt.Errorf("%w: external senders send only public proposals", ErrWireFormat)
		}
		senders, err := g.externalSenders()
		if err != nil {
			return nil, err
		}
		if int(snd.Index) >= len(senders) {
			return nil, fmt.Errorf("%w: external sender %d", ErrUnknownSender, snd.Index)
		}
		return senders[snd.Index].SignatureKey, nil
	case SenderNewMemberProposal:
		if ac.WireFormat != WirePublicMessage || ac.Content.ContentType != ContentProposal || ac.Content.Proposal.Type != ProposalAdd {
			return nil, fmt.Errorf("%w: new member proposals must be public Adds", ErrWireFormat)
		}
		return ac.Content.Proposal.KeyPackage.LeafNode.SignatureKey, nil
	case SenderNewMemberCommit:
		if ac.WireFormat != WirePublicMessage || ac.Content.ContentType != ContentCommit || ac.Content.Commit.Path == nil {
			return nil, fmt.Errorf("%w: external commits must be public and carry a path", ErrWireFormat)
		}
		return ac.Content.Commit.Path.LeafNode.SignatureKey, nil
	}
	return nil, fmt.Errorf("%w: sender type %d", ErrUnknownSender, snd.Type)
}

// checkProposalSender enforces which proposals each sender type may send.
func (g *Group) checkProposalSender(s Sender, p *Proposal) error {
	if s.Type == SenderExternal {
		switch p.Type {
		case ProposalAdd, ProposalRemove, ProposalPSK, ProposalReInit, ProposalGroupContextExtensions:
		default:
			return &ProposalError{-1, fmt.Sprintf("external sender may not propose type %d", p.Type)}
		}
	}
	if p.Type == ProposalExternalInit {
		return &ProposalError{-1, "ExternalInit sent as a standalone proposal"}
	}
	if p.Type == ProposalUpdate && s.Type != SenderMember {
		return &ProposalError{-1, "update from a non-member"}
	}
	if p.Type == ProposalSelfRemove && s.Type != SenderMember {
		return &ProposalError{-1, "SelfRemove from a non-member"}
	}
	return nil
}

// processCommit applies a verified commit and advances the epoch.
func (g *Group) processCommit(ac *AuthenticatedContent, r *Received) error {
	c := ac.Content.Commit
	committer := ac.Content.Sender
	if committer.Type != SenderMember && committer.Type != SenderNewMemberCommit {
		return fmt.Errorf("%w: commit from sender type %d", ErrUnknownSender, committer.Type)
	}
	props, err := g.resolveProposals(c.Proposals, committer)
	if err != nil {
		return err
	}
	for _, p := range props {
		if err := g.checkProposalSender(p.sender, p.proposal); err != nil && p.proposal.Type != ProposalExternalInit {
			return err
		}
	}
	a, err := g.applyProposals(props, committer)
	if err != nil {
		return err
	}
	for _, p := range props {
		switch p.proposal.Type {
		case ProposalRemove:
			r.Removed = append(r.Removed, p.proposal.Removed)
		case ProposalSelfRemove:
			r.Removed = append(r.Removed, p.sender.Index)
			r.SelfRemoved = append(r.SelfRemoved, p.sender.Index)
		}
	}
	r.Joined = a.joiners
	if a.pathRequired && c.Path == nil {
		return &ProposalError{-1, "commit without the required path"}
	}
	keys := g.keys
	if a.updatedMe != nil {
		keys = privateKeys{leafNode(g.me): g.updateKeys[string(a.updatedMe)]}
	}
	initSecret := g.ep.InitSecret
	if committer.Type == SenderNewMemberCommit {
		extPriv, _, err := g.s.deriveKeyPair(g.ep.ExternalSecret)
		if err != nil {
			return err
		}
		if initSecret, err = g.s.externalInitSecretReceive(extPriv, a.externalInit); err != nil {
			return err
		}
		// The joiner sits where an Add would have put it.
		committer.Index = a.tree.addLeaf(&c.Path.LeafNode)
		r.Joined = append(r.Joined, committer.Index)
		r.Sender = committer
	}
	var commitSecret []byte
	if c.Path != nil {
		if err := a.tree.mergeUpdatePath(g.s, committer.Index, c.Path, g.ctx.GroupID); err != nil {
			return err
		}
		if err := validateLeafCapabilities(&c.Path.LeafNode, g.ctx.CipherSuite, a.extensions); err != nil {
			return fmt.Errorf("%w: %v", ErrUpdatePath, err)
		}
		if err := g.checkUniqueKeys(a.tree, []uint32{committer.Index}); err != nil {
			return fmt.Errorf("%w: %v", ErrUpdatePath, err)
		}
		if !a.removedMe {
			provisional := GroupContext{Version: mls10, CipherSuite: g.ctx.CipherSuite, GroupID: g.ctx.GroupID,
				Epoch: g.ctx.Epoch + 1, TreeHash: a.tree.rootHash(g.s), ConfirmedTranscriptHash: g.ctx.ConfirmedTranscriptHash,
				Extensions: a.extensions}
			d, err := a.tree.decryptUpdatePath(g.s, committer.Index, g.me, c.Path, keys, a.joinerSet, provisional.bytes())
			if err != nil {
				return err
			}
			commitSecret, keys = d.commitSecret, d.keys
		}
	}
	pskSecret, err := g.pskSecretFor(a.pskIDs)
	if err != nil {
		return err
	}
	next, err := g.advance(a, ac, initSecret, commitSecret, pskSecret, keys)
	if err != nil {
		return err
	}
	if !a.removedMe {
		if err := g.s.verifyConfirmationTag(next.ep.ConfirmationKey, next.ctx.ConfirmedTranscriptHash, ac.Auth.ConfirmationTag); err != nil {
			return err
		}
	}
	next.interim = g.s.interimTranscriptHash(next.ctx.ConfirmedTranscriptHash, ac.Auth.ConfirmationTag)
	*g = *next
	g.dropPastHandshake()
	return nil
}
