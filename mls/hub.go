package mls

import (
	"fmt"
	"maps"
	"slices"
)

// A hub's view of a group (draft-ietf-mimi-protocol-06: the hub orders
// handshake messages and enforces the room's policy without being a member).
// From a GroupInfo (and the ratchet tree) the hub tracks the public state of
// every epoch: the ratchet tree, the GroupContext (tree hash, transcript
// hashes) and the proposals of the epoch. That is enough to verify every
// PublicMessage's signature exactly as members do (the signature covers the
// GroupContext) and to apply commits' public parts: proposals, the new leaf and
// parent public keys of an UpdatePath, an external joiner's leaf. What the hub
// cannot check: membership tags (membership_key is secret), confirmation tags
// and the encrypted path secrets, so a member could still send a commit other
// members reject; its signature then identifies it.

// DefaultPastEpochs is how many epochs before the current one a member keeps
// application secrets for, and a hub accepts application messages from.
const DefaultPastEpochs = 3

// HubGroup is a non-member's (the hub's) view of a group. Not safe for concurrent use.
type HubGroup struct {
	g   *Group            // tree, context, interim hash and proposals; no secrets
	raw map[string][]byte // proposal ref -> the PublicMessage that carried it
	// PastEpochs is how many epochs back a PrivateMessage (application) is
	// still accepted; it should match the members' Group.PastEpochs.
	PastEpochs int
}

// HubMessage is what the hub learned by verifying one message.
type HubMessage struct {
	WireFormat  uint16
	ContentType uint8
	GroupID     []byte
	Epoch       uint64 // the epoch the message was sent in
	// From is the sender of a PublicMessage: a member (with its credential),
	// an external sender, or for an external commit the joiner's new leaf.
	// PrivateMessage senders are encrypted: zero.
	From     Sender
	FromLeaf *Member   // the member sending, or the joiner of an external commit
	Proposal *Proposal // proposals
	Ref      []byte    // proposal reference
	Commit   *HubCommit

	next *hubState // the state after a commit or proposal, for Apply
}

// HubCommit is what a verified commit changes.
type HubCommit struct {
	NewEpoch    uint64
	External    bool     // an external commit: FromLeaf joined by itself
	Joined      []Member // added leaves (Adds and the external joiner), as in the new tree
	Removed     []Member // removed leaves (Remove and SelfRemove), as they were before
	SelfRemoved []uint32 // the leaves of Removed that left by SelfRemove
	Updated     []uint32 // leaves whose key changed (Updates and the committer's path)
	Proposals   []HubProposal
	HasPath     bool
	// OmittedSelfRemoves are leaves whose SelfRemove the hub holds for this
	// epoch but the commit neither carries nor otherwise removes. The
	// committer was bound to include them (draft-ietf-mls-extensions); the
	// hub, which orders messages, knows the committer could have, and should
	// refuse the commit.
	OmittedSelfRemoves []uint32
}

// HubProposal is one proposal a commit applied, with who proposed it.
type HubProposal struct {
	Proposal *Proposal
	Sender   Sender
	ByRef    bool
}

// hubState is the state after a message, applied by Apply.
type hubState struct {
	epoch    uint64 // the epoch the message was verified against
	group    *Group // the next epoch (commit), or nil
	proposal *cachedProposal
	raw      []byte
}

// NewHubGroup starts following a group from a GroupInfo (MLSMessage); the
// ratchet tree comes from its ratchet_tree extension or from ratchetTree.
// The GroupInfo signature, the tree hash and the whole tree are verified.
func NewHubGroup(groupInfo, ratchetTree []byte) (*HubGroup, error) {
	m, err := ParseMessage(groupInfo)
	if err != nil {
		return nil, err
	}
	if m.GroupInfo == nil {
		return nil, fmt.Errorf("%w: wire format %d, want group info", ErrWireFormat, m.WireFormat)
	}
	gi := m.GroupInfo
	if gi.GroupContext.Version != mls10 {
		return nil, fmt.Errorf("%w: group info version %d", ErrBadValue, gi.GroupContext.Version)
	}
	s, err := lookupSuite(gi.GroupContext.CipherSuite)
	if err != nil {
		return nil, err
	}
	tree, err := treeFromGroupInfo(s, gi, ratchetTree)
	if err != nil {
		return nil, err
	}
	g := &Group{s: s, ctx: gi.GroupContext, tree: tree, me: noLeaf, keyScans: scansBeforeIndex, // builds the key index at once
		interim: s.interimTranscriptHash(gi.GroupContext.ConfirmedTranscriptHash, gi.ConfirmationTag)}
	return &HubGroup{g: g, raw: map[string][]byte{}, PastEpochs: DefaultPastEpochs}, nil
}

// noLeaf is the leaf index of a non-member.
const noLeaf = ^uint32(0)

// GroupID reports the group identifier.
func (h *HubGroup) GroupID() []byte { return clone(h.g.ctx.GroupID) }

// Epoch reports the current epoch.
func (h *HubGroup) Epoch() uint64 { return h.g.ctx.Epoch }

// CipherSuite reports the group's cipher suite.
func (h *HubGroup) CipherSuite() CipherSuite { return h.g.ctx.CipherSuite }

// Members lists the occupied leaves in index order.
func (h *HubGroup) Members() []Member { return h.g.Members() }

// Member is the member at leaf, if the leaf is occupied (O(1), unlike Members).
func (h *HubGroup) Member(leaf uint32) (Member, bool) {
	m := memberAt(h.g.tree, leaf)
	if m == nil {
		return Member{}, false
	}
	return *m, true
}

// RatchetTree is the ratchet_tree extension body, for joiners who get the tree from the hub.
func (h *HubGroup) RatchetTree() []byte { return h.g.tree.bytes() }

// GroupContext is the serialized GroupContext of the current epoch (equal to every member's).
func (h *HubGroup) GroupContext() []byte { return h.g.ctx.bytes() }

// PendingProposals returns the PublicMessages of the proposals received this epoch, in order.
func (h *HubGroup) PendingProposals() [][]byte {
	var out [][]byte
	for _, p := range h.g.proposals {
		out = append(out, clone(h.raw[string(p.ref)]))
	}
	return out
}

// PendingSelfRemoves returns this epoch's SelfRemove PublicMessages, which
// the hub hands out with the GroupInfo so an external joiner commits them.
func (h *HubGroup) PendingSelfRemoves() [][]byte {
	var out [][]byte
	for _, p := range h.g.proposals {
		if p.proposal.Type == ProposalSelfRemove {
			out = append(out, clone(h.raw[string(p.ref)]))
		}
	}
	return out
}

// Process verifies msg and applies it: Verify then Apply.
func (h *HubGroup) Process(msg []byte) (*HubMessage, error) {
	m, err := h.Verify(msg)
	if err != nil {
		return nil, err
	}
	return m, h.Apply(m)
}

// Apply moves the view past a message Verify accepted (a commit to its new
// epoch, a proposal into this epoch's cache). It refuses a message verified
// against an epoch the view has since left.
func (h *HubGroup) Apply(m *HubMessage) error {
	if m.next == nil {
		return nil
	}
	if m.next.epoch != h.g.ctx.Epoch {
		return fmt.Errorf("%w: verified at epoch %d, view at %d", ErrWrongEpoch, m.next.epoch, h.g.ctx.Epoch)
	}
	if m.next.group != nil {
		h.g = m.next.group
		h.raw = map[string][]byte{}
		m.next = nil
		return nil
	}
	for _, p := range h.g.proposals {
		if string(p.ref) == string(m.next.proposal.ref) {
			return nil // the same proposal twice
		}
	}
	h.g.proposals = append(h.g.proposals, *m.next.proposal)
	h.raw[string(m.next.proposal.ref)] = m.next.raw
	m.next = nil
	return nil
}

// Verify checks msg against the current epoch without changing the view.
// PublicMessages: group, epoch, sender, signature, proposal rules and, for
// commits, the whole proposal list, the path's leaf and parent hashes.
// PrivateMessages: group and epoch only (application messages of the last
// PastEpochs epochs are accepted; private proposals and commits are refused,
// since the hub could not follow them).
func (h *HubGroup) Verify(msg []byte) (*HubMessage, error) {
	m, err := ParseMessage(msg)
	if err != nil {
		return nil, err
	}
	g := h.g
	switch m.WireFormat {
	case WirePrivateMessage:
		pm := m.Private
		hm := &HubMessage{WireFormat: WirePrivateMessage, ContentType: pm.ContentType, GroupID: clone(pm.GroupID), Epoch: pm.Epoch}
		if string(pm.GroupID) != string(g.ctx.GroupID) {
			return nil, ErrWrongGroup
		}
		if pm.ContentType != ContentApplication {
			return nil, fmt.Errorf("%w: the hub cannot follow an encrypted proposal or commit; send handshakes as PublicMessages", ErrWireFormat)
		}
		cur := g.ctx.Epoch
		if pm.Epoch > cur {
			return nil, fmt.Errorf("%w: message epoch %d is ahead of the group's %d", ErrWrongEpoch, pm.Epoch, cur)
		}
		if cur-pm.Epoch > uint64(max(h.PastEpochs, 0)) {
			return nil, fmt.Errorf("%w: %w: message epoch %d, group epoch %d keeps %d past epochs", ErrWrongEpoch, ErrEpochExpired, pm.Epoch, cur, h.PastEpochs)
		}
		return hm, nil
	case WirePublicMessage:
	default:
		return nil, fmt.Errorf("%w: wire format %d is not a group message", ErrWireFormat, m.WireFormat)
	}
	c := &m.Public.Content
	if err := g.checkEpoch(c.GroupID, c.Epoch); err != nil {
		return nil, err
	}
	ac := &AuthenticatedContent{WireFormat: WirePublicMessage, Content: *c, Auth: m.Public.Auth}
	if c.ContentType == ContentApplication {
		return nil, fmt.Errorf("%w: application data in a PublicMessage", ErrWireFormat)
	}
	pub, err := g.senderKey(ac)
	if err != nil {
		return nil, err
	}
	ctx := g.contextBytes()
	if err := g.s.verifyFramed(ac, pub, ctx); err != nil {
		return nil, err
	}
	hm := &HubMessage{WireFormat: WirePublicMessage, ContentType: c.ContentType, GroupID: clone(c.GroupID), Epoch: c.Epoch, From: c.Sender}
	if c.Sender.Type == SenderMember {
		hm.FromLeaf = memberAt(g.tree, c.Sender.Index)
	}
	if c.ContentType == ContentProposal {
		if err := g.checkProposalSender(c.Sender, c.Proposal); err != nil {
			return nil, err
		}
		if c.Proposal.Type == ProposalSelfRemove {
			if leaf, ok := selfRemoveCapable(g.tree); !ok {
				return nil, &ProposalError{-1, fmt.Sprintf("SelfRemove in a group whose leaf %d does not support it", leaf)}
			}
		}
		ref := proposalRef(g.s, ac.bytes())
		hm.Proposal, hm.Ref = c.Proposal, ref
		hm.next = &hubState{epoch: g.ctx.Epoch, raw: clone(msg),
			proposal: &cachedProposal{ref: ref, proposal: c.Proposal, sender: c.Sender}}
		return hm, nil
	}
	if err := h.verifyCommit(ac, hm); err != nil {
		return nil, err
	}
	return hm, nil
}

func memberAt(t *ratchetTree, i uint32) *Member {
	l := t.leaf(i)
	if l == nil {
		return nil
	}
	return &Member{Leaf: i, Credential: l.Credential, SignatureKey: clone(l.SignatureKey)}
}

// verifyCommit validates a signed commit's public parts and computes the next epoch's view.
func (h *HubGroup) verifyCommit(ac *AuthenticatedContent, hm *HubMessage) error {
	g := h.g
	c := ac.Content.Commit
	committer := ac.Content.Sender
	if committer.Type != SenderMember && committer.Type != SenderNewMemberCommit {
		return fmt.Errorf("%w: commit from sender type %d", ErrUnknownSender, committer.Type)
	}
	if len(ac.Auth.ConfirmationTag) != g.s.hashSize() {
		return fmt.Errorf("%w: confirmation tag of %d bytes", ErrConfirmationTag, len(ac.Auth.ConfirmationTag))
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
	if a.pathRequired && c.Path == nil {
		return &ProposalError{-1, "commit without the required path"}
	}
	hc := &HubCommit{NewEpoch: g.ctx.Epoch + 1, External: committer.Type == SenderNewMemberCommit, HasPath: c.Path != nil}
	for i, p := range props {
		hc.Proposals = append(hc.Proposals, HubProposal{Proposal: p.proposal, Sender: p.sender, ByRef: c.Proposals[i].Reference != nil})
		switch p.proposal.Type {
		case ProposalRemove:
			hc.Removed = append(hc.Removed, *memberAt(g.tree, p.proposal.Removed))
		case ProposalSelfRemove:
			hc.Removed = append(hc.Removed, *memberAt(g.tree, p.sender.Index))
			hc.SelfRemoved = append(hc.SelfRemoved, p.sender.Index)
		case ProposalUpdate:
			hc.Updated = append(hc.Updated, p.sender.Index)
		}
	}
	if hc.External {
		committer.Index = a.tree.addLeaf(&c.Path.LeafNode)
		a.joiners = append(a.joiners, committer.Index)
	}
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
		if !hc.External {
			hc.Updated = append(hc.Updated, committer.Index)
		}
	}
	for _, j := range a.joiners {
		hc.Joined = append(hc.Joined, *memberAt(a.tree, j))
	}
	gone := map[uint32]bool{}
	for _, m := range hc.Removed {
		gone[m.Leaf] = true
	}
	for _, p := range g.proposals {
		if p.proposal.Type == ProposalSelfRemove && !gone[p.sender.Index] {
			hc.OmittedSelfRemoves = append(hc.OmittedSelfRemoves, p.sender.Index)
		}
	}
	if hc.External {
		hm.FromLeaf = memberAt(a.tree, committer.Index)
	}
	next := &Group{s: g.s, me: noLeaf, tree: a.tree, IgnoreLifetimes: g.IgnoreLifetimes}
	next.ctx = GroupContext{Version: mls10, CipherSuite: g.ctx.CipherSuite, GroupID: g.ctx.GroupID,
		Epoch: g.ctx.Epoch + 1, TreeHash: a.tree.rootHash(g.s),
		ConfirmedTranscriptHash: g.s.confirmedTranscriptHash(g.interim, ac), Extensions: a.extensions}
	next.interim = g.s.interimTranscriptHash(next.ctx.ConfirmedTranscriptHash, ac.Auth.ConfirmationTag)
	next.inheritKeys(g, a.tree.changedLeaves)
	hm.Commit = hc
	hm.next = &hubState{epoch: g.ctx.Epoch, group: next}
	return nil
}

// CheckGroupInfo verifies that a GroupInfo (for example a committer's
// CommitResult.GroupInfo) describes the view's current epoch: same
// GroupContext, signed by a member, and a ratchet tree, when it carries one,
// that hashes to the context's tree hash. The hub stores it for external joiners.
func (h *HubGroup) CheckGroupInfo(groupInfo []byte) error { return checkGroupInfo(h.g, groupInfo) }

// CheckGroupInfoAfter checks groupInfo as CheckGroupInfo does, against the
// epoch the verified commit m leads to, before Apply: a hub can refuse a
// commit whose GroupInfo is wrong without undoing anything.
func (h *HubGroup) CheckGroupInfoAfter(m *HubMessage, groupInfo []byte) error {
	if m == nil || m.next == nil || m.next.group == nil {
		return fmt.Errorf("%w: not a verified commit waiting to be applied", ErrState)
	}
	if m.next.epoch != h.g.ctx.Epoch {
		return fmt.Errorf("%w: verified at epoch %d, view at %d", ErrWrongEpoch, m.next.epoch, h.g.ctx.Epoch)
	}
	return checkGroupInfo(m.next.group, groupInfo)
}

// checkGroupInfo checks groupInfo against g's epoch. Without a ratchet tree
// it costs O(1) in the group's size (the context carries the tree hash, which
// g computed incrementally); with one, O(n) byte comparisons.
func checkGroupInfo(g *Group, groupInfo []byte) error {
	// A GroupInfo with the tree is O(members) bytes: it is read in place
	// (no copy of the tree, the signed bytes taken from the message) and
	// its tree compared with the view's node by node, not decoded and hashed.
	gi, tbs, err := peekGroupInfo(groupInfo)
	if err != nil {
		return err
	}
	if gi.GroupContext.Epoch != g.ctx.Epoch || string(gi.GroupContext.GroupID) != string(g.ctx.GroupID) {
		return fmt.Errorf("%w: group info for epoch %d, view at %d", ErrWrongEpoch, gi.GroupContext.Epoch, g.ctx.Epoch)
	}
	if string(gi.GroupContext.bytes()) != string(g.ctx.bytes()) {
		return fmt.Errorf("%w: group info context differs from the hub's", ErrWelcome)
	}
	signer := g.tree.leaf(gi.Signer)
	if signer == nil {
		return fmt.Errorf("%w: GroupInfo signer %d is not a member", ErrUnknownSender, gi.Signer)
	}
	if err := g.s.verifyWithLabel(signer.SignatureKey, "GroupInfoTBS", tbs, gi.Signature); err != nil {
		return err
	}
	data, ok := findExtension(gi.Extensions, extRatchetTree)
	if !ok || g.tree.encodes(data) {
		return nil
	}
	// Not byte for byte the hub's tree (which hashes to the context's tree
	// hash): decode and hash it to say why.
	t, err := parseRatchetTree(data)
	if err != nil {
		return err
	}
	if string(t.rootHash(g.s)) != string(g.ctx.TreeHash) {
		return fmt.Errorf("%w: GroupInfo ratchet tree does not match the tree hash", ErrInvalidTree)
	}
	return nil
}

// GroupInfoHasTree reports whether a GroupInfo MLSMessage carries the
// ratchet_tree extension (a hub serves its own tree beside one that does not).
func GroupInfoHasTree(groupInfo []byte) (bool, error) {
	gi, _, err := peekGroupInfo(groupInfo)
	if err != nil {
		return false, err
	}
	_, ok := findExtension(gi.Extensions, extRatchetTree)
	return ok, nil
}

// Clone returns an independent copy of the view (O(proposals); the tree is
// copy-on-write and shared until either side applies a commit), a rollback
// point for a hub that applies several messages and may refuse the lot.
func (h *HubGroup) Clone() *HubGroup {
	g := *h.g
	g.proposals = slices.Clone(h.g.proposals)
	return &HubGroup{g: &g, raw: maps.Clone(h.raw), PastEpochs: h.PastEpochs}
}

// peekGroupInfo decodes a complete MLSMessage(GroupInfo) whose extension
// data alias msg (valid while msg is unchanged), and returns the bytes its
// signature covers (GroupInfoTBS), also a part of msg.
func peekGroupInfo(msg []byte) (*GroupInfo, []byte, error) {
	gi := new(GroupInfo)
	r := newReader(msg)
	if v := r.u16("mls_message.version"); v != mls10 && r.err == nil {
		r.fail("mls_message.version", fmt.Errorf("%w: protocol version %d", ErrBadValue, v))
	}
	if wf := r.u16("mls_message.wire_format"); wf != WireGroupInfo && r.err == nil {
		return nil, nil, fmt.Errorf("%w: wire format %d, want group info", ErrWireFormat, wf)
	}
	start := len(msg) - len(r.b)
	gi.GroupContext.decode(r)
	r.vector("group_info.extensions", func(r *reader) {
		e := Extension{Type: r.u16("group_info.extensions.extension_type")}
		e.Data = r.opaque("group_info.extensions.extension_data")
		gi.Extensions = append(gi.Extensions, e)
	})
	gi.ConfirmationTag = r.opaque("group_info.confirmation_tag")
	gi.Signer = r.u32("group_info.signer")
	end := len(msg) - len(r.b)
	gi.Signature = r.opaque("group_info.signature")
	if err := r.done("mls_message"); err != nil {
		return nil, nil, err
	}
	return gi, msg[start:end], nil
}
