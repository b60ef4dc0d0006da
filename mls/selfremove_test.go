package mls

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// groupOf makes a group of len(names) members (leaf i is names[i]), added by
// the first in one commit.
func groupOf(t *testing.T, public bool, names ...string) []*Group {
	t.Helper()
	cs := X25519_AES128GCM_SHA256_Ed25519
	first, _ := NewIdentity(cs, []byte(names[0]))
	g0, err := NewGroup(first, []byte("group of "+names[0]), nil)
	if err != nil {
		t.Fatal(err)
	}
	g0.PublicHandshake = public
	var kps []*KeyPackageBundle
	var add [][]byte
	for _, n := range names[1:] {
		kp := newMember(t, cs, n)
		kps = append(kps, kp)
		add = append(add, kp.KeyPackage)
	}
	gs := []*Group{g0}
	if len(add) == 0 {
		return gs
	}
	res, err := g0.Commit(CommitOptions{Add: add})
	if err != nil {
		t.Fatal(err)
	}
	g0.MergePendingCommit()
	for _, kp := range kps {
		g, err := JoinFromWelcome(res.Welcome, kp, JoinOptions{})
		if err != nil {
			t.Fatal(err)
		}
		g.PublicHandshake = public
		gs = append(gs, g)
	}
	return gs
}

// deliver has each group process msg and fails on error.
func deliver(t *testing.T, msg []byte, gs ...*Group) []*Received {
	t.Helper()
	var out []*Received
	for _, g := range gs {
		r, err := g.Process(msg)
		if err != nil {
			t.Fatalf("member %d processing: %v", g.LeafIndex(), err)
		}
		out = append(out, r)
	}
	return out
}

// sameEpoch checks the groups agree on epoch and epoch authenticator.
func sameEpoch(t *testing.T, gs ...*Group) {
	t.Helper()
	for _, g := range gs[1:] {
		if g.Epoch() != gs[0].Epoch() || !bytes.Equal(g.EpochAuthenticator(), gs[0].EpochAuthenticator()) {
			t.Fatalf("member %d (epoch %d) and member %d (epoch %d) disagree", g.LeafIndex(), g.Epoch(), gs[0].LeafIndex(), gs[0].Epoch())
		}
	}
}

func TestSelfRemoveWireFormat(t *testing.T) {
	gs := groupOf(t, false, "alice", "bob")
	msg, err := gs[1].ProposeSelfRemove()
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	// Always a PublicMessage (PublicHandshake is false here); the proposal is
	// ProposalType 0x000a followed by the empty SelfRemove struct.
	if m.WireFormat != WirePublicMessage || m.Public.Content.Sender != (Sender{SenderMember, 1}) {
		t.Fatalf("wire format %d sender %+v", m.WireFormat, m.Public.Content.Sender)
	}
	if got := hex.EncodeToString(m.Public.Content.Proposal.bytes()); got != "000a" {
		t.Fatalf("SelfRemove encodes as %s, want 000a", got)
	}
	var w writer
	m.Public.Content.encode(&w)
	if !bytes.HasSuffix(w.b, []byte{ContentProposal, 0x00, 0x0a}) {
		t.Fatalf("framed content does not end with content_type proposal, type 0x000a: %x", w.b)
	}
	if out := m.Bytes(); !bytes.Equal(out, msg) {
		t.Fatal("re-encoding differs")
	}
	if _, err := gs[1].ProposeSelfRemove(); !errors.Is(err, ErrInvalidProposal) {
		t.Fatalf("second SelfRemove in one epoch: %v", err)
	}
	r := deliver(t, msg, gs[0])[0]
	if r.ContentType != ContentProposal || r.Proposal.Type != ProposalSelfRemove || r.Sender.Index != 1 {
		t.Fatalf("received %+v", r)
	}
}

func TestSelfRemoveCommitted(t *testing.T) {
	for _, public := range []bool{false, true} {
		gs := groupOf(t, public, "alice", "bob", "carol")
		alice, bob, carol := gs[0], gs[1], gs[2]
		leave, err := carol.ProposeSelfRemove()
		if err != nil {
			t.Fatal(err)
		}
		deliver(t, leave, alice, bob)
		// alice also proposes removing carol: the SelfRemove wins, the Remove is dropped.
		kick, _ := alice.ProposeRemove(2)
		deliver(t, kick, bob, carol)
		// Removing carol explicitly as well is absorbed by her SelfRemove.
		both, err := alice.Commit(CommitOptions{Remove: []uint32{2}})
		if err != nil || alice.pending.next.tree.leaf(2) != nil {
			t.Fatalf("explicit remove of a leaving member: %v", err)
		}
		if both.Commit == nil {
			t.Fatal("no commit")
		}
		alice.ClearPendingCommit()
		// carol cannot commit her own SelfRemove: her commit leaves it out.
		res, err := carol.Commit(CommitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if carol.pending.next.tree.leaf(2) == nil || res.Commit == nil {
			t.Fatal("carol's own commit removed carol")
		}
		carol.ClearPendingCommit()

		res, err = bob.Commit(CommitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		bob.MergePendingCommit()
		rs := deliver(t, res.Commit, alice, carol)
		for _, r := range rs {
			if len(r.Removed) != 1 || r.Removed[0] != 2 || len(r.SelfRemoved) != 1 || r.SelfRemoved[0] != 2 {
				t.Fatalf("public=%v: removed %v self-removed %v", public, r.Removed, r.SelfRemoved)
			}
		}
		if carol.Active() || !alice.Active() || !bob.Active() {
			t.Fatalf("active: carol %v alice %v bob %v", carol.Active(), alice.Active(), bob.Active())
		}
		sameEpoch(t, alice, bob)
		if n := len(alice.Members()); n != 2 {
			t.Fatalf("%d members after carol left", n)
		}
		msg, _ := alice.Encrypt([]byte("after carol"), nil)
		if _, err := carol.Process(msg); !errors.Is(err, ErrInactive) {
			t.Fatalf("carol read after leaving: %v", err)
		}
	}
}

func TestSelfRemoveRules(t *testing.T) {
	gs := groupOf(t, true, "alice", "bob", "carol")
	alice, bob, carol := gs[0], gs[1], gs[2]
	leave, _ := carol.ProposeSelfRemove()
	deliver(t, leave, alice, bob)
	ref := alice.proposals[0].ref

	// A SelfRemove sent as a PrivateMessage.
	private, _, err := bob.proposeAs(&Proposal{Type: ProposalSelfRemove}, false)
	if err != nil {
		t.Fatal(err)
	}
	bob.proposals = bob.proposals[:len(bob.proposals)-1]
	if _, err := alice.Process(private); !errors.Is(err, ErrWireFormat) {
		t.Errorf("private SelfRemove: %v, want ErrWireFormat", err)
	}

	for _, tc := range []struct {
		name string
		list []ProposalOrRef
		rule string
	}{
		{"inline", []ProposalOrRef{{Proposal: &Proposal{Type: ProposalSelfRemove}}}, "SelfRemove inline (allowed by reference only)"},
		{"with a Remove of the same leaf", []ProposalOrRef{{Reference: ref}, {Proposal: RemoveProposal(2)}}, "second update or remove for a leaf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forged := forgeCommit(t, bob, tc.list, true)
			_, err := alice.Process(forged)
			var pe *ProposalError
			if !errors.As(err, &pe) || pe.Rule != tc.rule {
				t.Fatalf("err %v, want rule %q", err, tc.rule)
			}
		})
	}
	// The leaver committing its own SelfRemove by reference.
	forged := forgeCommit(t, carol, []ProposalOrRef{{Reference: ref}}, true)
	var pe *ProposalError
	if _, err := alice.Process(forged); !errors.As(err, &pe) || pe.Rule != "committer includes its own SelfRemove" {
		t.Fatalf("own SelfRemove committed: %v", err)
	}
	// Without a path: SelfRemove requires one.
	forged = forgeCommit(t, bob, []ProposalOrRef{{Reference: ref}}, false)
	if _, err := alice.Process(forged); !errors.As(err, &pe) || pe.Rule != "commit without the required path" {
		t.Fatalf("SelfRemove without a path: %v", err)
	}
	// An external sender may not send SelfRemove.
	if err := alice.checkProposalSender(Sender{Type: SenderExternal}, &Proposal{Type: ProposalSelfRemove}); !errors.As(err, &pe) {
		t.Fatalf("external SelfRemove: %v", err)
	}
	if alice.Epoch() != bob.Epoch() || !alice.SelfRemoveCapable() {
		t.Fatal("a refused commit moved the epoch")
	}
}

func TestSelfRemoveNeedsCapableGroup(t *testing.T) {
	gs := groupOf(t, true, "alice", "bob")
	// dave's leaf does not list SelfRemove (as ts-mls's default capabilities).
	cs := X25519_AES128GCM_SHA256_Ed25519
	daveID, _ := NewIdentity(cs, []byte("dave"))
	dave, _ := NewKeyPackage(daveID)
	m, _ := ParseMessage(dave.KeyPackage)
	m.KeyPackage.LeafNode.Capabilities.Proposals = nil
	s, _ := lookupSuite(cs)
	if err := m.KeyPackage.LeafNode.sign(s, daveID.SignaturePriv, nil, 0); err != nil {
		t.Fatal(err)
	}
	dave.KeyPackage = signKeyPackage(t, daveID, m.KeyPackage)
	res, err := gs[0].Commit(CommitOptions{Add: [][]byte{dave.KeyPackage}})
	if err != nil {
		t.Fatal(err)
	}
	gs[0].MergePendingCommit()
	deliver(t, res.Commit, gs[1])
	if gs[1].SelfRemoveCapable() {
		t.Fatal("group with dave reported self-remove-capable")
	}
	if _, err := gs[1].ProposeSelfRemove(); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("SelfRemove in a group dave cannot process: %v", err)
	}
}

func TestSelfRemoveInExternalCommit(t *testing.T) {
	gs := groupOf(t, true, "alice", "bob", "carol")
	alice, bob, carol := gs[0], gs[1], gs[2]
	leave, _ := carol.ProposeSelfRemove()
	deliver(t, leave, alice, bob)
	// Save and load keeps the pending SelfRemove.
	saved, err := alice.Save()
	if err != nil {
		t.Fatal(err)
	}
	if alice, err = LoadGroup(saved); err != nil {
		t.Fatal(err)
	}
	gi, _ := alice.GroupInfo(true)
	daveID, _ := NewIdentity(X25519_AES128GCM_SHA256_Ed25519, []byte("dave"))

	// A forged SelfRemove handed out with the GroupInfo is refused.
	bad := append([]byte(nil), leave...)
	bad[len(bad)-40] ^= 1
	if _, _, err := JoinExternal(gi, daveID, ExternalJoinOptions{SelfRemoves: [][]byte{bad}}); !errors.Is(err, ErrExternal) {
		t.Fatalf("forged SelfRemove: %v", err)
	}
	dave, ext, err := JoinExternal(gi, daveID, ExternalJoinOptions{SelfRemoves: [][]byte{leave, leave}})
	if err != nil {
		t.Fatal(err)
	}
	em, _ := ParseMessage(ext)
	if n := len(em.Public.Content.Commit.Proposals); n != 2 {
		t.Fatalf("external commit carries %d proposals, want ExternalInit and one SelfRemove", n)
	}
	rs := deliver(t, ext, alice, bob, carol)
	if len(rs[0].SelfRemoved) != 1 || rs[0].SelfRemoved[0] != 2 || len(rs[0].Joined) != 1 {
		t.Fatalf("received %+v", rs[0])
	}
	if carol.Active() {
		t.Fatal("carol still active")
	}
	sameEpoch(t, alice, bob, dave)
	// dave took carol's leaf (the leftmost blank).
	if dave.LeafIndex() != 2 || len(dave.Members()) != 3 {
		t.Fatalf("dave at leaf %d, %d members", dave.LeafIndex(), len(dave.Members()))
	}
	msg, _ := dave.Encrypt([]byte("hi"), nil)
	if r := deliver(t, msg, alice, bob); string(r[0].Data) != "hi" {
		t.Fatal("dave's message")
	}
	// A member's external commit may reference SelfRemoves only: a Remove by reference is refused.
	kick, _ := alice.ProposeRemove(1)
	deliver(t, kick, dave)
	forgedList := []ProposalOrRef{{Reference: dave.proposals[0].ref}}
	if _, err := dave.resolveProposals(forgedList, Sender{Type: SenderNewMemberCommit}); err == nil {
		t.Fatal("external commit referencing a Remove accepted")
	}
}
