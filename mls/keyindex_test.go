package mls

import (
	"fmt"
	"strings"
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

// TestKeyChecksScanThenIndex: a group loaded from its saved state checks
// leaf keys by scanning the tree for its first scansBeforeIndex checks
// (no index built: what a restarted member pays stays O(1) in memory),
// then builds the index, which then equals one built afresh; both ways
// refuse an Add whose KeyPackage reuses a member's signature key, and a
// member processing commits after its load stays in step with the group.
func TestKeyChecksScanThenIndex(t *testing.T) {
	cs := X25519_AES128GCM_SHA256_Ed25519
	creator, err := NewIdentity(cs, []byte("creator"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGroup(creator, []byte("scan-then-index"), nil)
	if err != nil {
		t.Fatal(err)
	}
	dup, err := NewIdentity(cs, []byte("twice"))
	if err != nil {
		t.Fatal(err)
	}
	kp := func(id *Identity) []byte {
		b, err := NewKeyPackage(id)
		if err != nil {
			t.Fatal(err)
		}
		return b.KeyPackage
	}
	w := newMember(t, cs, "watcher")
	res, err := g.Commit(CommitOptions{Add: [][]byte{w.KeyPackage, kp(dup)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	wg, err := JoinFromWelcome(res.Welcome, w, JoinOptions{RatchetTree: g.RatchetTree()})
	if err != nil {
		t.Fatal(err)
	}
	reload := func(x *Group) *Group {
		t.Helper()
		b, err := x.Save()
		if err != nil {
			t.Fatal(err)
		}
		y, err := LoadGroup(b)
		if err != nil {
			t.Fatal(err)
		}
		if y.keys_ != nil || y.keyScans != 0 {
			t.Fatalf("a loaded group starts with an index (%v) or %d scans", y.keys_ != nil, y.keyScans)
		}
		return y
	}
	refuseDup := func(x *Group, how string) {
		t.Helper()
		if _, err := x.Commit(CommitOptions{Add: [][]byte{kp(dup)}}); err == nil || !strings.Contains(err.Error(), "reuses the signature key") {
			t.Fatalf("%s: an Add reusing a member's signature key: %v", how, err)
		}
		x.ClearPendingCommit()
	}
	g, wg = reload(g), reload(wg)
	refuseDup(g, "scanning")
	if g.keys_ != nil || g.keyScans != 1 {
		t.Fatalf("after one check: index %v, %d scans; want none and 1", g.keys_ != nil, g.keyScans)
	}
	for i := range scansBeforeIndex + 4 {
		res, err := g.Commit(CommitOptions{Add: [][]byte{newMember(t, cs, fmt.Sprintf("m%d", i)).KeyPackage}})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.MergePendingCommit(); err != nil {
			t.Fatal(err)
		}
		if _, err := wg.Process(res.Commit); err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
		if string(wg.EpochAuthenticator()) != string(g.EpochAuthenticator()) {
			t.Fatalf("commit %d: the watcher's epoch authenticator differs", i)
		}
		// The watcher's i+1-th check: a scan while fewer than
		// scansBeforeIndex were made, the index after.
		scanned := i+1 <= scansBeforeIndex
		if got := wg.keys_ == nil; got != scanned {
			t.Fatalf("after %d checks: scanning %v, want %v", i+1, got, scanned)
		}
	}
	refuseDup(g, "indexed")
	for _, x := range []*Group{g, wg} {
		idx, fresh := x.index(), buildKeyIndex(x.tree)
		for i := uint32(0); i < x.tree.leaves(); i++ {
			l := x.tree.leaf(i)
			if l == nil {
				continue
			}
			for _, k := range []struct {
				got, want keyMap
				key       []byte
			}{{idx.enc, fresh.enc, l.EncryptionKey}, {idx.sig, fresh.sig, l.SignatureKey}} {
				a, aok := k.got.get(k.key)
				b, bok := k.want.get(k.key)
				if a != b || aok != bok || a != i {
					t.Fatalf("leaf %d: carried index says %d %v, rebuilt %d %v", i, a, aok, b, bok)
				}
			}
		}
		if len(idx.enc.byH) != len(fresh.enc.byH) || len(idx.sig.byH) != len(fresh.sig.byH) {
			t.Fatalf("carried index of %d/%d keys, rebuilt %d/%d", len(idx.enc.byH), len(idx.sig.byH), len(fresh.enc.byH), len(fresh.sig.byH))
		}
	}
}
