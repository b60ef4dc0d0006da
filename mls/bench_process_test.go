package mls

import (
	"fmt"
	"testing"
)

// processBench is a group of n-1 members built by add-only commits plus a
// watcher who joined by Welcome: the watcher processes the creator's commits.
func processBench(b testing.TB, n int) (creator, watcher *Group) {
	g := bigGroup(b, n-1)
	delete(bigGroups, n-1) // g moves on by an epoch per commit
	cs := g.CipherSuite()
	w := newMember(b, cs, "watcher")
	res, err := g.Commit(CommitOptions{Add: [][]byte{w.KeyPackage}})
	if err != nil {
		b.Fatal(err)
	}
	if err := g.MergePendingCommit(); err != nil {
		b.Fatal(err)
	}
	wg, err := JoinFromWelcome(res.Welcome, w, JoinOptions{RatchetTree: g.RatchetTree()})
	if err != nil {
		b.Fatal(err)
	}
	if len(wg.Members()) != n {
		b.Fatalf("group has %d members", len(wg.Members()))
	}
	return g, wg
}

// BenchmarkProcessAddOne times what every other member does with a commit
// adding one member to a group of n (the issue's "processing at each
// member"). The member keeps its group in memory between commits, as a
// session does: each iteration the creator commits one more Add (untimed)
// and the watcher processes it, so the group grows by one member per
// iteration (a few hundred at most, against n of 1,000 or 10,000).
func BenchmarkProcessAddOne(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			g, w := processBench(b, n)
			cs := g.CipherSuite()
			next := func() []byte {
				kp := newMember(b, cs, "joiner").KeyPackage
				c, err := g.Commit(CommitOptions{Add: [][]byte{kp}})
				if err != nil {
					b.Fatal(err)
				}
				if err := g.MergePendingCommit(); err != nil {
					b.Fatal(err)
				}
				return c.Commit
			}
			// The first commit after joining builds the leaf key index
			// (O(n), once); the steady state carries it forward.
			if _, err := w.Process(next()); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				c := next()
				b.StartTimer()
				if _, err := w.Process(c); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if w.EpochAuthenticator() == nil || string(w.EpochAuthenticator()) != string(g.EpochAuthenticator()) {
				b.Fatal("watcher and creator disagree on the epoch")
			}
		})
	}
}

// BenchmarkProcessAddOneAfterLoad times the first commit a member processes
// after loading its saved state (LoadGroup, untimed): that first commit also
// builds the leaf key index (keyindex.go), O(n) once per load; later commits
// carry it forward (BenchmarkProcessAddOne).
func BenchmarkProcessAddOneAfterLoad(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			g, w := processBench(b, n)
			saved, err := w.Save()
			if err != nil {
				b.Fatal(err)
			}
			c, err := g.Commit(CommitOptions{Add: [][]byte{newMember(b, g.CipherSuite(), "joiner").KeyPackage}})
			if err != nil {
				b.Fatal(err)
			}
			g.ClearPendingCommit()
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				w, err := LoadGroup(saved)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := w.Process(c.Commit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
