package mls

import (
	"errors"
	"fmt"
)

// Ratchet tree of RFC 9420 §7: an array of optional nodes whose leaf count is a power of two.

// Node is a leaf or a parent; a nil *Node is blank.
type Node struct {
	Leaf   *LeafNode
	Parent *ParentNode
}

func (n *Node) encryptionKey() []byte {
	if n.Leaf != nil {
		return n.Leaf.EncryptionKey
	}
	return n.Parent.EncryptionKey
}

func (n *Node) encode(w *writer) {
	if n.Leaf != nil {
		w.u8(1)
		n.Leaf.encode(w)
	} else {
		w.u8(2)
		n.Parent.encode(w)
	}
}

// ErrInvalidTree is wrapped by every tree validation failure.
var ErrInvalidTree = errors.New("mls: invalid ratchet tree")

func (t *ratchetTree) leaves() uint32 { return (t.width + 1) / 2 }

func (t *ratchetTree) leaf(i uint32) *LeafNode {
	if 2*i >= t.width || t.node(2*i) == nil {
		return nil
	}
	return t.node(2 * i).Leaf
}

func (t *ratchetTree) parent(x uint32) *ParentNode {
	if t.node(x) == nil {
		return nil
	}
	return t.node(x).Parent
}

// encode writes the ratchet_tree extension form: trailing blanks dropped.
func (t *ratchetTree) encode(w *writer) {
	end := t.width
	for end > 0 && t.node(end-1) == nil {
		end--
	}
	w.vector(func(w *writer) {
		for x := uint32(0); x < end; x++ {
			present := t.node(x) != nil
			w.boolean(present)
			if present {
				w.raw(t.nodeEncoding(x))
			}
		}
	})
}

// encodes reports whether b is exactly t's ratchet_tree encoding, comparing
// cached node encodings instead of decoding and hashing b. Equal bytes are
// the same tree, so the same tree hash; different bytes decide nothing
// (the caller decodes and hashes them).
func (t *ratchetTree) encodes(b []byte) bool {
	r := newReader(b)
	body := r.opaque("ratchet_tree")
	if r.done("ratchet_tree") != nil {
		return false
	}
	end := t.width
	for end > 0 && t.node(end-1) == nil {
		end--
	}
	for x := uint32(0); x < end; x++ {
		if len(body) == 0 {
			return false
		}
		if t.node(x) == nil {
			if body[0] != 0 {
				return false
			}
			body = body[1:]
			continue
		}
		e := t.nodeEncoding(x)
		if body[0] != 1 || len(body)-1 < len(e) || string(body[1:1+len(e)]) != string(e) {
			return false
		}
		body = body[1+len(e):]
	}
	return len(body) == 0
}

func (t *ratchetTree) bytes() []byte {
	var w writer
	t.encode(&w)
	return w.b
}

func decodeRatchetTree(r *reader) *ratchetTree {
	var nodes []*Node
	r.vector("ratchet_tree", func(r *reader) {
		var node *Node
		r.optional("ratchet_tree.node", func(r *reader) { node = decodeTreeNode(r, uint32(len(nodes))) })
		nodes = append(nodes, node)
	})
	if r.err != nil {
		return nil
	}
	if len(nodes) == 0 || nodes[len(nodes)-1] == nil {
		r.fail("ratchet_tree", fmt.Errorf("%w: empty or ends in a blank node", ErrBadValue))
		return nil
	}
	if len(nodes)%2 == 0 {
		r.fail("ratchet_tree", fmt.Errorf("%w: even node count", ErrBadValue))
		return nil
	}
	n := uint32(1)
	for n < uint32(len(nodes)+1)/2 {
		n *= 2
	}
	for uint32(len(nodes)) < nodeWidth(n) {
		nodes = append(nodes, nil)
	}
	return newTree(nodes)
}

// decodeTreeNode decodes the node at index x of a tree: a leaf at an even
// index, a parent at an odd one.
func decodeTreeNode(r *reader, x uint32) *Node {
	node := new(Node)
	switch typ := r.u8("node.node_type"); {
	case typ == 1 && x%2 == 0:
		node.Leaf = new(LeafNode)
		node.Leaf.decode(r)
	case typ == 2 && x%2 == 1:
		node.Parent = new(ParentNode)
		node.Parent.decode(r)
	default:
		r.fail("node.node_type", fmt.Errorf("%w: node type %d at index %d", ErrBadValue, typ, x))
	}
	return node
}

// parseRatchetTree decodes a complete ratchet_tree extension body.
func parseRatchetTree(b []byte) (*ratchetTree, error) {
	var t *ratchetTree
	if err := decodeAll(b, "ratchet_tree", func(r *reader) { t = decodeRatchetTree(r) }); err != nil {
		return nil, err
	}
	return t, nil
}

// resolution is RFC 9420 §4.1.1's resolution of node x.
func (t *ratchetTree) resolution(x uint32) []uint32 {
	n := t.node(x)
	if n == nil {
		if isLeaf(x) {
			return nil
		}
		return append(t.resolution(left(x)), t.resolution(right(x))...)
	}
	out := []uint32{x}
	if n.Parent != nil {
		for _, u := range n.Parent.UnmergedLeaves {
			out = append(out, leafNode(u))
		}
	}
	return out
}

// hasNonBlank reports whether the resolution of x is non-empty, stopping at
// the first non-blank node instead of building the resolution.
func (t *ratchetTree) hasNonBlank(x uint32) bool {
	if t.node(x) != nil {
		return true
	}
	if isLeaf(x) {
		return false
	}
	return t.hasNonBlank(left(x)) || t.hasNonBlank(right(x))
}

// filteredDirectPath drops ancestors whose copath child has an empty resolution.
func (t *ratchetTree) filteredDirectPath(x uint32) []uint32 {
	var out []uint32
	n := t.leaves()
	for _, p := range directPath(x, n) {
		if t.hasNonBlank(copathChild(x, p)) {
			out = append(out, p)
		}
	}
	return out
}

// copathChild returns the child of ancestor p that is not above x.
func copathChild(x, p uint32) uint32 {
	if isInSubtree(x, left(p)) {
		return right(p)
	}
	return left(p)
}

// blankPath blanks leaf i and its direct path.
func (t *ratchetTree) blankPath(i uint32) {
	x := leafNode(i)
	t.setNode(x, nil)
	for _, p := range directPath(x, t.leaves()) {
		t.putNode(p, nil)
	}
}

// addLeaf places l in the leftmost blank leaf, extending the tree if needed,
// and records it as unmerged in its non-blank ancestors. It returns the leaf index.
func (t *ratchetTree) addLeaf(l *LeafNode) uint32 {
	i := min(t.fullBelow, t.leaves())
	for ; i < t.leaves(); i++ {
		if t.node(2*i) == nil {
			break
		}
	}
	if i == t.leaves() {
		t.resize(2*t.width + 1)
	}
	x := leafNode(i)
	t.setNode(x, &Node{Leaf: l})
	t.fullBelow = i + 1
	for _, p := range directPath(x, t.leaves()) {
		if pn := t.parent(p); pn != nil {
			q := *pn
			q.UnmergedLeaves = append(append([]uint32(nil), pn.UnmergedLeaves...), i)
			t.putNode(p, &Node{Parent: &q})
		}
	}
	return i
}

// truncate halves the tree while its right half is entirely blank.
func (t *ratchetTree) truncate() {
	for t.leaves() > 1 {
		if t.hasNonBlank(right(root(t.leaves()))) {
			return
		}
		t.resize(t.leaves() - 1)
	}
}

// ErrInvalidLeaf is wrapped by leaf node validation failures.
var ErrInvalidLeaf = errors.New("mls: invalid leaf node")

// updateLeaf replaces leaf i and blanks its direct path (Update proposal).
func (t *ratchetTree) updateLeaf(i uint32, l *LeafNode) {
	t.blankPath(i)
	t.setNode(leafNode(i), &Node{Leaf: l})
}

// removeLeaf blanks leaf i and its direct path, then truncates (Remove proposal).
func (t *ratchetTree) removeLeaf(i uint32) {
	t.blankPath(i)
	t.truncate()
}
