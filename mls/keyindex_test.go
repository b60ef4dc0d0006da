package mls

import (
	"fmt"
	"testing"
)

// TestKeyMapCollisions drives the key index with a hash that maps every key
// to one of two values, so nearly every insert collides: lookups, deletes
// and re-inserts must still answer exactly as a map keyed by the whole key.
func TestKeyMapCollisions(t *testing.T) {
	for _, tc := range []struct {
		name string
		hash func([]byte) uint64
	}{
		{"two buckets", func(b []byte) uint64 { return uint64(b[len(b)-1] & 1) }},
		{"one bucket", func([]byte) uint64 { return 7 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := keyMap{hash: tc.hash, byH: map[uint64]uint32{}}
			want := map[string]uint32{} // the reference: key -> leaf
			owner := map[uint32][]byte{}
			keyOf := func(j uint32) []byte { return owner[j] }
			set := func(leaf uint32, key []byte) {
				if old, ok := owner[leaf]; ok {
					m.del(old, leaf)
					if want[string(old)] == leaf {
						delete(want, string(old))
					}
				}
				owner[leaf] = key
				m.put(key, leaf, keyOf)
				want[string(key)] = leaf
			}
			for i := range uint32(40) {
				set(i, fmt.Appendf(nil, "key-%d", i))
			}
			for i := uint32(0); i < 40; i += 3 { // replace every third leaf's key
				set(i, fmt.Appendf(nil, "new-%d", i))
			}
			for i := uint32(1); i < 40; i += 5 { // blank some leaves
				m.del(owner[i], i)
				delete(want, string(owner[i]))
				delete(owner, i)
			}
			for k, leaf := range want {
				if got, ok := m.get([]byte(k)); !ok || got != leaf {
					t.Errorf("get(%s) = %d, %v; want %d", k, got, ok, leaf)
				}
			}
			for _, gone := range []string{"key-0", "key-1", "key-6", "nothing"} {
				if _, ok := want[gone]; ok {
					continue
				}
				if got, ok := m.get([]byte(gone)); ok {
					t.Errorf("get(%s) = %d, want absent", gone, got)
				}
			}
		})
	}
}
