package mls

import (
	"errors"
	"fmt"
)

// Creating commits (RFC 9420 §12.4.1) and the epoch transition shared with receivers.

// ErrUnknownPSK means a PSK proposal names a key this member does not hold.
var ErrUnknownPSK = errors.New("mls: unknown pre-shared key")

// CommitOptions lists what an own commit adds on top of the proposals pending this epoch.
type CommitOptions struct {
	Add           [][]byte // MLSMessage(KeyPackage) of members to add
	Remove        []uint32 // leaves to remove
	ExternalPSKs  [][]byte // ids of external PSKs to inject
	Extensions    []Extension
	SetExtensions bool // replace the group context extensions with Extensions
	ForcePath     bool // refresh this member's path even when not required
	// GroupInfoWithoutTree leaves the ratchet_tree extension out of
	// CommitResult.GroupInfo (RFC 9420 §12.4.3.3: the tree then travels out
	// of band, e.g. from a hub that follows the group), which keeps the
	// GroupInfo O(1) in the group's size. The Welcome still follows
	// RatchetTreeInWelcome.
	GroupInfoWithoutTree bool
	// WelcomeTreeApart leaves the ratchet_tree extension out of the
	// Welcome's GroupInfo when every added KeyPackage's leaf lists
	// ExtensionWelcomeTreeApart (the joiner then gets the tree from the
	// hub and checks it against the Welcome's tree hash), which keeps the
	// Welcome O(1) in the group's size. A joiner that does not list it
	// (another implementation, an older client) still gets the tree inside.
	WelcomeTreeApart bool
}

// CommitResult is what a commit produces.
type CommitResult struct {
	Commit    []byte // MLSMessage for the group
	Welcome   []byte // MLSMessage(Welcome) for the added members; nil without adds
	GroupInfo []byte // MLSMessage(GroupInfo) of the new epoch, for external joiners
}

// pskSecretFor resolves PSK ids to keys and combines them.
func (g *Group) pskSecretFor(ids []PreSharedKeyID) ([]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([][]byte, len(ids))
	for i, id := range ids {
		switch id.Type {
		case pskExternal:
			k, ok := g.psks[string(id.ID)]
			if !ok {
				return nil, fmt.Errorf("%w: external %x", ErrUnknownPSK, id.ID)
			}
			keys[i] = k
		case pskResumption:
			k, ok := g.resumption[id.PSKEpoch]
			if string(id.PSKGroupID) != string(g.ctx.GroupID) || !ok {
				return nil, fmt.Errorf("%w: resumption group %x epoch %d", ErrUnknownPSK, id.PSKGroupID, id.PSKEpoch)
			}
			keys[i] = k
		}
	}
	return g.s.pskSecret(ids, keys), nil
}

// selectPending drops cached proposals an own commit may not carry together.
func (g *Group) selectPending() []ProposalOrRef {
	var out []ProposalOrRef
	touched := map[uint32]bool{}
	// SelfRemoves first: a Remove or Update of a leaf that removes itself is
	// invalid (draft-ietf-mls-extensions), and a committer must carry them.
	// A member cannot commit its own SelfRemove; another member will.
	if _, ok := selfRemoveCapable(g.tree); ok {
		for _, c := range g.proposals {
			if c.proposal.Type == ProposalSelfRemove && c.sender.Index != g.me && !touched[c.sender.Index] {
				touched[c.sender.Index] = true
				out = append(out, ProposalOrRef{Reference: c.ref})
			}
		}
	}
	for _, c := range g.proposals {
		p := c.proposal
		switch p.Type {
		case ProposalSelfRemove:
			continue // selected above
		case ProposalReInit:
			continue // restarting a group is not implemented
		case ProposalUpdate:
			if c.sender.Index == g.me || touched[c.sender.Index] {
				continue
			}
			touched[c.sender.Index] = true
		case ProposalRemove:
			if p.Removed == g.me || touched[p.Removed] {
				continue
			}
			touched[p.Removed] = true
		}
		out = append(out, ProposalOrRef{Reference: c.ref})
	}
	return out
}

// applyDroppingInvalid applies list, dropping pending proposals (by
// reference) that make it invalid, such as an Add whose key package expired;
// an invalid proposal of the committer's own options is an error.
func (g *Group) applyDroppingInvalid(list []ProposalOrRef, sender Sender) ([]ProposalOrRef, *applied, error) {
	for {
		props, err := g.resolveProposals(list, sender)
		if err != nil {
			return nil, nil, err
		}
		a, err := g.applyProposals(props, sender)
		var pe *ProposalError
		if err == nil || !errors.As(err, &pe) || pe.Index < 0 || pe.Index >= len(list) || list[pe.Index].Reference == nil {
			return list, a, err
		}
		list = append(list[:pe.Index:pe.Index], list[pe.Index+1:]...)
	}
}

// Commit commits the pending proposals plus opts. The group stays in the
// current epoch until MergePendingCommit, so a rejected commit can be dropped.
func (g *Group) Commit(opts CommitOptions) (*CommitResult, error) {
	if err := g.checkActive(); err != nil {
		return nil, err
	}
	list := g.selectPending()
	for _, kpb := range opts.Add {
		kp, err := ParseKeyPackage(kpb, g.ctx.CipherSuite)
		if err != nil {
			return nil, err
		}
		list = append(list, ProposalOrRef{Proposal: &Proposal{Type: ProposalAdd, KeyPackage: kp}})
	}
	leaving := g.selectedSelfRemoves(list)
	for _, r := range opts.Remove {
		if leaving[r] {
			continue // already leaving by its own SelfRemove, which this commit carries
		}
		list = append(list, ProposalOrRef{Proposal: &Proposal{Type: ProposalRemove, Removed: r}})
	}
	for _, id := range opts.ExternalPSKs {
		list = append(list, ProposalOrRef{Proposal: &Proposal{Type: ProposalPSK, PSK: &PreSharedKeyID{
			Type: pskExternal, ID: clone(id), Nonce: randomBytes(g.s.hashSize())}}})
	}
	if opts.SetExtensions {
		list = append(list, ProposalOrRef{Proposal: &Proposal{Type: ProposalGroupContextExtensions, Extensions: opts.Extensions}})
	}
	sender := Sender{Type: SenderMember, Index: g.me}
	list, a, err := g.applyDroppingInvalid(list, sender)
	if err != nil {
		return nil, err
	}
	pskSecret, err := g.pskSecretFor(a.pskIDs)
	if err != nil {
		return nil, err
	}
	commit := &Commit{Proposals: list}
	var path *pathResult
	keys := g.keys
	if a.pathRequired || opts.ForcePath {
		provisional := GroupContext{Version: mls10, CipherSuite: g.ctx.CipherSuite, GroupID: g.ctx.GroupID,
			Epoch: g.ctx.Epoch + 1, ConfirmedTranscriptHash: g.ctx.ConfirmedTranscriptHash, Extensions: a.extensions}
		path, err = a.tree.createUpdatePath(g.s, g.me, g.id.SignaturePriv, g.ctx.GroupID, a.joinerSet,
			func(th []byte) []byte { provisional.TreeHash = th; return provisional.bytes() })
		if err != nil {
			return nil, err
		}
		commit.Path = path.path
		keys = path.keys
	}
	ac := g.frame(ContentCommit, nil)
	ac.Content.Commit = commit
	ac.WireFormat = WirePrivateMessage
	if g.PublicHandshake {
		ac.WireFormat = WirePublicMessage
	}
	if err := g.s.signFramed(ac, g.id.SignaturePriv, g.contextBytes()); err != nil {
		return nil, err
	}
	var commitSecret []byte
	if path != nil {
		commitSecret = path.commitSecret
	}
	next, err := g.advance(a, ac, g.ep.InitSecret, commitSecret, pskSecret, keys)
	if err != nil {
		return nil, err
	}
	ac.Auth.ConfirmationTag = g.s.confirmationTag(next.ep.ConfirmationKey, next.ctx.ConfirmedTranscriptHash)
	next.interim = g.s.interimTranscriptHash(next.ctx.ConfirmedTranscriptHash, ac.Auth.ConfirmationTag)
	msg, err := g.protect(ac, g.PublicHandshake)
	if err != nil {
		return nil, err
	}
	res := &CommitResult{Commit: msg}
	// The published GroupInfo leaves the tree out when asked; a Welcome's
	// carries it as RatchetTreeInWelcome and WelcomeTreeApart say (signed
	// twice only when the two differ).
	withTree := g.RatchetTreeInWelcome && !opts.GroupInfoWithoutTree
	gi, err := next.signedGroupInfo(withTree)
	if err != nil {
		return nil, err
	}
	res.GroupInfo = (&Message{WireFormat: WireGroupInfo, GroupInfo: gi}).Bytes()
	if len(a.joiners) > 0 {
		welcomeTree := g.RatchetTreeInWelcome && !(opts.WelcomeTreeApart && takeTreeApart(a.joinerKPs))
		if withTree != welcomeTree {
			if gi, err = next.signedGroupInfo(welcomeTree); err != nil {
				return nil, err
			}
		}
		var secrets map[uint32][]byte
		if path != nil {
			secrets = path.secrets
		}
		if res.Welcome, err = next.welcome(gi, a, secrets, a.pskIDs, pskSecret); err != nil {
			return nil, err
		}
	}
	g.pending = &pendingCommit{next: next, msg: msg}
	return res, nil
}

// advance computes the next epoch's state from an applied proposal list and
// the signed commit content; the caller sets the interim transcript hash.
func (g *Group) advance(a *applied, ac *AuthenticatedContent, initSecret, commitSecret, pskSecret []byte, keys privateKeys) (*Group, error) {
	s := g.s
	next := &Group{s: s, id: g.id, me: g.me, tree: a.tree, keys: keys, psks: g.psks,
		PublicHandshake: g.PublicHandshake, RatchetTreeInWelcome: g.RatchetTreeInWelcome, IgnoreLifetimes: g.IgnoreLifetimes,
		PastEpochs: g.PastEpochs, past: g.rememberPast(g.PastEpochs)}
	next.ctx = GroupContext{Version: mls10, CipherSuite: g.ctx.CipherSuite, GroupID: g.ctx.GroupID,
		Epoch: g.ctx.Epoch + 1, TreeHash: a.tree.rootHash(s),
		ConfirmedTranscriptHash: s.confirmedTranscriptHash(g.interim, ac), Extensions: a.extensions}
	ctx := next.ctx.bytes()
	next.ep = s.epochFromJoiner(s.joinerSecret(initSecret, commitSecret, ctx), pskSecret, ctx)
	next.st = newSecretTree(s, next.ep.EncryptionSecret, a.tree.leaves())
	next.resumption = map[uint64][]byte{}
	for e, k := range g.resumption {
		next.resumption[e] = k
	}
	next.rememberResumption()
	next.inactive = a.removedMe
	next.inheritKeys(g, a.tree.changedLeaves)
	return next, nil
}

// MergePendingCommit moves to the epoch of the own commit, once the delivery service accepted it.
func (g *Group) MergePendingCommit() error {
	if g.pending == nil {
		return ErrNoPending
	}
	*g = *g.pending.next
	g.dropPastHandshake()
	return nil
}

// ClearPendingCommit drops an own commit the delivery service rejected.
func (g *Group) ClearPendingCommit() { g.pending = nil }
