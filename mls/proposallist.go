package mls

import (
	"errors"
	"fmt"
	"time"
)

// Proposal list validation (RFC 9420 §12.2) and application (§12.3).

// ErrUnsupported marks valid protocol features this package does not implement.
var ErrUnsupported = errors.New("mls: unsupported feature")

// ErrInvalidProposal is wrapped by every proposal list violation.
var ErrInvalidProposal = errors.New("mls: invalid proposal list")

// ProposalError names the violated rule and the offending proposal position
// (-1 when the rule is about the list as a whole).
type ProposalError struct {
	Index int
	Rule  string
}

func (e *ProposalError) Error() string {
	if e.Index < 0 {
		return "mls: invalid proposal list: " + e.Rule
	}
	return fmt.Sprintf("mls: invalid proposal list: proposal %d: %s", e.Index, e.Rule)
}

func (e *ProposalError) Unwrap() error { return ErrInvalidProposal }

// resolvedProposal is a proposal with its original sender.
type resolvedProposal struct {
	proposal *Proposal
	sender   Sender
	ref      []byte // nil when inline
}

// applied is the result of applying a proposal list to the current state.
type applied struct {
	tree         *ratchetTree
	extensions   []Extension
	joiners      []uint32 // new leaf indices, in Add order
	joinerKPs    []*KeyPackage
	joinerSet    map[uint32]bool
	pskIDs       []PreSharedKeyID
	externalInit []byte
	reinit       *ReInit
	pathRequired bool
	removedMe    bool
	updatedMe    []byte // ref of the own Update applied
}

// resolveProposals turns a commit's ProposalOrRef list into proposals with senders.
func (g *Group) resolveProposals(list []ProposalOrRef, committer Sender) ([]resolvedProposal, error) {
	out := make([]resolvedProposal, 0, len(list))
	for i, p := range list {
		if p.Proposal != nil {
			if p.Proposal.Type == ProposalSelfRemove {
				return nil, &ProposalError{i, "SelfRemove inline (allowed by reference only)"}
			}
			out = append(out, resolvedProposal{proposal: p.Proposal, sender: committer})
			continue
		}
		var found *cachedProposal
		for j := range g.proposals {
			if string(g.proposals[j].ref) == string(p.Reference) {
				found = &g.proposals[j]
				break
			}
		}
		if found == nil {
			return nil, &ProposalError{i, fmt.Sprintf("unknown proposal reference %x", p.Reference)}
		}
		if committer.Type == SenderNewMemberCommit && found.proposal.Type != ProposalSelfRemove {
			return nil, &ProposalError{i, "external commit references a proposal other than SelfRemove"}
		}
		out = append(out, resolvedProposal{proposal: found.proposal, sender: found.sender, ref: found.ref})
	}
	return out, nil
}

// applyProposals validates props as committed by committer and applies them
// to a copy of the tree. committerLeaf is ignored for external commits.
func (g *Group) applyProposals(props []resolvedProposal, committer Sender) (*applied, error) {
	a := &applied{tree: g.tree.clone(), extensions: g.ctx.Extensions, joinerSet: map[uint32]bool{}}
	external := committer.Type == SenderNewMemberCommit
	counts := map[uint16]int{}
	touched := map[uint32]bool{} // leaves with an Update or Remove
	pskSeen := map[string]bool{}
	for i, rp := range props {
		p := rp.proposal
		counts[p.Type]++
		switch p.Type {
		case ProposalUpdate:
			if rp.sender.Type != SenderMember {
				return nil, &ProposalError{i, "update not sent by a member"}
			}
			if !external && rp.sender.Index == committer.Index {
				return nil, &ProposalError{i, "committer includes its own update"}
			}
			if touched[rp.sender.Index] {
				return nil, &ProposalError{i, "second update or remove for a leaf"}
			}
			touched[rp.sender.Index] = true
		case ProposalRemove:
			if g.tree.leaf(p.Removed) == nil {
				return nil, &ProposalError{i, fmt.Sprintf("remove of blank or absent leaf %d", p.Removed)}
			}
			if !external && p.Removed == committer.Index {
				return nil, &ProposalError{i, "committer removes itself"}
			}
			if touched[p.Removed] {
				return nil, &ProposalError{i, "second update or remove for a leaf"}
			}
			touched[p.Removed] = true
		case ProposalSelfRemove:
			if rp.sender.Type != SenderMember {
				return nil, &ProposalError{i, "SelfRemove not sent by a member"}
			}
			if g.tree.leaf(rp.sender.Index) == nil {
				return nil, &ProposalError{i, fmt.Sprintf("SelfRemove from blank or absent leaf %d", rp.sender.Index)}
			}
			if !external && rp.sender.Index == committer.Index {
				return nil, &ProposalError{i, "committer includes its own SelfRemove"}
			}
			if touched[rp.sender.Index] {
				return nil, &ProposalError{i, "second update or remove for a leaf"}
			}
			touched[rp.sender.Index] = true
		case ProposalPSK:
			id := p.PSK
			var w writer
			id.encode(&w)
			if pskSeen[string(w.b)] {
				return nil, &ProposalError{i, "duplicate PSK"}
			}
			pskSeen[string(w.b)] = true
			if len(id.Nonce) != g.s.hashSize() {
				return nil, &ProposalError{i, "PSK nonce length differs from the hash length"}
			}
			if id.Type == pskResumption && id.Usage != resumptionApplication {
				return nil, &ProposalError{i, "resumption PSK usage other than application"}
			}
		}
	}
	if counts[ProposalGroupContextExtensions] > 1 {
		return nil, &ProposalError{-1, "more than one GroupContextExtensions"}
	}
	if counts[ProposalReInit] > 0 && len(props) != 1 {
		return nil, &ProposalError{-1, "ReInit with other proposals"}
	}
	if counts[ProposalReInit] > 0 {
		return nil, fmt.Errorf("%w: committing a ReInit (restarting the group) is not implemented", ErrUnsupported)
	}
	if external {
		if counts[ProposalExternalInit] != 1 {
			return nil, &ProposalError{-1, "external commit without exactly one ExternalInit"}
		}
		if counts[ProposalRemove] > 1 || counts[ProposalAdd]+counts[ProposalUpdate]+counts[ProposalGroupContextExtensions]+counts[ProposalReInit] > 0 {
			return nil, &ProposalError{-1, "external commit may carry only ExternalInit, one Remove, SelfRemoves and PSKs"}
		}
	} else if counts[ProposalExternalInit] > 0 {
		return nil, &ProposalError{-1, "ExternalInit in a member commit"}
	}
	if counts[ProposalSelfRemove] > 0 {
		if leaf, ok := selfRemoveCapable(g.tree); !ok {
			return nil, &ProposalError{-1, fmt.Sprintf("SelfRemove in a group whose leaf %d does not support it", leaf)}
		}
	}

	// 1. GroupContextExtensions
	for i, rp := range props {
		if rp.proposal.Type == ProposalGroupContextExtensions {
			a.extensions = rp.proposal.Extensions
			for l := uint32(0); l < g.tree.leaves(); l++ {
				if leaf := g.tree.leaf(l); leaf != nil {
					if err := validateLeafCapabilities(leaf, g.ctx.CipherSuite, a.extensions); err != nil {
						return nil, &ProposalError{i, fmt.Sprintf("leaf %d cannot support the new extensions: %v", l, err)}
					}
					for _, e := range a.extensions {
						if !isDefaultExtension(e.Type) && !containsU16(leaf.Capabilities.Extensions, e.Type) {
							return nil, &ProposalError{i, fmt.Sprintf("leaf %d does not support extension %d", l, e.Type)}
						}
					}
				}
			}
		}
	}
	// 2. Update
	for i, rp := range props {
		if rp.proposal.Type != ProposalUpdate {
			continue
		}
		l := rp.proposal.LeafNode
		if l.Source != sourceUpdate {
			return nil, &ProposalError{i, "update leaf_node_source is not update"}
		}
		if err := l.verify(g.s, g.ctx.GroupID, rp.sender.Index); err != nil {
			return nil, &ProposalError{i, "update leaf: " + err.Error()}
		}
		if err := validateLeafCapabilities(l, g.ctx.CipherSuite, a.extensions); err != nil {
			return nil, &ProposalError{i, err.Error()}
		}
		if old := g.tree.leaf(rp.sender.Index); old == nil || string(old.SignatureKey) != string(l.SignatureKey) && !g.sameIdentity(old, l) {
			return nil, &ProposalError{i, "update changes the member's identity"}
		}
		a.tree.updateLeaf(rp.sender.Index, l)
		if rp.sender.Index == g.me && !external {
			a.updatedMe = rp.ref
		}
	}
	// 3. SelfRemove (after Update, before Remove): the sender's leaf goes.
	for _, rp := range props {
		if rp.proposal.Type == ProposalSelfRemove {
			a.tree.removeLeaf(rp.sender.Index)
			if rp.sender.Index == g.me {
				a.removedMe = true
			}
		}
	}
	// 4. Remove
	for _, rp := range props {
		if rp.proposal.Type == ProposalRemove {
			a.tree.removeLeaf(rp.proposal.Removed)
			if rp.proposal.Removed == g.me {
				a.removedMe = true
			}
		}
	}
	// 5. Add
	for i, rp := range props {
		if rp.proposal.Type != ProposalAdd {
			continue
		}
		kp := rp.proposal.KeyPackage
		if err := validateKeyPackage(kp, g.ctx.CipherSuite, a.extensions, g.now()); err != nil {
			return nil, &ProposalError{i, err.Error()}
		}
		leaf := kp.LeafNode
		idx := a.tree.addLeaf(&leaf)
		a.joiners = append(a.joiners, idx)
		a.joinerKPs = append(a.joinerKPs, kp)
		a.joinerSet[idx] = true
	}
	// 6. PSK, ExternalInit, ReInit
	for _, rp := range props {
		switch rp.proposal.Type {
		case ProposalPSK:
			a.pskIDs = append(a.pskIDs, *rp.proposal.PSK)
		case ProposalExternalInit:
			a.externalInit = rp.proposal.KEMOutput
		case ProposalReInit:
			a.reinit = rp.proposal.ReInit
		}
	}
	check := append([]uint32(nil), a.joiners...)
	for _, rp := range props {
		if rp.proposal.Type == ProposalUpdate {
			check = append(check, rp.sender.Index)
		}
	}
	if err := g.checkUniqueKeys(a.tree, check); err != nil {
		return nil, &ProposalError{-1, err.Error()}
	}
	a.pathRequired = len(props) == 0 || external
	for _, rp := range props {
		switch rp.proposal.Type {
		case ProposalAdd, ProposalPSK, ProposalReInit:
		default:
			a.pathRequired = true
		}
	}
	return a, nil
}

// sameIdentity allows credential-preserving key rotation in Updates.
func (g *Group) sameIdentity(old, l *LeafNode) bool {
	return old.Credential.Type == l.Credential.Type && string(old.Credential.Identity) == string(l.Credential.Identity)
}

// now is the clock used for key package lifetimes; zero disables the check.
func (g *Group) now() time.Time {
	if g.IgnoreLifetimes {
		return time.Time{}
	}
	return time.Now()
}
