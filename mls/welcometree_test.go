package mls

import (
	"errors"
	"testing"
)

// withCapabilities replaces a KeyPackage leaf's capabilities: a joiner of
// another implementation, or an older client, that does not list
// ExtensionWelcomeTreeApart.
func withCapabilities(c Capabilities) KeyPackageOption {
	return func(cfg *keyPackageConfig) { cfg.capabilities = &c }
}

// TestWelcomeTreeApart: a Welcome leaves the tree out only when asked and
// every joiner lists ExtensionWelcomeTreeApart; such a joiner joins with the
// tree of the Welcome's epoch supplied apart and refuses any other tree.
func TestWelcomeTreeApart(t *testing.T) {
	cs := X25519_AES128GCM_SHA256_Ed25519
	plain := Capabilities{Versions: []uint16{mls10}, CipherSuites: []uint16{uint16(cs)}, Credentials: []uint16{CredentialBasic}}
	for _, tc := range []struct {
		name      string
		apart     bool
		capable   []bool // per joiner: lists ExtensionWelcomeTreeApart
		wantApart bool
	}{
		{"asked, joiner capable", true, []bool{true}, true},
		{"asked, two joiners capable", true, []bool{true, true}, true},
		{"asked, joiner not capable", true, []bool{false}, false},
		{"asked, one of two joiners not capable", true, []bool{true, false}, false},
		{"not asked", false, []bool{true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alice, _ := NewIdentity(cs, []byte("alice"))
			g, err := NewGroup(alice, []byte("room"), nil)
			if err != nil {
				t.Fatal(err)
			}
			// Two earlier epochs, so an older tree is at hand.
			carol := newMember(t, cs, "carol")
			if _, err := g.Commit(CommitOptions{Add: [][]byte{carol.KeyPackage}}); err != nil {
				t.Fatal(err)
			}
			g.MergePendingCommit()
			oldTree := g.RatchetTree()
			var joiners []*KeyPackageBundle
			var adds [][]byte
			for i, capable := range tc.capable {
				id, _ := NewIdentity(cs, []byte{'j', byte('0' + i)})
				var opts []KeyPackageOption
				if !capable {
					opts = append(opts, withCapabilities(plain))
				}
				kpb, err := NewKeyPackage(id, opts...)
				if err != nil {
					t.Fatal(err)
				}
				joiners = append(joiners, kpb)
				adds = append(adds, kpb.KeyPackage)
			}
			res, err := g.Commit(CommitOptions{Add: adds, GroupInfoWithoutTree: true, WelcomeTreeApart: tc.apart})
			if err != nil {
				t.Fatal(err)
			}
			if err := g.MergePendingCommit(); err != nil {
				t.Fatal(err)
			}
			tree := g.RatchetTree()
			for _, kpb := range joiners {
				_, err := JoinFromWelcome(res.Welcome, kpb, JoinOptions{})
				if gotApart := err != nil; gotApart != tc.wantApart {
					t.Fatalf("join without a tree supplied: %v; want the tree left out: %v", err, tc.wantApart)
				}
				if tc.wantApart && !errors.Is(err, ErrWelcome) {
					t.Fatalf("join without the tree: %v, want ErrWelcome", err)
				}
				if tc.wantApart {
					if _, err := JoinFromWelcome(res.Welcome, kpb, JoinOptions{RatchetTree: oldTree}); !errors.Is(err, ErrInvalidTree) {
						t.Fatalf("join with the tree of another epoch: %v, want ErrInvalidTree", err)
					}
				}
				j, err := JoinFromWelcome(res.Welcome, kpb, JoinOptions{RatchetTree: tree})
				if err != nil {
					t.Fatalf("join with the Welcome epoch's tree: %v", err)
				}
				if j.Epoch() != g.Epoch() || string(j.EpochAuthenticator()) != string(g.EpochAuthenticator()) {
					t.Fatalf("joiner at epoch %d, group at %d, or authenticators differ", j.Epoch(), g.Epoch())
				}
			}
		})
	}
}

// FuzzJoinWithTree: the tree beside a Welcome comes from the relay, so any
// bytes may arrive. JoinFromWelcome must refuse every tree but the one the
// Welcome's tree hash names, without panicking.
func FuzzJoinWithTree(f *testing.F) {
	cs := X25519_AES128GCM_SHA256_Ed25519
	alice, _ := NewIdentity(cs, []byte("alice"))
	g, err := NewGroup(alice, []byte("room"), nil)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := g.Commit(CommitOptions{Add: [][]byte{newMember(f, cs, "bob").KeyPackage}}); err != nil {
		f.Fatal(err)
	}
	g.MergePendingCommit()
	oldTree := g.RatchetTree()
	joiner := newMember(f, cs, "carol")
	res, err := g.Commit(CommitOptions{Add: [][]byte{joiner.KeyPackage}, WelcomeTreeApart: true})
	if err != nil {
		f.Fatal(err)
	}
	g.MergePendingCommit()
	tree := g.RatchetTree()
	f.Add(tree)
	f.Add(oldTree)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := JoinFromWelcome(res.Welcome, joiner, JoinOptions{RatchetTree: data})
		if err != nil {
			return
		}
		if string(j.EpochAuthenticator()) != string(g.EpochAuthenticator()) || string(j.RatchetTree()) != string(tree) {
			t.Fatalf("joined with a %d-byte tree that is not the Welcome's", len(data))
		}
	})
}
