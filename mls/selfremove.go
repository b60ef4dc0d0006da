package mls

import (
	"fmt"
)

// SelfRemove (draft-ietf-mls-extensions): a member proposes its own removal
// as a PublicMessage; the hub keeps it, and the next committer, including a
// new device joining by external commit, must carry it by reference. This is
// how leaving works in MIMI (draft-ietf-mimi-protocol-06: "leaving is
// asynchronous"): the leaver cannot commit its own removal.

// selfRemoveCapable reports whether every member lists SelfRemove in its
// capabilities (a "self-remove-capable group"), or the first leaf that does not.
func selfRemoveCapable(t *ratchetTree) (uint32, bool) {
	for i := uint32(0); i < t.leaves(); i++ {
		if l := t.leaf(i); l != nil && !containsU16(l.Capabilities.Proposals, ProposalSelfRemove) {
			return i, false
		}
	}
	return 0, true
}

// SelfRemoveCapable reports whether every member supports SelfRemove; when
// not, leaving needs another member (or the hub) to propose a Remove.
func (g *Group) SelfRemoveCapable() bool {
	_, ok := selfRemoveCapable(g.tree)
	return ok
}

// selectedSelfRemoves returns the leaves whose SelfRemove list carries by reference.
func (g *Group) selectedSelfRemoves(list []ProposalOrRef) map[uint32]bool {
	refs := map[string]bool{}
	for _, p := range list {
		if p.Reference != nil {
			refs[string(p.Reference)] = true
		}
	}
	out := map[uint32]bool{}
	for _, c := range g.proposals {
		if c.proposal.Type == ProposalSelfRemove && refs[string(c.ref)] {
			out[c.sender.Index] = true
		}
	}
	return out
}

// ProposeSelfRemove proposes this member's own removal. It is always a
// PublicMessage, whatever PublicHandshake says, so the hub can read it and
// hand it to external joiners. One per epoch; the member stays in the group
// (and may keep reading) until another member commits it.
func (g *Group) ProposeSelfRemove() ([]byte, error) {
	if err := g.checkActive(); err != nil {
		return nil, err
	}
	if leaf, ok := selfRemoveCapable(g.tree); !ok {
		return nil, fmt.Errorf("%w: SelfRemove: leaf %d does not support it", ErrUnsupported, leaf)
	}
	for _, c := range g.proposals {
		if c.proposal.Type == ProposalSelfRemove && c.sender.Type == SenderMember && c.sender.Index == g.me {
			return nil, &ProposalError{-1, "a SelfRemove was already proposed this epoch"}
		}
	}
	msg, _, err := g.proposeAs(&Proposal{Type: ProposalSelfRemove}, true)
	return msg, err
}

// verifySelfRemove checks a SelfRemove PublicMessage the way a non-member
// can (no membership tag): group, epoch, sender leaf and signature against
// ctx. It returns the proposal's reference and sender.
func verifySelfRemove(s *suite, tree *ratchetTree, ctx *GroupContext, msg []byte) ([]byte, Sender, error) {
	m, err := ParseMessage(msg)
	if err != nil {
		return nil, Sender{}, err
	}
	if m.WireFormat != WirePublicMessage {
		return nil, Sender{}, fmt.Errorf("%w: SelfRemove must be a PublicMessage", ErrWireFormat)
	}
	c := &m.Public.Content
	if c.ContentType != ContentProposal || c.Proposal.Type != ProposalSelfRemove {
		return nil, Sender{}, fmt.Errorf("%w: not a SelfRemove proposal", ErrInvalidProposal)
	}
	if string(c.GroupID) != string(ctx.GroupID) {
		return nil, Sender{}, ErrWrongGroup
	}
	if c.Epoch != ctx.Epoch {
		return nil, Sender{}, fmt.Errorf("%w: SelfRemove epoch %d, group epoch %d", ErrWrongEpoch, c.Epoch, ctx.Epoch)
	}
	if c.Sender.Type != SenderMember {
		return nil, Sender{}, &ProposalError{-1, "SelfRemove from a non-member"}
	}
	l := tree.leaf(c.Sender.Index)
	if l == nil {
		return nil, Sender{}, fmt.Errorf("%w: leaf %d", ErrUnknownSender, c.Sender.Index)
	}
	ac := &AuthenticatedContent{WireFormat: WirePublicMessage, Content: *c, Auth: m.Public.Auth}
	if err := s.verifyFramed(ac, l.SignatureKey, ctx.bytes()); err != nil {
		return nil, Sender{}, err
	}
	return proposalRef(s, ac.bytes()), c.Sender, nil
}
