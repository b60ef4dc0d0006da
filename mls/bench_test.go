package mls

import (
	"fmt"
	"testing"
)

func benchPair(b *testing.B) (*Group, *Group) {
	cs := X25519_AES128GCM_SHA256_Ed25519
	alice, _ := NewIdentity(cs, []byte("alice"))
	ga, _ := NewGroup(alice, []byte("bench"), nil)
	bob := newMember(b, cs, "bob")
	res, err := ga.Commit(CommitOptions{Add: [][]byte{bob.KeyPackage}})
	if err != nil {
		b.Fatal(err)
	}
	ga.MergePendingCommit()
	gb, err := JoinFromWelcome(res.Welcome, bob, JoinOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return ga, gb
}

func BenchmarkEncrypt1KB(b *testing.B) {
	ga, _ := benchPair(b)
	msg := make([]byte, 1024)
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ga.Encrypt(msg, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt1KB(b *testing.B) {
	ga, gb := benchPair(b)
	msg := make([]byte, 1024)
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		ct, err := ga.Encrypt(msg, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := gb.Process(ct); err != nil {
			b.Fatal(err)
		}
	}
}

// bigGroups caches groups built by add-only commits, per size.
var bigGroups = map[int]*Group{}

func bigGroup(b testing.TB, n int) *Group {
	if g := bigGroups[n]; g != nil {
		return g
	}
	cs := X25519_AES128GCM_SHA256_Ed25519
	id, _ := NewIdentity(cs, []byte("creator"))
	g, _ := NewGroup(id, []byte(fmt.Sprintf("bench-%d", n)), nil)
	g.RatchetTreeInWelcome = false
	for members := 1; members < n; {
		batch := min(500, n-members)
		adds := make([][]byte, batch)
		for i := range adds {
			adds[i] = newMember(b, cs, fmt.Sprintf("m%d", members+i)).KeyPackage
		}
		if _, err := g.Commit(CommitOptions{Add: adds}); err != nil {
			b.Fatal(err)
		}
		g.MergePendingCommit()
		members += batch
	}
	bigGroups[n] = g
	return g
}

// BenchmarkCommitAddOne times one commit adding one member (Welcome included,
// ratchet tree sent out of band) to a group of n; each commit is then dropped
// so every iteration sees the same group.
func BenchmarkCommitAddOne(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			g := bigGroup(b, n)
			if len(g.Members()) != n {
				b.Fatalf("group has %d members", len(g.Members()))
			}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				kp := newMember(b, g.CipherSuite(), "joiner").KeyPackage
				b.StartTimer()
				res, err := g.Commit(CommitOptions{Add: [][]byte{kp}})
				if err != nil || res.Welcome == nil {
					b.Fatal(err)
				}
				g.ClearPendingCommit()
			}
		})
	}
}

// fullTree gives every blank parent of g's tree a fresh public key, as if
// every member had committed a path, so resolutions are single nodes.
func fullTree(b *testing.B, g *Group) {
	for x := uint32(1); x < g.tree.size(); x += 2 {
		if g.tree.node(x) == nil && g.tree.hasNonBlank(left(x)) && g.tree.hasNonBlank(right(x)) {
			_, pub, err := g.s.generateHPKEKey()
			if err != nil {
				b.Fatal(err)
			}
			g.tree.setNode(x, &Node{Parent: &ParentNode{EncryptionKey: pub}})
		}
	}
	g.ctx.TreeHash = g.tree.rootHash(g.s)
}

// BenchmarkCommitPath times a commit that refreshes the committer's path
// (an Update) in a full tree of n members: log n HPKE encryptions.
func BenchmarkCommitPath(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			g := bigGroup(b, n)
			fullTree(b, g)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Commit(CommitOptions{ForcePath: true}); err != nil {
					b.Fatal(err)
				}
				g.ClearPendingCommit()
			}
		})
	}
}

// BenchmarkHubVerifyCommit times the hub's verification of one public commit
// in a group of n (signature, proposal list, path leaf and parent hashes,
// the new tree hash); Verify leaves the view unchanged, so every iteration
// sees the same commit.
func BenchmarkHubVerifyCommit(b *testing.B) {
	for _, kind := range []string{"add", "path"} {
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("%s/members=%d", kind, n), func(b *testing.B) {
				g := bigGroup(b, n)
				gi, err := g.GroupInfo(false)
				if err != nil {
					b.Fatal(err)
				}
				hub, err := NewHubGroup(gi, g.RatchetTree())
				if err != nil {
					b.Fatal(err)
				}
				opts := CommitOptions{ForcePath: true}
				if kind == "add" {
					opts = CommitOptions{Add: [][]byte{newMember(b, g.CipherSuite(), "joiner").KeyPackage}}
				}
				g.PublicHandshake = true
				res, err := g.Commit(opts)
				g.ClearPendingCommit()
				g.PublicHandshake = false
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if m, err := hub.Verify(res.Commit); err != nil || m.Commit == nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(res.Commit)), "commit-bytes")
			})
		}
	}
}

// BenchmarkSaveWithPastEpochs reports the saved state's size for a group of
// 1,000 with 0 and 3 past epochs kept (each keeps that epoch's tree).
func BenchmarkSaveWithPastEpochs(b *testing.B) {
	for _, keep := range []int{0, DefaultPastEpochs} {
		b.Run(fmt.Sprintf("past=%d", keep), func(b *testing.B) {
			g := bigGroup(b, 1000)
			saved := g.past
			g.past = g.past[:0:0]
			if keep > 0 {
				for i := 0; i < keep; i++ {
					g.past = append(g.past, g.rememberPast(keep)[0])
				}
			}
			var size int
			for b.Loop() {
				st, err := g.Save()
				if err != nil {
					b.Fatal(err)
				}
				size = len(st)
			}
			b.ReportMetric(float64(size), "state-bytes")
			g.past = saved
		})
	}
}

// BenchmarkCommitAddOneAsSession is the committer's part of an invite as
// the session makes it, per protocol version: the Welcome and the GroupInfo
// for the relay with the ratchet tree (gi=inline, protocol 5-6); the
// GroupInfo without it (gi=apart, protocol 7); both without it
// (gi=apart,welcome=apart, protocol 8: the joiner's KeyPackage lists
// ExtensionWelcomeTreeApart and the relay keeps the tree beside the
// Welcome). sent-B/op is commit + Welcome + GroupInfo, what goes to the
// relay.
func BenchmarkCommitAddOneAsSession(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, c := range []struct {
			name                 string
			giApart, welcomeTree bool
		}{{"gi=inline", false, true}, {"gi=apart", true, true}, {"gi=apart,welcome=apart", true, false}} {
			b.Run(fmt.Sprintf("members=%d/%s", n, c.name), func(b *testing.B) {
				g := bigGroup(b, n)
				g.RatchetTreeInWelcome = true
				defer func() { g.RatchetTreeInWelcome = false }()
				var sent int
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					kp := newMember(b, g.CipherSuite(), "joiner").KeyPackage
					b.StartTimer()
					res, err := g.Commit(CommitOptions{Add: [][]byte{kp}, GroupInfoWithoutTree: c.giApart, WelcomeTreeApart: !c.welcomeTree})
					if err != nil || res.Welcome == nil {
						b.Fatal(err)
					}
					b.StopTimer()
					sent = len(res.Commit) + len(res.Welcome) + len(res.GroupInfo)
					g.ClearPendingCommit()
					b.StartTimer()
				}
				b.ReportMetric(float64(sent), "sent-B/op")
			})
		}
	}
}
