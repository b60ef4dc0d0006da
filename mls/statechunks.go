package mls

import "fmt"

// Saving the ratchet tree by chunks. A member saves its group after every
// commit and every message it sends or reads; the tree is nearly all of
// the state (3 MB of 3.1 in a group of 10,000) and a commit changes
// O(log n) of its nodes. SaveWithoutTree is the rest of the state, and the
// tree is stored as chunks of chunkSize nodes, each with a version that
// changes whenever one of its nodes does, so the caller rewrites only the
// chunks whose version differs from the one it stored.

// TreeChunkNodes is how many nodes a tree chunk holds.
const TreeChunkNodes = chunkSize

// SaveWithoutTree is Save without the ratchet tree: store the tree with
// TreeVersions and EncodeTreeChunk, load with LoadGroupChunks.
func (g *Group) SaveWithoutTree() ([]byte, error) { return g.save(false) }

// TreeVersions returns the tree's width in nodes and each chunk's version.
// Within one process equal versions mean equal chunk contents, whichever
// Group the chunk belongs to; versions do not survive a restart (a loaded
// tree's chunks get new ones).
func (g *Group) TreeVersions() (width uint32, vers []uint64) { return g.tree.versions() }

func (t *ratchetTree) versions() (width uint32, vers []uint64) {
	vers = make([]uint64, len(t.chunks))
	for i, c := range t.chunks {
		vers[i] = c.ver
	}
	return t.width, vers
}

// EncodeTreeChunk encodes chunk i: each of its nodes below the width as an
// optional<Node> (RFC 9420 §12.4.3.3's encoding of a ratchet_tree entry).
func (g *Group) EncodeTreeChunk(i int) []byte { return g.tree.encodeChunk(i) }

func (t *ratchetTree) encodeChunk(i int) []byte {
	var w writer
	for x := uint32(i) * chunkSize; x < min(uint32(i+1)*chunkSize, t.width); x++ {
		present := t.node(x) != nil
		w.boolean(present)
		if present {
			w.raw(t.nodeEncoding(x))
		}
	}
	return w.b
}

// LoadGroupChunks restores a group saved with SaveWithoutTree from its
// tree's width and chunks (all of them, in order). The tree hash is
// checked against the group context, as LoadGroup does.
func LoadGroupChunks(state []byte, width uint32, chunks [][]byte) (*Group, error) {
	return loadGroup(state, func(*groupState) (*ratchetTree, error) { return treeFromChunks(width, chunks) })
}

func treeFromChunks(width uint32, chunks [][]byte) (*ratchetTree, error) {
	leaves := (width + 1) / 2
	if width == 0 || width > nodeWidth(1<<30) || leaves&(leaves-1) != 0 || width != nodeWidth(leaves) {
		return nil, fmt.Errorf("%w: tree width %d", ErrState, width)
	}
	if want := int((width + chunkSize - 1) / chunkSize); len(chunks) != want {
		return nil, fmt.Errorf("%w: %d tree chunks for width %d, want %d", ErrState, len(chunks), width, want)
	}
	nodes := make([]*Node, width)
	for i, b := range chunks {
		base := uint32(i) * chunkSize
		n := min(chunkSize, width-base)
		err := decodeAll(b, "tree_chunk", func(r *reader) {
			for j := uint32(0); j < n && r.err == nil; j++ {
				x := base + j
				r.optional("tree_chunk.node", func(r *reader) { nodes[x] = decodeTreeNode(r, x) })
			}
		})
		if err != nil {
			return nil, fmt.Errorf("%w: tree chunk %d: %v", ErrState, i, err)
		}
	}
	return newTree(nodes), nil
}
