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
	Version int
	Context []byte
	// Tree is the ratchet tree; empty when SaveBeside left it to the
	// GroupInfo stored beside the state.
	Tree            []byte `json:",omitempty"`
	Interim         []byte
	Proposals       []hubProposalState
	PastEpochs      int
	IgnoreLifetimes bool
}

// Save serializes the view.
func (h *HubGroup) Save() ([]byte, error) { return h.save(true) }

// SaveBeside serializes the view like Save, but leaves the ratchet tree out
// when groupInfo, which the caller stores beside the state (as a relay keeps
// the latest GroupInfo for external joiners), carries exactly the view's
// tree: the state is then a few hundred bytes whatever the group's size,
// instead of a second copy of an O(members) tree. LoadHubGroupBeside takes
// the tree from that GroupInfo. Otherwise the tree is saved as Save does.
func (h *HubGroup) SaveBeside(groupInfo []byte) ([]byte, error) {
	withTree := true
	if gi, _, err := peekGroupInfo(groupInfo); err == nil {
		if data, ok := findExtension(gi.Extensions, extRatchetTree); ok && h.g.tree.encodes(data) {
			withTree = false
		}
	}
	return h.save(withTree)
}

// SaveWithoutTree is Save without the ratchet tree, a few hundred bytes
// whatever the group's size: store the tree with TreeVersions and
// EncodeTreeChunk (only the chunks whose version changed since the last
// save), load with LoadHubGroupChunks. This keeps a hub's write per commit
// O(log n) when the GroupInfo it stores leaves the tree out.
func (h *HubGroup) SaveWithoutTree() ([]byte, error) { return h.save(false) }

// TreeVersions returns the tree's width in nodes and each 64-node chunk's
// version, as Group.TreeVersions does: within one process an unchanged
// version means an unchanged chunk.
func (h *HubGroup) TreeVersions() (width uint32, vers []uint64) { return h.g.tree.versions() }

// EncodeTreeChunk encodes chunk i of the tree, as Group.EncodeTreeChunk does.
func (h *HubGroup) EncodeTreeChunk(i int) []byte { return h.g.tree.encodeChunk(i) }

func (h *HubGroup) save(withTree bool) ([]byte, error) {
	st := hubGroupState{Version: hubStateVersion, Context: h.g.ctx.bytes(), Interim: h.g.interim,
		PastEpochs: h.PastEpochs, IgnoreLifetimes: h.g.IgnoreLifetimes}
	if withTree {
		st.Tree = h.g.tree.bytes()
	}
	for _, p := range h.g.proposals {
		st.Proposals = append(st.Proposals, hubProposalState{Ref: p.ref, Proposal: p.proposal.bytes(), Sender: p.sender,
			Message: h.raw[string(p.ref)]})
	}
	return json.Marshal(&st)
}

// LoadHubGroup restores a view written by HubGroup.Save.
func LoadHubGroup(b []byte) (*HubGroup, error) { return LoadHubGroupBeside(b, nil) }

// LoadHubGroupBeside restores a view written by Save or SaveBeside; groupInfo
// is the GroupInfo stored beside it, whose ratchet tree serves a state saved
// without one. The tree must hash to the saved context's tree hash.
func LoadHubGroupBeside(b, groupInfo []byte) (*HubGroup, error) {
	return loadHubGroup(b, func(st *hubGroupState) (*ratchetTree, error) {
		data := st.Tree
		if len(data) == 0 {
			var err error
			if data, err = groupInfoTree(groupInfo); err != nil {
				return nil, err
			}
		}
		return parseRatchetTree(data)
	})
}

// LoadHubGroupChunks restores a view written by SaveWithoutTree from its
// tree's width and chunks (all of them, in order, as EncodeTreeChunk wrote
// them). The tree must hash to the saved context's tree hash.
func LoadHubGroupChunks(b []byte, width uint32, chunks [][]byte) (*HubGroup, error) {
	return loadHubGroup(b, func(*hubGroupState) (*ratchetTree, error) { return treeFromChunks(width, chunks) })
}

func loadHubGroup(b []byte, tree func(*hubGroupState) (*ratchetTree, error)) (*HubGroup, error) {
	var st hubGroupState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrState, err)
	}
	if st.Version != hubStateVersion {
		return nil, fmt.Errorf("%w: hub state version %d", ErrState, st.Version)
	}
	// A hub follows the group for its life: it builds the key index at its
	// first check instead of scanning first (keyindex.go).
	g := &Group{me: noLeaf, interim: st.Interim, IgnoreLifetimes: st.IgnoreLifetimes, keyScans: scansBeforeIndex}
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

// groupInfoTree is the ratchet_tree extension of a GroupInfo MLSMessage.
func groupInfoTree(groupInfo []byte) ([]byte, error) {
	if groupInfo == nil {
		return nil, fmt.Errorf("%w: no ratchet tree: the state was saved beside a GroupInfo, and none was given", ErrState)
	}
	m, err := ParseMessage(groupInfo)
	if err != nil {
		return nil, fmt.Errorf("%w: the GroupInfo beside it: %w", ErrState, err)
	}
	if m.GroupInfo == nil {
		return nil, fmt.Errorf("%w: the message beside it is not a GroupInfo (wire format %d)", ErrState, m.WireFormat)
	}
	data, ok := findExtension(m.GroupInfo.Extensions, extRatchetTree)
	if !ok {
		return nil, fmt.Errorf("%w: the GroupInfo beside it has no ratchet tree", ErrState)
	}
	return data, nil
}
