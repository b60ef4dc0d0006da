package mls

import "sync/atomic"

// Copy-on-write node storage for the ratchet tree. Nodes and their cached
// tree hashes live in fixed-size chunks; cloning a tree copies only the chunk
// pointers, and a write copies just the chunk it touches. A commit therefore
// copies O(log n) chunks plus n/chunkSize pointers instead of the whole tree.

const (
	chunkBits = 6
	chunkSize = 1 << chunkBits
)

type nodeChunk struct {
	owner  uint64 // the tree allowed to write in place
	ver    uint64 // a new chunkVers value whenever a node in it is written: what an incremental save compares
	nodes  [chunkSize]*Node
	hashes [chunkSize][]byte // cached tree hashes; nil is stale
	encs   [chunkSize][]byte // cached Node encodings (node.go's encode); nil is not yet computed
}

// ratchetTree holds width nodes in array order; width == nodeWidth(leaves).
type ratchetTree struct {
	width  uint32
	chunks []*nodeChunk
	id     uint64
	// changedLeaves lists leaves written since this tree was cloned.
	changedLeaves []uint32
	// fullBelow: every leaf below this index is occupied, so addLeaf
	// looks for a blank leaf from here (O(1) when none was freed, instead
	// of a scan of every leaf per add).
	fullBelow uint32
}

var treeIDs, chunkVers atomic.Uint64

// newTree stores nodes (already padded to a full width).
func newTree(nodes []*Node) *ratchetTree {
	t := &ratchetTree{id: treeIDs.Add(1)}
	t.resize(uint32(len(nodes)))
	for x, n := range nodes {
		t.chunks[x>>chunkBits].nodes[x&(chunkSize-1)] = n
	}
	return t
}

func (t *ratchetTree) size() uint32 { return t.width }

func (t *ratchetTree) node(x uint32) *Node { return t.chunks[x>>chunkBits].nodes[x&(chunkSize-1)] }

func (t *ratchetTree) cachedHash(x uint32) []byte {
	return t.chunks[x>>chunkBits].hashes[x&(chunkSize-1)]
}

// writable returns x's chunk, copying it first if another tree shares it.
func (t *ratchetTree) writable(x uint32) *nodeChunk {
	c := t.chunks[x>>chunkBits]
	if c.owner != t.id {
		cp := *c
		cp.owner = t.id
		c = &cp
		t.chunks[x>>chunkBits] = c
	}
	return c
}

// putNode writes node x without touching cached hashes.
func (t *ratchetTree) putNode(x uint32, n *Node) {
	c := t.writable(x)
	c.nodes[x&(chunkSize-1)] = n
	c.encs[x&(chunkSize-1)] = nil
	c.ver = chunkVers.Add(1)
	if isLeaf(x) {
		t.changedLeaves = append(t.changedLeaves, x/2)
		if n == nil {
			t.fullBelow = min(t.fullBelow, x/2)
		}
	}
}

func (t *ratchetTree) putHash(x uint32, h []byte) { t.writable(x).hashes[x&(chunkSize-1)] = h }

// fillHash caches a computed hash without copying a shared chunk. This is
// safe because every change below x touches x, and touching copies x's
// chunk: trees that still share x's chunk have identical subtrees under x.
// Filling in place also warms the cache of the tree a commit was cloned from.
func (t *ratchetTree) fillHash(x uint32, h []byte) {
	t.chunks[x>>chunkBits].hashes[x&(chunkSize-1)] = h
}

// nodeEncoding is the encoding of non-blank node x (Node.encode), cached
// like tree hashes: nodes are never changed in place, only replaced
// (putNode), and a replacement clears the cache; filling it in a shared
// chunk is safe for the reason fillHash gives.
func (t *ratchetTree) nodeEncoding(x uint32) []byte {
	c := t.chunks[x>>chunkBits]
	if e := c.encs[x&(chunkSize-1)]; e != nil {
		return e
	}
	var w writer
	c.nodes[x&(chunkSize-1)].encode(&w)
	c.encs[x&(chunkSize-1)] = w.b
	return w.b
}

// resize grows with blank nodes or shrinks, clearing dropped slots.
func (t *ratchetTree) resize(w uint32) {
	old := t.width
	need := int((w + chunkSize - 1) / chunkSize)
	for len(t.chunks) < need {
		t.chunks = append(t.chunks, &nodeChunk{owner: t.id, ver: chunkVers.Add(1)})
	}
	for x := w; x < old && x < uint32(need)*chunkSize; x++ {
		c := t.writable(x)
		c.nodes[x&(chunkSize-1)] = nil
		c.hashes[x&(chunkSize-1)] = nil
		c.encs[x&(chunkSize-1)] = nil
		c.ver = chunkVers.Add(1)
	}
	t.chunks = t.chunks[:need]
	t.width = w
	t.fullBelow = min(t.fullBelow, (w+1)/2)
}

// clone shares every chunk; both trees copy a chunk before writing to it.
func (t *ratchetTree) clone() *ratchetTree {
	t.id = treeIDs.Add(1)
	return &ratchetTree{width: t.width, chunks: append([]*nodeChunk(nil), t.chunks...), id: treeIDs.Add(1), fullBelow: t.fullBelow}
}
