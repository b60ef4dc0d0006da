package mls

import (
	"errors"
	"fmt"
	"testing"
)

// savedChunks is what a caller of the chunk API keeps: the state without
// the tree, the chunks and the versions it stored them at.
type savedChunks struct {
	state  []byte
	width  uint32
	chunks [][]byte
	vers   []uint64
}

// saveChunks saves g over prev (nil: nothing stored yet), rewriting only
// the chunks whose version changed; it returns how many it rewrote.
func saveChunks(t testing.TB, g *Group, prev *savedChunks) (*savedChunks, int) {
	t.Helper()
	st, err := g.SaveWithoutTree()
	if err != nil {
		t.Fatal(err)
	}
	width, vers := g.TreeVersions()
	out := &savedChunks{state: st, width: width, chunks: make([][]byte, len(vers)), vers: vers}
	written := 0
	for i, v := range vers {
		if prev != nil && i < len(prev.vers) && prev.vers[i] == v {
			out.chunks[i] = prev.chunks[i]
			continue
		}
		out.chunks[i] = g.EncodeTreeChunk(i)
		written++
	}
	return out, written
}

// TestTreeChunksRoundTrip: a group saved by chunks loads to the same
// group, which goes on processing commits; a commit adding one member to a
// group of 300 rewrites O(log n) chunks, not all of them; the saved state
// without the tree is a small part of Save's.
func TestTreeChunksRoundTrip(t *testing.T) {
	g, w := processBench(t, 300)
	saved, written := saveChunks(t, w, nil)
	if written != len(saved.vers) {
		t.Fatalf("first save wrote %d of %d chunks", written, len(saved.vers))
	}
	for range 3 {
		c, err := g.Commit(CommitOptions{Add: [][]byte{newMember(t, g.CipherSuite(), "joiner").KeyPackage}})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.MergePendingCommit(); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Process(c.Commit); err != nil {
			t.Fatal(err)
		}
		saved, written = saveChunks(t, w, saved)
		if limit := 12; written == 0 || written > limit {
			t.Fatalf("a commit rewrote %d of %d chunks (want 1..%d)", written, len(saved.vers), limit)
		}
		back, err := LoadGroupChunks(saved.state, saved.width, saved.chunks)
		if err != nil {
			t.Fatal(err)
		}
		if string(back.EpochAuthenticator()) != string(g.EpochAuthenticator()) || len(back.Members()) != len(g.Members()) {
			t.Fatal("the loaded group is not the saved one")
		}
		// the loaded group processes the next commit; its chunks have new
		// versions, which are now the stored ones
		w = back
		_, saved.vers = back.TreeVersions()
	}
	full, err := w.Save()
	if err != nil {
		t.Fatal(err)
	}
	if len(saved.state)*4 > len(full) {
		t.Errorf("state without the tree is %d bytes of Save's %d", len(saved.state), len(full))
	}
}

func TestTreeChunksRefused(t *testing.T) {
	_, w := processBench(t, 70)
	saved, _ := saveChunks(t, w, nil)
	bad := func(f func(s *savedChunks)) *savedChunks {
		c := *saved
		c.chunks = append([][]byte(nil), saved.chunks...)
		f(&c)
		return &c
	}
	for name, s := range map[string]*savedChunks{
		"a chunk missing":       bad(func(s *savedChunks) { s.chunks = s.chunks[:len(s.chunks)-1] }),
		"width not a full tree": bad(func(s *savedChunks) { s.width-- }),
		"a chunk cut short":     bad(func(s *savedChunks) { s.chunks[0] = s.chunks[0][:len(s.chunks[0])-3] }),
		"a byte changed": bad(func(s *savedChunks) {
			s.chunks[1] = append([]byte(nil), s.chunks[1]...)
			s.chunks[1][len(s.chunks[1])/2] ^= 0x40
		}),
	} {
		if _, err := LoadGroupChunks(s.state, s.width, s.chunks); !errors.Is(err, ErrState) && !errors.Is(err, ErrBadValue) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// BenchmarkProcessAddOneSaved is what a session does with a commit adding
// one member to a group of n: process it, then save the group. Chunks
// saves the state without the tree and the tree chunks whose version
// changed (what session stores); Whole is Save, the state with the whole
// tree (the baseline of the ratio, in the same run).
func BenchmarkProcessAddOneSaved(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, mode := range []string{"Chunks", "Whole"} {
			b.Run(fmt.Sprintf("members=%d/%s", n, mode), func(b *testing.B) {
				g, w := processBench(b, n)
				saved, _ := saveChunks(b, w, nil)
				var bytes int
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					c, err := g.Commit(CommitOptions{Add: [][]byte{newMember(b, g.CipherSuite(), "joiner").KeyPackage}})
					if err != nil {
						b.Fatal(err)
					}
					if err := g.MergePendingCommit(); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if _, err := w.Process(c.Commit); err != nil {
						b.Fatal(err)
					}
					if mode == "Whole" {
						st, err := w.Save()
						if err != nil {
							b.Fatal(err)
						}
						bytes += len(st)
						continue
					}
					prev := saved
					saved, _ = saveChunks(b, w, prev)
					bytes += len(saved.state)
					for i := range saved.chunks {
						if i >= len(prev.vers) || prev.vers[i] != saved.vers[i] {
							bytes += len(saved.chunks[i])
						}
					}
				}
				b.ReportMetric(float64(bytes)/float64(b.N), "saved-B/op")
			})
		}
	}
}
