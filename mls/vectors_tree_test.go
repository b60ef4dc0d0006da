package mls

import "testing"

func TestVectorTreeValidation(t *testing.T) {
	var vs []struct {
		CipherSuite uint16     `json:"cipher_suite"`
		Tree        hexBytes   `json:"tree"`
		GroupID     hexBytes   `json:"group_id"`
		Resolutions [][]uint32 `json:"resolutions"`
		TreeHashes  []hexBytes `json:"tree_hashes"`
	}
	loadVectors(t, "tree-validation.json", &vs)
	c := newTally(t)
	for i, v := range vs {
		s := c.suite(v.CipherSuite)
		if s == nil {
			continue
		}
		c.checked++
		tree, err := parseRatchetTree(v.Tree)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if int(tree.size()) != len(v.Resolutions) {
			t.Errorf("%d: %d nodes, want %d", i, tree.size(), len(v.Resolutions))
			continue
		}
		for x := 0; x < int(tree.size()); x++ {
			res := tree.resolution(uint32(x))
			if len(res) != len(v.Resolutions[x]) {
				t.Errorf("%d: resolution(%d) = %v, want %v", i, x, res, v.Resolutions[x])
				continue
			}
			for j := range res {
				if res[j] != v.Resolutions[x][j] {
					t.Errorf("%d: resolution(%d) = %v, want %v", i, x, res, v.Resolutions[x])
					break
				}
			}
			eqHex(t, "tree hash", tree.treeHash(s, uint32(x)), v.TreeHashes[x])
		}
		if err := tree.validate(s, v.GroupID, nil); err != nil {
			t.Errorf("%d (suite %d): %v", i, v.CipherSuite, err)
		}
		// A flipped signature byte on the last leaf must be caught.
		bad := tree.clone()
		last := bad.size() - 1
		for bad.node(last) == nil {
			last -= 2
		}
		l := *bad.node(last).Leaf
		l.Signature = append([]byte{}, l.Signature...)
		l.Signature[len(l.Signature)-1] ^= 1
		bad.setNode(last, &Node{Leaf: &l})
		if err := bad.validate(s, v.GroupID, nil); err == nil {
			t.Errorf("%d: tampered leaf signature accepted", i)
		}
	}
}

func TestVectorTreeOperations(t *testing.T) {
	var vs []struct {
		CipherSuite    uint16   `json:"cipher_suite"`
		TreeBefore     hexBytes `json:"tree_before"`
		Proposal       hexBytes `json:"proposal"`
		ProposalSender uint32   `json:"proposal_sender"`
		TreeHashBefore hexBytes `json:"tree_hash_before"`
		TreeAfter      hexBytes `json:"tree_after"`
		TreeHashAfter  hexBytes `json:"tree_hash_after"`
	}
	loadVectors(t, "tree-operations.json", &vs)
	c := newTally(t)
	for i, v := range vs {
		s := c.suite(v.CipherSuite)
		if s == nil {
			continue
		}
		c.checked++
		tree, err := parseRatchetTree(v.TreeBefore)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		eqHex(t, "tree_hash_before", tree.rootHash(s), v.TreeHashBefore)
		var p Proposal
		if err := decodeAll(v.Proposal, "proposal", p.decode); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		switch p.Type {
		case ProposalAdd:
			tree.addLeaf(&p.KeyPackage.LeafNode)
		case ProposalUpdate:
			tree.updateLeaf(v.ProposalSender, p.LeafNode)
		case ProposalRemove:
			tree.removeLeaf(p.Removed)
		default:
			t.Fatalf("%d: unexpected proposal type %d", i, p.Type)
		}
		eqHex(t, "tree_after", tree.bytes(), v.TreeAfter)
		eqHex(t, "tree_hash_after", tree.rootHash(s), v.TreeHashAfter)
	}
}
