package mls

import (
	"encoding/json"
	"fmt"
)

// Saving and loading a hub's view, so the relay keeps following a group
// across restarts. It holds no secrets.

const hubStateVersion = 1

type hubProposalState struct {
	Ref      []byte
	Proposal []byte
	Sender   Sender
	Message  []byte // the PublicMessage that carried it
}

type hubGroupState struct {
	Version         int
	Context         []byte
	Tree            []byte
	Interim         []byte
	Proposals       []hubProposalState
	PastEpochs      int
	IgnoreLifetimes bool
}

// Save serializes the view.
func (h *HubGroup) Save() ([]byte, error) {
	st := hubGroupState{Version: hubStateVersion, Context: h.g.ctx.bytes(), Tree: h.g.tree.bytes(), Interim: h.g.interim,
		PastEpochs: h.PastEpochs, IgnoreLifetimes: h.g.IgnoreLifetimes}
	for _, p := range h.g.proposals {
		st.Proposals = append(st.Proposals, hubProposalState{Ref: p.ref, Proposal: p.proposal.bytes(), Sender: p.sender,
			Message: h.raw[string(p.ref)]})
	}
	return json.Marshal(&st)
}

// LoadHubGroup restores a view written by HubGroup.Save.
func LoadHubGroup(b []byte) (*HubGroup, error) {
	var st hubGroupState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrState, err)
	}
	if st.Version != hubStateVersion {
		return nil, fmt.Errorf("%w: hub state version %d", ErrState, st.Version)
	}
	g := &Group{me: noLeaf, interim: st.Interim, IgnoreLifetimes: st.IgnoreLifetimes}
	if err := decodeAll(st.Context, "group_context", g.ctx.decode); err != nil {
		return nil, err
	}
	var err error
	if g.s, err = lookupSuite(g.ctx.CipherSuite); err != nil {
		return nil, err
	}
	if g.tree, err = parseRatchetTree(st.Tree); err != nil {
		return nil, err
	}
	if string(g.tree.rootHash(g.s)) != string(g.ctx.TreeHash) {
		return nil, fmt.Errorf("%w: tree hash does not match the group context", ErrState)
	}
	if len(g.interim) != g.s.hashSize() {
		return nil, fmt.Errorf("%w: interim transcript hash of %d bytes", ErrState, len(g.interim))
	}
	h := &HubGroup{g: g, raw: map[string][]byte{}, PastEpochs: st.PastEpochs}
	for _, p := range st.Proposals {
		var prop Proposal
		if err := decodeAll(p.Proposal, "proposal", prop.decode); err != nil {
			return nil, err
		}
		g.proposals = append(g.proposals, cachedProposal{ref: p.Ref, proposal: &prop, sender: p.Sender})
		h.raw[string(p.Ref)] = p.Message
	}
	return h, nil
}

// SetIgnoreLifetimes skips key package lifetime checks in Adds (replaying recorded traffic).
func (h *HubGroup) SetIgnoreLifetimes(ignore bool) { h.g.IgnoreLifetimes = ignore }
