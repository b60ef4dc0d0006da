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
		if plain := uncachedTreeBytes(next); !bytes.Equal(next.bytes(), plain) || !next.encodes(plain) {
			t.Fatalf("step %d: cached node encodings differ from a fresh encoding", step)
		}
		if len(snaps) > 0 {
			prev := snaps[len(snaps)-1].bytes
			if got, want := next.encodes(prev), bytes.Equal(prev, next.bytes()); got != want {
				t.Fatalf("step %d: encodes(previous tree) = %v, byte comparison says %v", step, got, want)
			}
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

// uncachedTreeBytes encodes t node by node without the encoding cache.
func uncachedTreeBytes(t *ratchetTree) []byte {
	end := t.size()
	for end > 0 && t.node(end-1) == nil {
		end--
	}
	var w writer
	w.vector(func(w *writer) {
		for x := uint32(0); x < end; x++ {
			n := t.node(x)
			w.optional(n != nil, func(w *writer) { n.encode(w) })
		}
	})
	return w.b
}

// TestTreeEncodes: encodes accepts exactly the tree's own encoding, and
// nothing that differs by a byte, a node, a blank or a length.
func TestTreeEncodes(t *testing.T) {
	leaf := func(i byte) *Node {
		return &Node{Leaf: &LeafNode{EncryptionKey: []byte{i, 1}, SignatureKey: []byte{i, 2},
			Credential: Credential{Type: CredentialBasic, Identity: []byte{i}}, Source: sourceKeyPackage}}
	}
	tree := newTree([]*Node{leaf(0), {Parent: &ParentNode{EncryptionKey: []byte{9}}}, leaf(1), nil, leaf(2), nil, nil})
	own := tree.bytes()
	other := newTree([]*Node{leaf(0), {Parent: &ParentNode{EncryptionKey: []byte{8}}}, leaf(1), nil, leaf(2), nil, nil}).bytes()
	flip := func(i int) []byte { b := bytes.Clone(own); b[i] ^= 1; return b }
	// own with its trailing blanks written out (a valid but longer encoding).
	padded := func() []byte {
		body := newReader(own).opaque("tree")
		var w writer
		w.opaque(append(bytes.Clone(body), 0, 0))
		return w.b
	}()
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"own bytes", own, true},
		{"uncached encoding", uncachedTreeBytes(tree), true},
		{"another tree", other, false},
		{"flipped last byte", flip(len(own) - 1), false},
		{"flipped middle byte", flip(len(own) / 2), false},
		{"truncated", own[:len(own)-1], false},
		{"trailing byte", append(bytes.Clone(own), 0), false},
		{"trailing blanks written out", padded, false},
		{"empty", nil, false},
		{"empty vector", []byte{0}, false},
	} {
		if got := tree.encodes(c.b); got != c.want {
			t.Errorf("%s: encodes = %v, want %v", c.name, got, c.want)
		}
	}
	// A replaced node invalidates its cached encoding.
	next := tree.clone()
	next.setNode(4, leaf(7))
	if next.encodes(own) || !next.encodes(uncachedTreeBytes(next)) || !tree.encodes(own) {
		t.Fatal("a replaced node's cached encoding was reused")
	}
}
