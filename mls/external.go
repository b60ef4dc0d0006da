package mls

import (
	"crypto/hpke"
	"errors"
	"fmt"
)

// External joins (RFC 9420 §12.4.3.2) and external senders (§12.1.8.1).

// ErrExternal is wrapped by external commit and external sender failures.
var ErrExternal = errors.New("mls: external operation failed")

const externalInitLabel = "MLS 1.0 external init secret"

// externalInitSecretSend encapsulates to the group's external_pub.
func (s *suite) externalInitSecretSend(extPub []byte) (kemOutput, initSecret []byte, err error) {
	pk, err := s.kem.NewPublicKey(extPub)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: external_pub: %v", ErrExternal, err)
	}
	enc, snd, err := hpke.NewSender(pk, s.kdf, s.aead, nil)
	if err != nil {
		return nil, nil, err
	}
	initSecret, err = snd.Export(externalInitLabel, s.hashSize())
	return enc, initSecret, err
}

// externalInitSecretReceive decapsulates an ExternalInit kem_output.
func (s *suite) externalInitSecretReceive(extPriv, kemOutput []byte) ([]byte, error) {
	sk, err := s.hpkePrivateKey(extPriv)
	if err != nil {
		return nil, err
	}
	r, err := hpke.NewRecipient(kemOutput, sk, s.kdf, s.aead, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: ExternalInit kem_output: %v", ErrExternal, err)
	}
	return r.Export(externalInitLabel, s.hashSize())
}

// ExternalSender is a non-member allowed to propose (for example the hub).
type ExternalSender struct {
	SignatureKey []byte
	Credential   Credential
}

// ExternalSendersExtension encodes the external_senders group context extension.
func ExternalSendersExtension(senders []ExternalSender) Extension {
	var w writer
	w.vector(func(w *writer) {
		for i := range senders {
			w.opaque(senders[i].SignatureKey)
			senders[i].Credential.encode(w)
		}
	})
	return Extension{Type: extExternalSenders, Data: w.b}
}

func (g *Group) externalSenders() ([]ExternalSender, error) {
	data, ok := findExtension(g.ctx.Extensions, extExternalSenders)
	if !ok {
		return nil, fmt.Errorf("%w: group has no external_senders extension", ErrUnknownSender)
	}
	var out []ExternalSender
	err := decodeAll(data, "external_senders", func(r *reader) {
		r.vector("external_senders", func(r *reader) {
			var e ExternalSender
			e.SignatureKey = clone(r.opaque("external_sender.signature_key"))
			e.Credential.decode(r)
			out = append(out, e)
		})
	})
	return out, err
}

// ExternalProposal builds a PublicMessage proposal from external sender index
// senderIndex (a position in the group's external_senders), for groupID at epoch.
// Only Add, Remove, PSK, ReInit and GroupContextExtensions may be proposed.
func ExternalProposal(cs CipherSuite, groupID []byte, epoch uint64, senderIndex uint32, sigPriv []byte, p *Proposal) ([]byte, error) {
	s, err := lookupSuite(cs)
	if err != nil {
		return nil, err
	}
	ac := &AuthenticatedContent{WireFormat: WirePublicMessage, Content: FramedContent{GroupID: clone(groupID), Epoch: epoch,
		Sender: Sender{Type: SenderExternal, Index: senderIndex}, ContentType: ContentProposal, Proposal: p}}
	if err := s.signFramed(ac, sigPriv, nil); err != nil {
		return nil, err
	}
	return (&Message{WireFormat: WirePublicMessage, Public: &PublicMessage{Content: ac.Content, Auth: ac.Auth}}).Bytes(), nil
}

// RemoveProposal is a Remove proposal for ExternalProposal.
func RemoveProposal(leaf uint32) *Proposal { return &Proposal{Type: ProposalRemove, Removed: leaf} }

// AddProposal parses a key package into an Add proposal for ExternalProposal.
func AddProposal(keyPackage []byte, cs CipherSuite) (*Proposal, error) {
	kp, err := ParseKeyPackage(keyPackage, cs)
	if err != nil {
		return nil, err
	}
	return &Proposal{Type: ProposalAdd, KeyPackage: kp}, nil
}

// ExternalJoinOptions tunes JoinExternal.
type ExternalJoinOptions struct {
	RatchetTree []byte  // when the GroupInfo lacks the ratchet_tree extension
	RemoveLeaf  *uint32 // resync: remove this member's old leaf in the same commit
	// SelfRemoves are the pending SelfRemove PublicMessages of the GroupInfo's
	// epoch, as the hub hands them out with it; the joiner verifies each (all
	// but the membership tag) and must commit them by reference.
	SelfRemoves [][]byte
}

// JoinExternal joins by external commit from a GroupInfo; the returned
// commit must be sent to the group, and the group is already in the new epoch.
func JoinExternal(groupInfo []byte, id *Identity, opts ExternalJoinOptions) (*Group, []byte, error) {
	m, err := ParseMessage(groupInfo)
	if err != nil {
		return nil, nil, err
	}
	if m.GroupInfo == nil {
		return nil, nil, fmt.Errorf("%w: wire format %d, want group info", ErrExternal, m.WireFormat)
	}
	gi := m.GroupInfo
	if gi.GroupContext.CipherSuite != id.CipherSuite {
		return nil, nil, fmt.Errorf("%w: group uses %s, identity %s", ErrExternal, gi.GroupContext.CipherSuite, id.CipherSuite)
	}
	s, err := lookupSuite(id.CipherSuite)
	if err != nil {
		return nil, nil, err
	}
	tree, err := treeFromGroupInfo(s, gi, opts.RatchetTree)
	if err != nil {
		return nil, nil, err
	}
	data, ok := findExtension(gi.Extensions, extExternalPub)
	if !ok {
		return nil, nil, fmt.Errorf("%w: GroupInfo lacks external_pub", ErrExternal)
	}
	extPub, err := s.parseExternalPub(data)
	if err != nil {
		return nil, nil, err
	}
	kemOutput, initSecret, err := s.externalInitSecretSend(extPub)
	if err != nil {
		return nil, nil, err
	}
	old := &Group{s: s, id: id, ctx: gi.GroupContext, tree: tree, me: ^uint32(0), RatchetTreeInWelcome: true, PastEpochs: DefaultPastEpochs,
		interim: s.interimTranscriptHash(gi.GroupContext.ConfirmedTranscriptHash, gi.ConfirmationTag)}
	list := []ProposalOrRef{{Proposal: &Proposal{Type: ProposalExternalInit, KEMOutput: kemOutput}}}
	if opts.RemoveLeaf != nil {
		l := tree.leaf(*opts.RemoveLeaf)
		if l == nil || l.Credential.Type != id.Credential.Type || string(l.Credential.Identity) != string(id.Credential.Identity) {
			return nil, nil, fmt.Errorf("%w: resync may only remove a leaf with the same identity", ErrExternal)
		}
		list = append(list, ProposalOrRef{Proposal: &Proposal{Type: ProposalRemove, Removed: *opts.RemoveLeaf}})
	}
	removing := map[uint32]bool{}
	if opts.RemoveLeaf != nil {
		removing[*opts.RemoveLeaf] = true
	}
	for i, b := range opts.SelfRemoves {
		ref, snd, err := verifySelfRemove(s, tree, &gi.GroupContext, b)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: pending SelfRemove %d: %w", ErrExternal, i, err)
		}
		if removing[snd.Index] {
			continue // one removal per leaf
		}
		removing[snd.Index] = true
		old.proposals = append(old.proposals, cachedProposal{ref: ref, proposal: &Proposal{Type: ProposalSelfRemove}, sender: snd})
		list = append(list, ProposalOrRef{Reference: ref})
	}
	committer := Sender{Type: SenderNewMemberCommit}
	props, err := old.resolveProposals(list, committer)
	if err != nil {
		return nil, nil, err
	}
	a, err := old.applyProposals(props, committer)
	if err != nil {
		return nil, nil, err
	}
	placeholder, err := id.newLeafNode(s, randomBytes(1), sourceCommit, gi.GroupContext.GroupID, 0)
	if err != nil {
		return nil, nil, err
	}
	me := a.tree.addLeaf(placeholder)
	provisional := GroupContext{Version: mls10, CipherSuite: id.CipherSuite, GroupID: gi.GroupContext.GroupID,
		Epoch: gi.GroupContext.Epoch + 1, ConfirmedTranscriptHash: gi.GroupContext.ConfirmedTranscriptHash, Extensions: a.extensions}
	path, err := a.tree.createUpdatePath(s, me, id.SignaturePriv, gi.GroupContext.GroupID, nil,
		func(th []byte) []byte { provisional.TreeHash = th; return provisional.bytes() })
	if err != nil {
		return nil, nil, err
	}
	ac := &AuthenticatedContent{WireFormat: WirePublicMessage, Content: FramedContent{GroupID: gi.GroupContext.GroupID,
		Epoch: gi.GroupContext.Epoch, Sender: committer, ContentType: ContentCommit,
		Commit: &Commit{Proposals: list, Path: path.path}}}
	if err := s.signFramed(ac, id.SignaturePriv, gi.GroupContext.bytes()); err != nil {
		return nil, nil, err
	}
	old.me = me
	next, err := old.advance(a, ac, initSecret, path.commitSecret, nil, path.keys)
	if err != nil {
		return nil, nil, err
	}
	ac.Auth.ConfirmationTag = s.confirmationTag(next.ep.ConfirmationKey, next.ctx.ConfirmedTranscriptHash)
	next.interim = s.interimTranscriptHash(next.ctx.ConfirmedTranscriptHash, ac.Auth.ConfirmationTag)
	msg := (&Message{WireFormat: WirePublicMessage, Public: &PublicMessage{Content: ac.Content, Auth: ac.Auth}}).Bytes()
	return next, msg, nil
}

// parseExternalPub reads the ExternalPub extension: RFC 9420 length-prefixes
// the key; ts-mls 1.6.4 writes it bare. The lengths differ, so both are accepted
// without ambiguity.
func (s *suite) parseExternalPub(data []byte) ([]byte, error) {
	if len(data) == s.npk {
		return clone(data), nil
	}
	var pub []byte
	if err := decodeAll(data, "external_pub", func(r *reader) { pub = clone(r.opaque("external_pub")) }); err != nil {
		return nil, err
	}
	return pub, nil
}
