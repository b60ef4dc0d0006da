package mls

import (
	"errors"
	"fmt"
)

// TreeKEM (RFC 9420 §7.4-7.6): path secrets, UpdatePath creation and processing.

// ErrUpdatePath is wrapped by UpdatePath processing failures.
var ErrUpdatePath = errors.New("mls: invalid UpdatePath")

// privateKeys are a member's HPKE private keys by node index: its leaf and
// the parents on its direct path it knows secrets for.
type privateKeys map[uint32][]byte

// nodeKeyPair derives a parent's key pair from its path secret.
func (s *suite) nodeKeyPair(pathSecret []byte) (priv, pub []byte, err error) {
	return s.deriveKeyPair(s.deriveSecret(pathSecret, "node"))
}

// pathParents builds the new parent nodes of a filtered direct path and the
// sender leaf's parent hash; parents[i] goes at fdp[i].
func (t *ratchetTree) pathParents(s *suite, leafX uint32, fdp []uint32, pubs [][]byte) ([]*ParentNode, []byte) {
	parents := make([]*ParentNode, len(fdp))
	for i := range fdp {
		parents[i] = &ParentNode{EncryptionKey: pubs[i]}
	}
	var above []byte
	for i := len(fdp) - 1; i >= 0; i-- {
		parents[i].ParentHash = above
		above = parentHash(s, parents[i], t.treeHash(s, copathChild(leafX, fdp[i])))
	}
	return parents, above
}

// installPath blanks the sender's direct path, then writes the new parents and leaf.
func (t *ratchetTree) installPath(leaf uint32, fdp []uint32, parents []*ParentNode, l *LeafNode) {
	t.blankPath(leaf)
	for i, x := range fdp {
		t.setNode(x, &Node{Parent: parents[i]})
	}
	t.setNode(leafNode(leaf), &Node{Leaf: l})
}

// excludedResolution is the resolution of x without the leaves of new joiners.
func (t *ratchetTree) excludedResolution(x uint32, joiners map[uint32]bool) []uint32 {
	res := t.resolution(x)
	if len(joiners) == 0 {
		return res
	}
	out := res[:0:0]
	for _, r := range res {
		if !(isLeaf(r) && joiners[r/2]) {
			out = append(out, r)
		}
	}
	return out
}

// pathResult is what creating an UpdatePath yields to its sender.
type pathResult struct {
	path         *UpdatePath
	commitSecret []byte
	keys         privateKeys       // the sender's new private keys
	secrets      map[uint32][]byte // path secret of each filtered-direct-path node
}

// createUpdatePath refreshes leaf's path in t (proposals already applied) and
// encrypts the path secrets under the context ctxFor(new tree hash) returns.
func (t *ratchetTree) createUpdatePath(s *suite, leaf uint32, sigPriv, groupID []byte, joiners map[uint32]bool,
	ctxFor func(treeHash []byte) []byte) (*pathResult, error) {
	leafX := leafNode(leaf)
	old := t.leaf(leaf)
	if old == nil {
		return nil, fmt.Errorf("%w: sender leaf %d is blank", ErrUpdatePath, leaf)
	}
	fdp := t.filteredDirectPath(leafX)
	leafPriv, leafPub, err := s.generateHPKEKey()
	if err != nil {
		return nil, err
	}
	res := &pathResult{keys: privateKeys{leafX: leafPriv}, secrets: map[uint32][]byte{}}
	secrets := make([][]byte, len(fdp))
	pubs := make([][]byte, len(fdp))
	ps := randomBytes(s.hashSize())
	for i, x := range fdp {
		secrets[i] = ps
		priv, pub, err := s.nodeKeyPair(ps)
		if err != nil {
			return nil, err
		}
		pubs[i] = pub
		res.keys[x] = priv
		res.secrets[x] = ps
		ps = s.deriveSecret(ps, "path")
	}
	res.commitSecret = ps
	parents, leafParentHash := t.pathParents(s, leafX, fdp, pubs)
	l := *old
	l.EncryptionKey = leafPub
	l.Source = sourceCommit
	l.ParentHash = leafParentHash
	l.NotBefore, l.NotAfter = 0, 0
	if err := l.sign(s, sigPriv, groupID, leaf); err != nil {
		return nil, err
	}
	t.installPath(leaf, fdp, parents, &l)
	ctx := ctxFor(t.rootHash(s))
	path := &UpdatePath{LeafNode: l, Nodes: make([]UpdatePathNode, len(fdp))}
	for i, x := range fdp {
		path.Nodes[i].EncryptionKey = pubs[i]
		for _, r := range t.excludedResolution(copathChild(leafX, x), joiners) {
			kem, ct, err := s.encryptWithLabel(t.node(r).encryptionKey(), "UpdatePathNode", ctx, secrets[i])
			if err != nil {
				return nil, err
			}
			path.Nodes[i].Secrets = append(path.Nodes[i].Secrets, HPKECiphertext{KEMOutput: kem, Ciphertext: ct})
		}
	}
	res.path = path
	return res, nil
}

// mergeUpdatePath checks the sender's new leaf and parent hashes and installs
// the path's public keys into t (proposals already applied).
func (t *ratchetTree) mergeUpdatePath(s *suite, sender uint32, path *UpdatePath, groupID []byte) error {
	leafX := leafNode(sender)
	if t.leaf(sender) == nil {
		return fmt.Errorf("%w: sender leaf %d is blank", ErrUpdatePath, sender)
	}
	fdp := t.filteredDirectPath(leafX)
	if len(path.Nodes) != len(fdp) {
		return fmt.Errorf("%w: %d nodes for a filtered direct path of %d", ErrUpdatePath, len(path.Nodes), len(fdp))
	}
	l := path.LeafNode
	if l.Source != sourceCommit {
		return fmt.Errorf("%w: leaf_node_source %d, want commit", ErrUpdatePath, l.Source)
	}
	if err := l.verify(s, groupID, sender); err != nil {
		return fmt.Errorf("%w: leaf: %v", ErrUpdatePath, err)
	}
	pubs := make([][]byte, len(fdp))
	for i := range fdp {
		pubs[i] = path.Nodes[i].EncryptionKey
	}
	parents, leafParentHash := t.pathParents(s, leafX, fdp, pubs)
	if string(leafParentHash) != string(l.ParentHash) {
		return fmt.Errorf("%w: leaf parent_hash does not match the path", ErrUpdatePath)
	}
	t.installPath(sender, fdp, parents, &l)
	return nil
}

// decryptUpdatePath recovers the path secret the receiver at leaf `me` can
// read, checks the derived public keys against the merged tree, and returns
// the commit secret and the receiver's new private keys.
func (t *ratchetTree) decryptUpdatePath(s *suite, sender, me uint32, path *UpdatePath, keys privateKeys,
	joiners map[uint32]bool, ctx []byte) (*decryptedPath, error) {
	leafX := leafNode(sender)
	fdp := t.filteredDirectPath(leafX)
	for i, x := range fdp {
		if !isInSubtree(leafNode(me), x) {
			continue
		}
		res := t.excludedResolution(copathChild(leafX, x), joiners)
		if len(path.Nodes[i].Secrets) != len(res) {
			return nil, fmt.Errorf("%w: node %d has %d ciphertexts for a resolution of %d", ErrUpdatePath, x, len(path.Nodes[i].Secrets), len(res))
		}
		for j, r := range res {
			priv, ok := keys[r]
			if !ok {
				continue
			}
			c := path.Nodes[i].Secrets[j]
			ps, err := s.decryptWithLabel(priv, "UpdatePathNode", ctx, c.KEMOutput, c.Ciphertext)
			if err != nil {
				return nil, fmt.Errorf("%w: path secret for node %d: %v", ErrUpdatePath, x, err)
			}
			return t.derivePathFrom(s, sender, fdp, i, ps, keys)
		}
		return nil, fmt.Errorf("%w: no private key for the resolution of node %d", ErrUpdatePath, copathChild(leafX, x))
	}
	return nil, fmt.Errorf("%w: receiver %d not below the sender's path", ErrUpdatePath, me)
}

// derivePathFrom derives path secrets from fdp[i] upward, checking public keys.
func (t *ratchetTree) derivePathFrom(s *suite, sender uint32, fdp []uint32, i int, ps []byte, keys privateKeys) (*decryptedPath, error) {
	d := &decryptedPath{pathSecret: ps, node: fdp[i]}
	next := privateKeys{}
	for k, v := range keys {
		next[k] = v
	}
	for _, x := range directPath(leafNode(sender), t.leaves()) {
		delete(next, x)
	}
	for ; i < len(fdp); i++ {
		priv, pub, err := s.nodeKeyPair(ps)
		if err != nil {
			return nil, err
		}
		if string(pub) != string(t.node(fdp[i]).encryptionKey()) {
			return nil, fmt.Errorf("%w: derived key for node %d does not match the path", ErrUpdatePath, fdp[i])
		}
		next[fdp[i]] = priv
		ps = s.deriveSecret(ps, "path")
	}
	d.commitSecret, d.keys = ps, next
	return d, nil
}

// decryptedPath is what a receiver learns from an UpdatePath.
type decryptedPath struct {
	node         uint32 // the lowest common ancestor with the sender
	pathSecret   []byte // its path secret
	commitSecret []byte
	keys         privateKeys
}
