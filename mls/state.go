package mls

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Saving and loading a member's group state, so a session can persist it
// between runs. The snapshot holds private keys: store it like a secret.

// ErrState is wrapped by failures to load a saved state.
var ErrState = errors.New("mls: invalid saved group state")

const stateVersion = 1

type ratchetState struct {
	Secret  []byte
	Next    uint32
	Skipped map[uint32]keyNonce `json:",omitempty"`
}

type proposalState struct {
	Ref      []byte
	Proposal []byte
	Sender   Sender
}

// pastEpochState is a kept past epoch (pastepochs.go).
type pastEpochState struct {
	Epoch            uint64
	Context          []byte
	Leaves           uint32
	SignatureKeys    map[uint32][]byte // leaves whose key differs from the current tree's; empty: blank
	SenderDataSecret []byte
	SecretNodes      map[uint32][]byte
	Application      map[uint32]ratchetState
}

type groupState struct {
	Version         int
	Context         []byte
	Tree            []byte
	Interim         []byte
	Epoch           *epochSecrets
	SecretNodes     map[uint32][]byte
	Handshake       map[uint32]ratchetState
	Application     map[uint32]ratchetState
	Me              uint32
	Identity        *Identity
	Keys            map[uint32][]byte
	Inactive        bool
	Proposals       []proposalState
	UpdateKeys      map[string][]byte // hex ref
	PSKs            map[string][]byte // hex id
	Resumption      map[uint64][]byte
	PublicHandshake bool
	TreeInWelcome   bool
	IgnoreLifetimes bool
	PastEpochs      *int // nil in states saved before it existed: the default
	Past            []pastEpochState
}

// Save serializes the group state. A pending own commit is not saved:
// merge or clear it first.
func (g *Group) Save() ([]byte, error) { return g.save(true) }

func (g *Group) save(withTree bool) ([]byte, error) {
	if g.pending != nil {
		return nil, fmt.Errorf("mls: save with a pending commit; merge or clear it first")
	}
	var tree []byte
	if withTree {
		tree = g.tree.bytes()
	}
	st := groupState{Version: stateVersion, Context: g.ctx.bytes(), Tree: tree, Interim: g.interim,
		Epoch: g.ep, SecretNodes: g.st.nodes, Handshake: map[uint32]ratchetState{}, Application: map[uint32]ratchetState{},
		Me: g.me, Identity: g.id, Keys: g.keys, Inactive: g.inactive, UpdateKeys: map[string][]byte{}, PSKs: map[string][]byte{},
		Resumption: g.resumption, PublicHandshake: g.PublicHandshake, TreeInWelcome: g.RatchetTreeInWelcome, IgnoreLifetimes: g.IgnoreLifetimes}
	for l, r := range g.st.handshake {
		st.Handshake[l] = ratchetState{r.Secret, r.Next, r.Skipped}
	}
	for l, r := range g.st.application {
		st.Application[l] = ratchetState{r.Secret, r.Next, r.Skipped}
	}
	for _, p := range g.proposals {
		st.Proposals = append(st.Proposals, proposalState{Ref: p.ref, Proposal: p.proposal.bytes(), Sender: p.sender})
	}
	keep := g.PastEpochs
	st.PastEpochs = &keep
	for _, p := range g.past {
		ps := pastEpochState{Epoch: p.epoch, Context: p.ctx, Leaves: p.leaves, SignatureKeys: p.diffAgainst(g.tree),
			SenderDataSecret: p.senderDataSecret, SecretNodes: p.st.nodes, Application: map[uint32]ratchetState{}}
		for l, r := range p.st.application {
			ps.Application[l] = ratchetState{r.Secret, r.Next, r.Skipped}
		}
		st.Past = append(st.Past, ps)
	}
	for k, v := range g.updateKeys {
		st.UpdateKeys[hex.EncodeToString([]byte(k))] = v
	}
	for k, v := range g.psks {
		st.PSKs[hex.EncodeToString([]byte(k))] = v
	}
	return json.Marshal(&st)
}

// LoadGroup restores a state written by Save.
func LoadGroup(b []byte) (*Group, error) {
	return loadGroup(b, func(st *groupState) (*ratchetTree, error) { return parseRatchetTree(st.Tree) })
}

// loadGroup restores a saved state whose tree tree gives.
func loadGroup(b []byte, tree func(*groupState) (*ratchetTree, error)) (*Group, error) {
	var st groupState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrState, err)
	}
	if st.Version != stateVersion || st.Epoch == nil || st.Identity == nil {
		return nil, fmt.Errorf("%w: version %d or missing fields", ErrState, st.Version)
	}
	g := &Group{me: st.Me, id: st.Identity, keys: st.Keys, inactive: st.Inactive, interim: st.Interim, ep: st.Epoch,
		resumption: st.Resumption, updateKeys: map[string][]byte{}, psks: map[string][]byte{},
		PublicHandshake: st.PublicHandshake, RatchetTreeInWelcome: st.TreeInWelcome, IgnoreLifetimes: st.IgnoreLifetimes}
	if err := decodeAll(st.Context, "group_context", g.ctx.decode); err != nil {
		return nil, err
	}
	var err error
	if g.s, err = lookupSuite(g.ctx.CipherSuite); err != nil {
		return nil, err
	}
	if g.tree, err = tree(&st); err != nil {
		return nil, err
	}
	if string(g.tree.rootHash(g.s)) != string(g.ctx.TreeHash) {
		return nil, fmt.Errorf("%w: tree hash does not match the group context", ErrState)
	}
	if g.tree.leaf(g.me) == nil && !g.inactive {
		return nil, fmt.Errorf("%w: own leaf %d is blank", ErrState, g.me)
	}
	g.st = &secretTree{s: g.s, leaves: g.tree.leaves(), nodes: st.SecretNodes,
		handshake: map[uint32]*hashRatchet{}, application: map[uint32]*hashRatchet{}}
	if g.st.nodes == nil {
		g.st.nodes = map[uint32][]byte{}
	}
	for l, r := range st.Handshake {
		g.st.handshake[l] = &hashRatchet{Secret: r.Secret, Next: r.Next, Skipped: r.Skipped}
	}
	for l, r := range st.Application {
		g.st.application[l] = &hashRatchet{Secret: r.Secret, Next: r.Next, Skipped: r.Skipped}
	}
	for _, p := range st.Proposals {
		var prop Proposal
		if err := decodeAll(p.Proposal, "proposal", prop.decode); err != nil {
			return nil, err
		}
		g.proposals = append(g.proposals, cachedProposal{ref: p.Ref, proposal: &prop, sender: p.Sender})
	}
	for k, v := range st.UpdateKeys {
		kb, err := hex.DecodeString(k)
		if err != nil {
			return nil, fmt.Errorf("%w: update key ref: %v", ErrState, err)
		}
		g.updateKeys[string(kb)] = v
	}
	for k, v := range st.PSKs {
		kb, err := hex.DecodeString(k)
		if err != nil {
			return nil, fmt.Errorf("%w: psk id: %v", ErrState, err)
		}
		g.psks[string(kb)] = v
	}
	if g.keys == nil {
		g.keys = privateKeys{}
	}
	g.PastEpochs = DefaultPastEpochs
	if st.PastEpochs != nil {
		g.PastEpochs = *st.PastEpochs
	}
	for _, ps := range st.Past {
		p, err := loadPastEpoch(g.s, ps, g.tree)
		if err != nil {
			return nil, err
		}
		if p.epoch >= g.ctx.Epoch || len(g.past) > 0 && p.epoch <= g.past[len(g.past)-1].epoch {
			return nil, fmt.Errorf("%w: past epoch %d out of order", ErrState, p.epoch)
		}
		g.past = append(g.past, p)
	}
	return g, nil
}

// loadPastEpoch restores one kept past epoch on top of the current tree.
func loadPastEpoch(s *suite, ps pastEpochState, cur *ratchetTree) (*pastEpoch, error) {
	var ctx GroupContext
	if err := decodeAll(ps.Context, "past.group_context", ctx.decode); err != nil {
		return nil, err
	}
	if ctx.Epoch != ps.Epoch || ctx.CipherSuite != s.id {
		return nil, fmt.Errorf("%w: past epoch %d: context mismatch", ErrState, ps.Epoch)
	}
	if ps.Leaves == 0 || ps.Leaves > 1<<30 || ps.Leaves&(ps.Leaves-1) != 0 {
		return nil, fmt.Errorf("%w: past epoch %d: %d leaves", ErrState, ps.Epoch, ps.Leaves)
	}
	st := &secretTree{s: s, leaves: ps.Leaves, nodes: ps.SecretNodes,
		handshake: map[uint32]*hashRatchet{}, application: map[uint32]*hashRatchet{}}
	if st.nodes == nil {
		st.nodes = map[uint32][]byte{}
	}
	for l, r := range ps.Application {
		st.application[l] = &hashRatchet{Secret: r.Secret, Next: r.Next, Skipped: r.Skipped}
	}
	return &pastEpoch{epoch: ps.Epoch, ctx: ps.Context, tree: cur, override: ps.SignatureKeys, leaves: ps.Leaves,
		senderDataSecret: ps.SenderDataSecret, st: st}, nil
}
