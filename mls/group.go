package mls

import (
	"errors"
	"fmt"
)

// Group state errors.
var (
	ErrWrongGroup    = errors.New("mls: message for another group")
	ErrWrongEpoch    = errors.New("mls: message for another epoch")
	ErrInactive      = errors.New("mls: this member was removed from the group")
	ErrUnknownSender = errors.New("mls: sender is not a member")
	ErrNoPending     = errors.New("mls: no pending commit")
	ErrOwnMessage    = errors.New("mls: message sent by this member")
	// ErrEpochExpired (with ErrWrongEpoch) marks a message of a past epoch
	// whose secrets were deleted, or that a hub no longer accepts.
	ErrEpochExpired = errors.New("mls: epoch too old")
)

// maxResumptionEpochs bounds how many past resumption PSKs a member keeps.
const maxResumptionEpochs = 16

// Group is one member's view of an MLS group in one epoch.
type Group struct {
	s        *suite
	ctx      GroupContext
	tree     *ratchetTree
	interim  []byte
	ep       *epochSecrets
	st       *secretTree
	me       uint32
	id       *Identity
	keys     privateKeys
	inactive bool

	proposals  []cachedProposal  // proposals received or sent this epoch
	updateKeys map[string][]byte // own Update proposal ref -> new leaf private key
	psks       map[string][]byte // external PSKs by id
	resumption map[uint64][]byte // resumption_psk of recent epochs
	pending    *pendingCommit

	// Leaf key index (keyindex.go): keys_ describes keysFrom's tree until
	// keysChanged (the leaves changed since) are applied.
	keys_       *keyIndex
	keysFrom    *ratchetTree
	keysChanged []uint32
	// keyScans counts key checks made by scanning the tree because there
	// was no index yet (a loaded or joined group): the index is built only
	// once they add up to more than building it costs.
	keyScans int

	// PublicHandshake sends proposals and commits as PublicMessages (else PrivateMessage).
	PublicHandshake bool
	// RatchetTreeInWelcome puts the ratchet_tree extension in Welcome GroupInfos;
	// without it joiners need the tree out of band. Default true.
	RatchetTreeInWelcome bool
	// IgnoreLifetimes skips key package lifetime checks (replaying recorded traffic).
	IgnoreLifetimes bool
	// PastEpochs is how many past epochs' application secrets are kept, so
	// messages the hub ordered after a commit still decrypt (default
	// DefaultPastEpochs; 0 keeps none). Takes effect at the next commit.
	PastEpochs int

	past []*pastEpoch // oldest first, at most PastEpochs
}

// cachedProposal is a proposal this epoch, by its reference.
type cachedProposal struct {
	ref      []byte
	proposal *Proposal
	sender   Sender
}

// pendingCommit is an own commit waiting for the delivery service to confirm it.
type pendingCommit struct {
	next *Group
	msg  []byte
}

// CipherSuite reports the group's cipher suite.
func (g *Group) CipherSuite() CipherSuite { return g.ctx.CipherSuite }

// GroupID reports the group identifier.
func (g *Group) GroupID() []byte { return clone(g.ctx.GroupID) }

// Epoch reports the current epoch.
func (g *Group) Epoch() uint64 { return g.ctx.Epoch }

// LeafIndex reports this member's leaf.
func (g *Group) LeafIndex() uint32 { return g.me }

// Active is false once this member has been removed.
func (g *Group) Active() bool { return !g.inactive }

// EpochAuthenticator is the value all members of an epoch share (RFC 9420 §8.7).
func (g *Group) EpochAuthenticator() []byte { return clone(g.ep.EpochAuthenticator) }

// Export is MLS-Exporter(label, context, length).
func (g *Group) Export(label string, context []byte, length int) ([]byte, error) {
	if length < 0 || length > 255*g.s.hashSize() {
		return nil, fmt.Errorf("mls: exporter length %d out of range", length)
	}
	return g.s.exporter(g.ep.ExporterSecret, label, context, length), nil
}

// Member is one occupied leaf.
type Member struct {
	Leaf         uint32
	Credential   Credential
	SignatureKey []byte
}

// Members lists the occupied leaves in index order.
func (g *Group) Members() []Member {
	var out []Member
	for i := uint32(0); i < g.tree.leaves(); i++ {
		if l := g.tree.leaf(i); l != nil {
			out = append(out, Member{Leaf: i, Credential: l.Credential, SignatureKey: clone(l.SignatureKey)})
		}
	}
	return out
}

// AddExternalPSK makes an external pre-shared key available to proposals and commits.
func (g *Group) AddExternalPSK(id, psk []byte) {
	if g.psks == nil {
		g.psks = map[string][]byte{}
	}
	g.psks[string(id)] = clone(psk)
}

// RatchetTree returns the ratchet_tree extension body, for joiners who get the tree out of band.
func (g *Group) RatchetTree() []byte { return g.tree.bytes() }

// NewGroup creates a one-member group at epoch 0 (RFC 9420 §11).
func NewGroup(id *Identity, groupID []byte, extensions []Extension) (*Group, error) {
	s, err := lookupSuite(id.CipherSuite)
	if err != nil {
		return nil, err
	}
	encPriv, encPub, err := s.generateHPKEKey()
	if err != nil {
		return nil, err
	}
	leaf, err := id.newLeafNode(s, encPub, sourceKeyPackage, nil, 0)
	if err != nil {
		return nil, err
	}
	if err := validateLeafCapabilities(leaf, id.CipherSuite, extensions); err != nil {
		return nil, err
	}
	g := &Group{s: s, id: id, tree: newTree([]*Node{{Leaf: leaf}}),
		keys: privateKeys{0: encPriv}, RatchetTreeInWelcome: true, PastEpochs: DefaultPastEpochs}
	g.ctx = GroupContext{Version: mls10, CipherSuite: id.CipherSuite, GroupID: clone(groupID),
		TreeHash: g.tree.rootHash(s), Extensions: extensions}
	ctx := g.ctx.bytes()
	initSecret := randomBytes(s.hashSize())
	g.ep = s.epochFromJoiner(s.joinerSecret(initSecret, nil, ctx), nil, ctx)
	g.interim = s.interimTranscriptHash(nil, s.confirmationTag(g.ep.ConfirmationKey, nil))
	g.st = newSecretTree(s, g.ep.EncryptionSecret, g.tree.leaves())
	g.rememberResumption()
	return g, nil
}

func (g *Group) rememberResumption() {
	if g.resumption == nil {
		g.resumption = map[uint64][]byte{}
	}
	g.resumption[g.ctx.Epoch] = g.ep.ResumptionPSK
	delete(g.resumption, g.ctx.Epoch-maxResumptionEpochs)
}

// contextBytes is the serialized current GroupContext.
func (g *Group) contextBytes() []byte { return g.ctx.bytes() }

// checkActive refuses operations after removal.
func (g *Group) checkActive() error {
	if g.inactive {
		return ErrInactive
	}
	return nil
}
