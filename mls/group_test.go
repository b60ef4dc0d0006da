package mls

import (
	"bytes"
	"errors"
	"testing"
)

func newMember(t testing.TB, cs CipherSuite, name string) *KeyPackageBundle {
	t.Helper()
	id, err := NewIdentity(cs, []byte(name))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := NewKeyPackage(id)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func TestGroupBasicFlow(t *testing.T) {
	for _, cs := range []CipherSuite{X25519_AES128GCM_SHA256_Ed25519, P256_AES128GCM_SHA256_P256} {
		for _, public := range []bool{false, true} {
			alice, err := NewIdentity(cs, []byte("alice"))
			if err != nil {
				t.Fatal(err)
			}
			ga, err := NewGroup(alice, []byte("group"), nil)
			if err != nil {
				t.Fatal(err)
			}
			ga.PublicHandshake = public
			bob := newMember(t, cs, "bob")
			res, err := ga.Commit(CommitOptions{Add: [][]byte{bob.KeyPackage}})
			if err != nil {
				t.Fatal(err)
			}
			if err := ga.MergePendingCommit(); err != nil {
				t.Fatal(err)
			}
			gb, err := JoinFromWelcome(res.Welcome, bob, JoinOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ga.EpochAuthenticator(), gb.EpochAuthenticator()) {
				t.Fatal("epoch authenticators differ after join")
			}
			msg, err := ga.Encrypt([]byte("hello bob"), []byte("ad"))
			if err != nil {
				t.Fatal(err)
			}
			r, err := gb.Process(msg)
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Data) != "hello bob" || r.Sender.Index != 0 {
				t.Fatalf("got %q from %d", r.Data, r.Sender.Index)
			}
			// Bob commits an update with a path; Alice follows.
			res, err = gb.Commit(CommitOptions{ForcePath: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ga.Process(res.Commit); err != nil {
				t.Fatal(err)
			}
			if _, err := gb.Process(res.Commit); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ga.EpochAuthenticator(), gb.EpochAuthenticator()) || ga.Epoch() != 2 {
				t.Fatal("epoch authenticators differ after update")
			}
			// Carol joins by external commit.
			gi, err := gb.GroupInfo(true)
			if err != nil {
				t.Fatal(err)
			}
			carol, _ := NewIdentity(cs, []byte("carol"))
			gc, commit, err := JoinExternal(gi, carol, ExternalJoinOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range []*Group{ga, gb} {
				if _, err := g.Process(commit); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(ga.EpochAuthenticator(), gc.EpochAuthenticator()) || !bytes.Equal(gb.EpochAuthenticator(), gc.EpochAuthenticator()) {
				t.Fatal("epoch authenticators differ after external join")
			}
			msg, _ = gc.Encrypt([]byte("hi from carol"), nil)
			for _, g := range []*Group{ga, gb} {
				if r, err := g.Process(msg); err != nil || string(r.Data) != "hi from carol" {
					t.Fatalf("%v %v", r, err)
				}
			}
		}
	}
}

func TestExternalPSKCommit(t *testing.T) {
	// Public handshake: a PrivateMessage's key is spent on the first (failed) attempt.
	ga, gb := twoMembers(t, true)
	ga.AddExternalPSK([]byte("psk-1"), []byte("shared secret"))
	res, err := ga.Commit(CommitOptions{ExternalPSKs: [][]byte{[]byte("psk-1")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gb.Process(res.Commit); !errors.Is(err, ErrUnknownPSK) {
		t.Fatalf("missing PSK: %v, want ErrUnknownPSK", err)
	}
	gb.AddExternalPSK([]byte("psk-1"), []byte("shared secret"))
	if _, err := gb.Process(res.Commit); err != nil {
		t.Fatal(err)
	}
	ga.MergePendingCommit()
	if !bytes.Equal(ga.EpochAuthenticator(), gb.EpochAuthenticator()) {
		t.Fatal("PSK commit: epoch authenticators differ")
	}
	if _, err := ga.Commit(CommitOptions{ExternalPSKs: [][]byte{[]byte("unknown")}}); !errors.Is(err, ErrUnknownPSK) {
		t.Fatalf("unknown PSK: %v", err)
	}
}

func TestExternalSenderRules(t *testing.T) {
	cs := X25519_AES128GCM_SHA256_Ed25519
	hub, _ := NewIdentity(cs, []byte("hub"))
	alice, _ := NewIdentity(cs, []byte("alice"))
	ga, err := NewGroup(alice, []byte("hub group"), []Extension{ExternalSendersExtension([]ExternalSender{
		{SignatureKey: hub.SignaturePub, Credential: hub.Credential}})})
	if err != nil {
		t.Fatal(err)
	}
	bob := newMember(t, cs, "bob")
	res, _ := ga.Commit(CommitOptions{Add: [][]byte{bob.KeyPackage}})
	ga.MergePendingCommit()
	gb, err := JoinFromWelcome(res.Welcome, bob, JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	upd := &Proposal{Type: ProposalUpdate, LeafNode: gb.tree.leaf(1)}
	msg, _ := ExternalProposal(cs, ga.GroupID(), ga.Epoch(), 0, hub.SignaturePriv, upd)
	if _, err := ga.Process(msg); !errors.Is(err, ErrInvalidProposal) {
		t.Errorf("external update: %v, want ErrInvalidProposal", err)
	}
	msg, _ = ExternalProposal(cs, ga.GroupID(), ga.Epoch(), 3, hub.SignaturePriv, RemoveProposal(1))
	if _, err := ga.Process(msg); !errors.Is(err, ErrUnknownSender) {
		t.Errorf("unknown external sender index: %v, want ErrUnknownSender", err)
	}
	msg, _ = ExternalProposal(cs, ga.GroupID(), ga.Epoch(), 0, alice.SignaturePriv, RemoveProposal(1))
	if _, err := ga.Process(msg); !errors.Is(err, ErrSignature) {
		t.Errorf("external proposal signed by someone else: %v, want ErrSignature", err)
	}
	msg, _ = ExternalProposal(cs, ga.GroupID(), ga.Epoch(), 0, hub.SignaturePriv, RemoveProposal(1))
	for _, g := range []*Group{ga, gb} {
		if _, err := g.Process(msg); err != nil {
			t.Fatal(err)
		}
	}
	res, err = ga.Commit(CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gb.Process(res.Commit); err != nil || gb.Active() {
		t.Fatalf("hub removal: active=%v err=%v", gb.Active(), err)
	}
}

// TestCommitDropsInvalidPending: a pending proposal that is invalid (an Add
// of an expired key package) is left out of the next commit.
func TestCommitDropsInvalidPending(t *testing.T) {
	ga, gb := twoMembers(t, true)
	cs := ga.CipherSuite()
	expired := newMember(t, cs, "expired")
	m, _ := ParseMessage(expired.KeyPackage)
	kp := m.KeyPackage
	kp.LeafNode.NotBefore, kp.LeafNode.NotAfter = 1, 2
	if err := kp.LeafNode.sign(ga.s, expired.Identity.SignaturePriv, nil, 0); err != nil {
		t.Fatal(err)
	}
	var w writer
	kp.encodeTBS(&w)
	kp.Signature, _ = ga.s.signWithLabel(expired.Identity.SignaturePriv, "KeyPackageTBS", w.b)
	if _, err := ParseKeyPackage((&Message{WireFormat: WireKeyPackage, KeyPackage: kp}).Bytes(), cs); !errors.Is(err, ErrInvalidKeyPackage) {
		t.Fatalf("expired key package: %v", err)
	}
	bad, _, err := gb.propose(&Proposal{Type: ProposalAdd, KeyPackage: kp})
	if err != nil {
		t.Fatal(err)
	}
	carol := newMember(t, cs, "carol")
	good, err := gb.ProposeAdd(carol.KeyPackage)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]byte{bad, good} {
		if _, err := ga.Process(p); err != nil {
			t.Fatal(err)
		}
	}
	res, err := ga.Commit(CommitOptions{})
	if err != nil {
		t.Fatalf("commit with an invalid pending add: %v", err)
	}
	ga.MergePendingCommit()
	if _, err := gb.Process(res.Commit); err != nil {
		t.Fatal(err)
	}
	gc, err := JoinFromWelcome(res.Welcome, carol, JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ga.Members()) != 3 || !bytes.Equal(ga.EpochAuthenticator(), gc.EpochAuthenticator()) ||
		!bytes.Equal(ga.EpochAuthenticator(), gb.EpochAuthenticator()) {
		t.Fatal("members disagree after dropping the invalid proposal")
	}
}
