package mls

import "math/bits"

// Array-based tree math of RFC 9420 Appendix C. Node indices are uint32;
// leaves sit at even indices, leaf i at node 2i.

// nodeWidth returns the number of nodes in a tree with n leaves.
func nodeWidth(n uint32) uint32 {
	if n == 0 {
		return 0
	}
	return 2*(n-1) + 1
}

// level is the number of trailing one bits: 0 for leaves.
func level(x uint32) uint32 { return uint32(bits.TrailingZeros32(^x)) }

// root returns the root node index of a tree with n leaves.
func root(n uint32) uint32 {
	w := nodeWidth(n)
	return (uint32(1) << (bits.Len32(w) - 1)) - 1
}

func left(x uint32) uint32 {
	k := level(x)
	return x ^ (1 << (k - 1))
}

func right(x uint32) uint32 {
	k := level(x)
	return x ^ (3 << (k - 1))
}

// parentOf ignores the tree size: callers stop at root.
func parentOf(x uint32) uint32 {
	k := level(x)
	b := (x >> (k + 1)) & 1
	return (x | (1 << k)) ^ (b << (k + 1))
}

func siblingOf(x uint32) uint32 {
	p := parentOf(x)
	if x < p {
		return right(p)
	}
	return left(p)
}

// directPath lists the ancestors of x, from its parent up to the root.
func directPath(x, n uint32) []uint32 {
	r := root(n)
	var d []uint32
	for x != r {
		x = parentOf(x)
		d = append(d, x)
	}
	return d
}

func isLeaf(x uint32) bool { return x%2 == 0 }

func leafNode(leaf uint32) uint32 { return 2 * leaf }

// isInSubtree reports whether node x lies under node y.
func isInSubtree(x, y uint32) bool {
	k := level(y)
	return x>>(k+1) == y>>(k+1)
}
