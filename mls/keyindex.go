package mls

import (
	"fmt"
	"hash/maphash"
)

// Leaf key uniqueness (RFC 9420 §7.3) without scanning the tree: an index
// of leaf encryption and signature keys, carried from epoch to epoch and
// updated only for the leaves a commit changed, so checks cost O(changes).
//
// The index is built from the whole tree once per loaded or joined group,
// O(n) time and memory. A member that restarts and processes a commit or two
// should not pay that, so until scansBeforeIndex checks have been made the
// check scans the tree's leaves instead (O(n) time, about a fiftieth of a
// build at 10,000 leaves, and no allocation), and only then builds the
// index. The index keys leaves by a seeded 64-bit hash of each key (one map
// per key kind, sized up front, no per-key allocation) and keeps the full
// key only for hashes two different keys share.

type keyIndex struct {
	enc, sig keyMap
}

// keyMap maps a leaf key to the leaf holding it.
type keyMap struct {
	hash  func([]byte) uint64 // seeded per map, so no one can aim collisions
	byH   map[uint64]uint32   // hash of the key -> leaf, or sharedHash
	exact map[string]uint32   // keys whose hash another key shares -> leaf
}

// sharedHash marks a hash that two different keys share: look in exact.
const sharedHash = ^uint32(0)

func newKeyMap(size int) keyMap {
	seed := maphash.MakeSeed()
	return keyMap{hash: func(b []byte) uint64 { return maphash.Bytes(seed, b) }, byH: make(map[uint64]uint32, size)}
}

// get returns the leaf indexed under key, or under a key that only shares
// its hash (before a second key with that hash arrived): callers compare
// the leaf's key.
func (m *keyMap) get(key []byte) (uint32, bool) {
	i, ok := m.byH[m.hash(key)]
	if ok && i == sharedHash {
		i, ok = m.exact[string(key)]
	}
	return i, ok
}

// put indexes key under leaf i; keyOf(j) is leaf j's key now, to tell a
// hash collision from the same key (the later leaf wins, as before).
func (m *keyMap) put(key []byte, i uint32, keyOf func(uint32) []byte) {
	h := m.hash(key)
	j, ok := m.byH[h]
	switch {
	case !ok || j == i:
		m.byH[h] = i
	case j == sharedHash:
		m.exact[string(key)] = i
	default:
		other := keyOf(j)
		if other == nil || string(other) == string(key) {
			m.byH[h] = i
			return
		}
		if m.exact == nil {
			m.exact = map[string]uint32{}
		}
		m.exact[string(other)], m.exact[string(key)] = j, i
		m.byH[h] = sharedHash
	}
}

// del drops key if it is indexed under leaf i.
func (m *keyMap) del(key []byte, i uint32) {
	h := m.hash(key)
	switch j, ok := m.byH[h]; {
	case ok && j == i:
		delete(m.byH, h)
	case ok && j == sharedHash:
		if k, ok := m.exact[string(key)]; ok && k == i {
			delete(m.exact, string(key))
		}
	}
}

func encKeyOf(t *ratchetTree) func(uint32) []byte {
	return func(j uint32) []byte {
		if l := t.leaf(j); l != nil {
			return l.EncryptionKey
		}
		return nil
	}
}

func sigKeyOf(t *ratchetTree) func(uint32) []byte {
	return func(j uint32) []byte {
		if l := t.leaf(j); l != nil {
			return l.SignatureKey
		}
		return nil
	}
}

func buildKeyIndex(t *ratchetTree) *keyIndex {
	n := int(t.leaves())
	k := &keyIndex{enc: newKeyMap(n), sig: newKeyMap(n)}
	encOf, sigOf := encKeyOf(t), sigKeyOf(t)
	for i := uint32(0); i < t.leaves(); i++ {
		if l := t.leaf(i); l != nil {
			k.enc.put(l.EncryptionKey, i, encOf)
			k.sig.put(l.SignatureKey, i, sigOf)
		}
	}
	return k
}

// advance moves the index from tree old to tree next, given the leaves changed between them.
func (k *keyIndex) advance(old, next *ratchetTree, changed []uint32) {
	for _, i := range changed {
		if l := old.leaf(i); l != nil {
			k.enc.del(l.EncryptionKey, i)
			k.sig.del(l.SignatureKey, i)
		}
	}
	encOf, sigOf := encKeyOf(next), sigKeyOf(next)
	for _, i := range changed {
		if l := next.leaf(i); l != nil {
			k.enc.put(l.EncryptionKey, i, encOf)
			k.sig.put(l.SignatureKey, i, sigOf)
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

// scansBeforeIndex is how many key checks scan the tree before a group
// without an index builds one.
const scansBeforeIndex = 32

// inheritKeys gives next (g's next epoch, tree changed in the leaves
// listed) g's key index, or g's count of scans when it has none yet.
func (next *Group) inheritKeys(g *Group, changed []uint32) {
	if g.keys_ == nil {
		next.keyScans = g.keyScans
		return
	}
	next.keys_, next.keysFrom, next.keysChanged = g.index(), g.tree, changed
}

// checkUniqueKeys rejects a leaf in check whose keys another leaf of next
// (g.tree with a commit applied) already uses.
func (g *Group) checkUniqueKeys(next *ratchetTree, check []uint32) error {
	if len(check) == 0 {
		return nil
	}
	var findEnc, findSig func(key []byte) (uint32, bool)
	if g.keys_ == nil && g.keyScans < scansBeforeIndex {
		g.keyScans++
		findEnc = func(key []byte) (uint32, bool) { return scanKey(g.tree, key, (*LeafNode).encKey) }
		findSig = func(key []byte) (uint32, bool) { return scanKey(g.tree, key, (*LeafNode).sigKey) }
	} else {
		idx := g.index()
		findEnc, findSig = idx.enc.get, idx.sig.get
	}
	for a, i := range check {
		l := next.leaf(i)
		if l == nil {
			continue
		}
		if j, ok := findEnc(l.EncryptionKey); ok && j != i {
			if o := next.leaf(j); o != nil && string(o.EncryptionKey) == string(l.EncryptionKey) {
				return fmt.Errorf("leaf %d reuses the encryption key of leaf %d", i, j)
			}
		}
		if j, ok := findSig(l.SignatureKey); ok && j != i {
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

// scanKey finds the last leaf of t whose key (keyOf) is key, as the index
// would (in a valid tree no two leaves share one): O(leaves), no allocation.
func scanKey(t *ratchetTree, key []byte, keyOf func(*LeafNode) []byte) (uint32, bool) {
	for i := t.leaves(); i > 0; i-- {
		if l := t.leaf(i - 1); l != nil && string(keyOf(l)) == string(key) {
			return i - 1, true
		}
	}
	return 0, false
}

func (l *LeafNode) encKey() []byte { return l.EncryptionKey }
func (l *LeafNode) sigKey() []byte { return l.SignatureKey }
