package mls

import "fmt"

// Leaf key uniqueness (RFC 9420 §7.3) without scanning the tree: an index
// of leaf encryption and signature keys, carried from epoch to epoch and
// updated only for the leaves a commit changed, so checks cost O(changes).

type keyIndex struct {
	enc map[string]uint32 // leaf encryption key -> leaf index
	sig map[string]uint32 // leaf signature key -> leaf index
}

func buildKeyIndex(t *ratchetTree) *keyIndex {
	k := &keyIndex{enc: map[string]uint32{}, sig: map[string]uint32{}}
	for i := uint32(0); i < t.leaves(); i++ {
		if l := t.leaf(i); l != nil {
			k.enc[string(l.EncryptionKey)] = i
			k.sig[string(l.SignatureKey)] = i
		}
	}
	return k
}

// advance moves the index from tree old to tree next, given the leaves changed between them.
func (k *keyIndex) advance(old, next *ratchetTree, changed []uint32) {
	for _, i := range changed {
		if l := old.leaf(i); l != nil {
			if j, ok := k.enc[string(l.EncryptionKey)]; ok && j == i {
				delete(k.enc, string(l.EncryptionKey))
			}
			if j, ok := k.sig[string(l.SignatureKey)]; ok && j == i {
				delete(k.sig, string(l.SignatureKey))
			}
		}
	}
	for _, i := range changed {
		if l := next.leaf(i); l != nil {
			k.enc[string(l.EncryptionKey)] = i
			k.sig[string(l.SignatureKey)] = i
		}
	}
}

// index returns the key index of g.tree, bringing it up to date first. The
// maps are shared with the previous epoch's Group, which is never used again
// once this one is (a dropped pending commit never reaches here).
func (g *Group) index() *keyIndex {
	if g.keys_ == nil {
		g.keys_ = buildKeyIndex(g.tree)
	} else if g.keysFrom != nil {
		g.keys_.advance(g.keysFrom, g.tree, g.keysChanged)
	}
	g.keysFrom, g.keysChanged = nil, nil
	return g.keys_
}

// checkUniqueKeys rejects a leaf in check whose keys another leaf of next
// (g.tree with a commit applied) already uses.
func (g *Group) checkUniqueKeys(next *ratchetTree, check []uint32) error {
	idx := g.index()
	for a, i := range check {
		l := next.leaf(i)
		if l == nil {
			continue
		}
		if j, ok := idx.enc[string(l.EncryptionKey)]; ok && j != i {
			if o := next.leaf(j); o != nil && string(o.EncryptionKey) == string(l.EncryptionKey) {
				return fmt.Errorf("leaf %d reuses the encryption key of leaf %d", i, j)
			}
		}
		if j, ok := idx.sig[string(l.SignatureKey)]; ok && j != i {
			if o := next.leaf(j); o != nil && string(o.SignatureKey) == string(l.SignatureKey) {
				return fmt.Errorf("leaf %d reuses the signature key of leaf %d", i, j)
			}
		}
		for _, o := range check[:a] {
			if ol := next.leaf(o); ol != nil && o != i &&
				(string(ol.EncryptionKey) == string(l.EncryptionKey) || string(ol.SignatureKey) == string(l.SignatureKey)) {
				return fmt.Errorf("leaves %d and %d share a key", o, i)
			}
		}
	}
	return nil
}
