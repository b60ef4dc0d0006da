package mls

// Tree hashes (RFC 9420 §7.8) and parent hashes (§7.9), with a per-node
// cache so a commit rehashes only the changed path: cost grows with log n.

// touch invalidates the cached hashes of x and its ancestors.
func (t *ratchetTree) touch(x uint32) {
	t.putHash(x, nil)
	r := root(t.leaves())
	for x != r {
		x = parentOf(x)
		t.putHash(x, nil)
	}
}

// setNode replaces node x and invalidates hashes above it.
func (t *ratchetTree) setNode(x uint32, n *Node) {
	t.putNode(x, n)
	t.touch(x)
}

// treeHash is the tree hash of the subtree rooted at x.
func (t *ratchetTree) treeHash(s *suite, x uint32) []byte {
	if h := t.cachedHash(x); h != nil {
		return h
	}
	h := t.computeTreeHash(s, x, nil)
	t.fillHash(x, h)
	return h
}

func (t *ratchetTree) rootHash(s *suite) []byte { return t.treeHash(s, root(t.leaves())) }

// computeTreeHash hashes x treating the leaves in exclude as blank and absent
// from unmerged lists (the "original" tree of §7.9). Only a nil exclude uses the cache.
func (t *ratchetTree) computeTreeHash(s *suite, x uint32, exclude map[uint32]bool) []byte {
	var w writer
	n := t.node(x)
	if isLeaf(x) {
		w.u8(1)
		w.u32(x / 2)
		present := n != nil && !exclude[x/2]
		w.optional(present, func(w *writer) { n.Leaf.encode(w) })
		return s.hash(w.b)
	}
	var lh, rh []byte
	if exclude == nil {
		lh, rh = t.treeHash(s, left(x)), t.treeHash(s, right(x))
	} else {
		lh, rh = t.computeTreeHash(s, left(x), exclude), t.computeTreeHash(s, right(x), exclude)
	}
	w.u8(2)
	w.optional(n != nil, func(w *writer) {
		p := n.Parent
		if exclude != nil {
			q := *p
			q.UnmergedLeaves = nil
			for _, u := range p.UnmergedLeaves {
				if !exclude[u] {
					q.UnmergedLeaves = append(q.UnmergedLeaves, u)
				}
			}
			p = &q
		}
		p.encode(w)
	})
	w.opaque(lh)
	w.opaque(rh)
	return s.hash(w.b)
}

// originalSiblingHash is the tree hash of s with p's unmerged leaves removed.
func (t *ratchetTree) originalSiblingHash(st *suite, p *ParentNode, sib uint32) []byte {
	var exclude map[uint32]bool
	for _, u := range p.UnmergedLeaves {
		if isInSubtree(leafNode(u), sib) {
			if exclude == nil {
				exclude = map[uint32]bool{}
			}
			exclude[u] = true
		}
	}
	if exclude == nil {
		return t.treeHash(st, sib)
	}
	return t.computeTreeHash(st, sib, exclude)
}

// parentHash is the hash of ParentHashInput for p with the given original sibling tree hash.
func parentHash(s *suite, p *ParentNode, siblingHash []byte) []byte {
	var w writer
	w.opaque(p.EncryptionKey)
	w.opaque(p.ParentHash)
	w.opaque(siblingHash)
	return s.hash(w.b)
}

// parentHashValidRelativeTo reports whether p (at node x) is parent-hash
// valid relative to its child c (RFC 9420 §7.9.2).
func (t *ratchetTree) parentHashValidRelativeTo(s *suite, x, c uint32) bool {
	p := t.node(x).Parent
	sib := left(x)
	if sib == c {
		sib = right(x)
	}
	want := parentHash(s, p, t.originalSiblingHash(s, p, sib))
	res := t.resolution(c)
	unmergedUnder := map[uint32]bool{}
	for _, u := range p.UnmergedLeaves {
		if isInSubtree(leafNode(u), c) {
			unmergedUnder[leafNode(u)] = true
		}
	}
	for _, d := range res {
		n := t.node(d)
		if n == nil {
			continue
		}
		var ph []byte
		if n.Leaf != nil {
			if n.Leaf.Source != sourceCommit {
				continue
			}
			ph = n.Leaf.ParentHash
		} else {
			ph = n.Parent.ParentHash
		}
		if string(ph) != string(want) {
			continue
		}
		// The rest of c's resolution must be exactly p's unmerged leaves under c.
		if len(res)-1 != len(unmergedUnder) {
			continue
		}
		ok := true
		for _, o := range res {
			if o != d && !unmergedUnder[o] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// verifyParentHashes checks every non-blank parent node is parent-hash valid
// relative to one of its children.
func (t *ratchetTree) verifyParentHashes(s *suite) error {
	for x := uint32(1); x < t.width; x += 2 {
		if t.node(x) == nil {
			continue
		}
		if !t.parentHashValidRelativeTo(s, x, left(x)) && !t.parentHashValidRelativeTo(s, x, right(x)) {
			return &TreeError{Node: x, Rule: "parent hash does not chain to a descendant"}
		}
	}
	return nil
}

// TreeError names the node and the rule a ratchet tree breaks.
type TreeError struct {
	Node uint32
	Rule string
}

func (e *TreeError) Error() string {
	return "mls: invalid ratchet tree at node " + itoa(e.Node) + ": " + e.Rule
}

func (e *TreeError) Unwrap() error { return ErrInvalidTree }

func itoa(x uint32) string {
	if x == 0 {
		return "0"
	}
	var b []byte
	for x > 0 {
		b = append([]byte{byte('0' + x%10)}, b...)
		x /= 10
	}
	return string(b)
}
