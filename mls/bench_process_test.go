package mls

import (
	"fmt"
	"testing"
)

// BenchmarkProcessAddOne times what every other member does with a commit
// adding one member to a group of n (the issue's "processing at each
// member"): a member who joined by Welcome processes the creator's commit.
// The member's state is reloaded between iterations (untimed), so each
// iteration processes the same commit size in the same epoch.
func BenchmarkProcessAddOne(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			g := bigGroup(b, n-1)
			cs := g.CipherSuite()
			watcher := newMember(b, cs, "watcher")
			res, err := g.Commit(CommitOptions{Add: [][]byte{watcher.KeyPackage}})
			if err != nil {
				b.Fatal(err)
			}
			g.MergePendingCommit()
			defer func() { delete(bigGroups, n-1) }() // g moved on an epoch
			w, err := JoinFromWelcome(res.Welcome, watcher, JoinOptions{RatchetTree: g.RatchetTree()})
			if err != nil {
				b.Fatal(err)
			}
			if len(w.Members()) != n {
				b.Fatalf("group has %d members", len(w.Members()))
			}
			saved, err := w.Save()
			if err != nil {
				b.Fatal(err)
			}
			kp := newMember(b, cs, "joiner").KeyPackage
			c, err := g.Commit(CommitOptions{Add: [][]byte{kp}})
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
