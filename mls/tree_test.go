package mls

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestTreeCopyOnWriteAndHashCache mutates clones at random and checks that
// (a) earlier snapshots never change and (b) cached tree hashes always equal
// a from-scratch computation.
func TestTreeCopyOnWriteAndHashCache(t *testing.T) {
	s := suites[X25519_AES128GCM_SHA256_Ed25519]
	rng := rand.New(rand.NewPCG(7, 7))
	leafFor := func(i int) *LeafNode {
		return &LeafNode{EncryptionKey: []byte{byte(i), byte(i >> 8), 1}, SignatureKey: []byte{byte(i), byte(i >> 8), 2},
			Credential: Credential{Type: CredentialBasic, Identity: []byte{byte(i)}}, Source: sourceKeyPackage}
	}
	tree := newTree([]*Node{{Leaf: leafFor(0)}})
	type snapshot struct {
		tree  *ratchetTree
		bytes []byte
		hash  []byte
	}
	var snaps []snapshot
	for step := 1; step < 400; step++ {
		next := tree.clone()
		switch op := rng.IntN(4); {
		case op < 2 || next.leaves() < 3:
			next.addLeaf(leafFor(step))
		case op == 2:
			if i := uint32(rng.IntN(int(next.leaves()))); next.leaf(i) != nil {
				next.removeLeaf(i)
			}
		default:
			if i := uint32(rng.IntN(int(next.leaves()))); next.leaf(i) != nil {
				next.updateLeaf(i, leafFor(1000+step))
				// Give a random ancestor a parent node, as a path would.
				dp := next.filteredDirectPath(leafNode(i))
				if len(dp) > 0 {
					next.setNode(dp[rng.IntN(len(dp))], &Node{Parent: &ParentNode{EncryptionKey: []byte{byte(step), 9}}})
				}
			}
		}
		fresh, err := parseRatchetTree(next.bytes())
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if !bytes.Equal(fresh.rootHash(s), next.rootHash(s)) {
			t.Fatalf("step %d: cached tree hash differs from a fresh computation", step)
		}
		snaps = append(snaps, snapshot{tree, tree.bytes(), tree.rootHash(s)})
		tree = next
	}
	for i, sn := range snaps {
		if !bytes.Equal(sn.tree.bytes(), sn.bytes) || !bytes.Equal(sn.tree.rootHash(s), sn.hash) {
			t.Fatalf("snapshot %d changed after later clones were modified", i)
		}
	}
}
