package mls

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"
)

// hubFixture follows one group with a hub view and the members' Groups.
type hubFixture struct {
	t       *testing.T
	hub     *HubGroup
	members []*Group // active members
}

// check compares the hub's view with every active member's state.
func (f *hubFixture) check() {
	f.t.Helper()
	for _, g := range f.members {
		if f.hub.Epoch() != g.Epoch() || !bytes.Equal(f.hub.GroupContext(), g.ctx.bytes()) {
			f.t.Fatalf("hub at epoch %d, member %d at %d (contexts equal: %v)", f.hub.Epoch(), g.LeafIndex(), g.Epoch(),
				bytes.Equal(f.hub.GroupContext(), g.ctx.bytes()))
		}
		hm, gm := f.hub.Members(), g.Members()
		if len(hm) != len(gm) {
			f.t.Fatalf("hub has %d members, member %d has %d", len(hm), g.LeafIndex(), len(gm))
		}
		for i := range hm {
			if hm[i].Leaf != gm[i].Leaf || !bytes.Equal(hm[i].Credential.Identity, gm[i].Credential.Identity) ||
				!bytes.Equal(hm[i].SignatureKey, gm[i].SignatureKey) {
				f.t.Fatalf("member %d differs: hub %+v, member %+v", i, hm[i], gm[i])
			}
		}
	}
}

// hubProcess has the hub accept msg.
func (f *hubFixture) hubProcess(msg []byte) *HubMessage {
	f.t.Helper()
	m, err := f.hub.Process(msg)
	if err != nil {
		f.t.Fatalf("hub at epoch %d: %v", f.hub.Epoch(), err)
	}
	return m
}

// commit has by commit opts; the hub then every other member processes it.
func (f *hubFixture) commit(by *Group, opts CommitOptions) (*CommitResult, *HubCommit) {
	f.t.Helper()
	res, err := by.Commit(opts)
	if err != nil {
		f.t.Fatal(err)
	}
	hm := f.hubProcess(res.Commit)
	if hm.Commit == nil || hm.From != (Sender{SenderMember, by.LeafIndex()}) || hm.FromLeaf == nil {
		f.t.Fatalf("hub saw %+v", hm)
	}
	if err := f.hub.CheckGroupInfo(res.GroupInfo); err != nil {
		f.t.Fatalf("the committer's GroupInfo of the new epoch: %v", err)
	}
	by.MergePendingCommit()
	var stay []*Group
	for _, g := range f.members {
		if g != by {
			deliver(f.t, res.Commit, g)
		}
		if g.Active() {
			stay = append(stay, g)
		}
	}
	f.members = stay
	return res, hm.Commit
}

func identities(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Credential.Identity))
	}
	return out
}

func TestHubFollowsGroup(t *testing.T) {
	cs := X25519_AES128GCM_SHA256_Ed25519
	hubID, _ := NewIdentity(cs, []byte("mimi://example.com"))
	aliceID, _ := NewIdentity(cs, []byte("alice"))
	alice, err := NewGroup(aliceID, []byte("mimi://example.com/g/room"),
		[]Extension{ExternalSendersExtension([]ExternalSender{{SignatureKey: hubID.SignaturePub, Credential: hubID.Credential}})})
	if err != nil {
		t.Fatal(err)
	}
	alice.PublicHandshake = true
	gi0, _ := alice.GroupInfo(true)
	hub, err := NewHubGroup(gi0, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &hubFixture{t: t, hub: hub, members: []*Group{alice}}
	f.check()

	// Adds.
	bob, carol := newMember(t, cs, "bob"), newMember(t, cs, "carol")
	res, hc := f.commit(alice, CommitOptions{Add: [][]byte{bob.KeyPackage, carol.KeyPackage}})
	if got := identities(hc.Joined); !slices.Equal(got, []string{"bob", "carol"}) || hc.NewEpoch != 1 || hc.External {
		t.Fatalf("commit %+v, joined %v", hc, got)
	}
	refs, err := WelcomeRecipients(res.Welcome)
	if err != nil {
		t.Fatal(err)
	}
	for i, kp := range []*KeyPackageBundle{bob, carol} {
		info, _ := InspectKeyPackage(kp.KeyPackage, time.Now())
		if !bytes.Equal(refs[i], info.Ref) {
			t.Fatalf("Welcome recipient %d is not %s's key package", i, kp.Identity.Credential.Identity)
		}
	}
	if err := hub.CheckGroupInfo(res.GroupInfo); err != nil {
		t.Fatalf("committer's GroupInfo: %v", err)
	}
	if err := hub.CheckGroupInfo(gi0); !errors.Is(err, ErrWrongEpoch) {
		t.Fatalf("epoch 0 GroupInfo at epoch 1: %v", err)
	}
	var gb, gc *Group
	for _, p := range []struct {
		kp *KeyPackageBundle
		g  **Group
	}{{bob, &gb}, {carol, &gc}} {
		g, err := JoinFromWelcome(res.Welcome, p.kp, JoinOptions{})
		if err != nil {
			t.Fatal(err)
		}
		g.PublicHandshake = true
		*p.g = g
		f.members = append(f.members, g)
	}
	f.check()

	// An Update by reference, committed with a path.
	upd, _ := gb.ProposeUpdate()
	hm := f.hubProcess(upd)
	if hm.Proposal == nil || hm.Proposal.Type != ProposalUpdate || hm.FromLeaf.Leaf != 1 || len(hub.PendingProposals()) != 1 {
		t.Fatalf("hub saw %+v", hm)
	}
	deliver(t, upd, alice, gc)
	res, hc = f.commit(gc, CommitOptions{})
	if !slices.Equal(hc.Updated, []uint32{1, 2}) || !hc.HasPath || len(hc.Proposals) != 1 || !hc.Proposals[0].ByRef {
		t.Fatalf("update commit %+v", hc)
	}
	f.check()

	// Save and load the hub view in the middle.
	saved, err := hub.Save()
	if err != nil {
		t.Fatal(err)
	}
	if f.hub, err = LoadHubGroup(saved); err != nil {
		t.Fatal(err)
	}
	hub = f.hub
	f.check()

	// carol leaves by SelfRemove; dave joins by external commit from the
	// GroupInfo and the pending SelfRemoves the hub hands out.
	leave, _ := gc.ProposeSelfRemove()
	f.hubProcess(leave)
	deliver(t, leave, alice, gb)
	// A commit that leaves the SelfRemove out is reported (the hub should refuse it).
	if m, err := hub.Verify(forgeCommit(t, alice, nil, true)); err != nil || !slices.Equal(m.Commit.OmittedSelfRemoves, []uint32{2}) {
		t.Fatalf("commit omitting a SelfRemove: %+v %v", m, err)
	}
	if err := hub.CheckGroupInfo(res.GroupInfo); err != nil {
		t.Fatal(err)
	}
	pending := hub.PendingSelfRemoves()
	if len(pending) != 1 || !bytes.Equal(pending[0], leave) {
		t.Fatalf("pending SelfRemoves %d", len(pending))
	}
	daveID, _ := NewIdentity(cs, []byte("dave"))
	dave, ext, err := JoinExternal(res.GroupInfo, daveID, ExternalJoinOptions{SelfRemoves: pending})
	if err != nil {
		t.Fatal(err)
	}
	dave.PublicHandshake = true
	hm = f.hubProcess(ext)
	hc = hm.Commit
	if !hc.External || hm.From.Type != SenderNewMemberCommit || string(hm.FromLeaf.Credential.Identity) != "dave" ||
		!slices.Equal(identities(hc.Removed), []string{"carol"}) || !slices.Equal(hc.SelfRemoved, []uint32{2}) ||
		!slices.Equal(identities(hc.Joined), []string{"dave"}) {
		t.Fatalf("external commit %+v from %+v", hc, hm.FromLeaf)
	}
	deliver(t, ext, alice, gb, gc)
	f.members = []*Group{alice, gb, dave}
	f.check()
	if len(hub.PendingProposals()) != 0 {
		t.Fatal("proposals of a past epoch still pending")
	}

	// The hub proposes removing bob (an external sender); alice commits it.
	kick, err := ExternalProposal(cs, hub.GroupID(), hub.Epoch(), 0, hubID.SignaturePriv, RemoveProposal(1))
	if err != nil {
		t.Fatal(err)
	}
	if hm = f.hubProcess(kick); hm.From.Type != SenderExternal || hm.FromLeaf != nil {
		t.Fatalf("hub's own proposal seen as %+v", hm)
	}
	deliver(t, kick, alice, gb, dave)
	_, hc = f.commit(alice, CommitOptions{})
	if !slices.Equal(identities(hc.Removed), []string{"bob"}) || len(hc.SelfRemoved) != 0 || gb.Active() {
		t.Fatalf("remove commit %+v", hc)
	}
	f.check()

	// An inline removal and an add in one commit, then a path-only commit.
	erin := newMember(t, cs, "erin")
	res, hc = f.commit(dave, CommitOptions{Add: [][]byte{erin.KeyPackage}})
	if !slices.Equal(identities(hc.Joined), []string{"erin"}) || len(hc.Proposals) != 1 || hc.Proposals[0].ByRef {
		t.Fatalf("inline add %+v", hc)
	}
	ge, err := JoinFromWelcome(res.Welcome, erin, JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ge.PublicHandshake = true
	f.members = append(f.members, ge)
	_, hc = f.commit(ge, CommitOptions{Remove: []uint32{0}, ForcePath: true})
	if !slices.Equal(identities(hc.Removed), []string{"alice"}) || alice.Active() {
		t.Fatalf("inline remove %+v", hc)
	}
	f.check()
	t.Logf("hub followed %d epochs; members now %v", hub.Epoch(), identities(hub.Members()))
}

func TestHubRefuses(t *testing.T) {
	gs := groupOf(t, true, "alice", "bob", "carol")
	alice, bob := gs[0], gs[1]
	gi, _ := alice.GroupInfo(false)
	if _, err := NewHubGroup(gi, nil); !errors.Is(err, ErrWelcome) {
		t.Fatalf("GroupInfo without a tree and none given: %v", err)
	}
	hub, err := NewHubGroup(gi, alice.RatchetTree())
	if err != nil {
		t.Fatal(err)
	}
	epoch := hub.Epoch()
	appAtStart, _ := bob.Encrypt([]byte("early"), nil)

	flip := func(b []byte, back int) []byte {
		c := append([]byte(nil), b...)
		c[len(c)-back] ^= 1
		return c
	}
	alice.PublicHandshake = false
	private, _ := alice.Commit(CommitOptions{ForcePath: true})
	alice.ClearPendingCommit()
	alice.PublicHandshake = true
	welcome := mustWelcome(t, alice)
	other := groupOf(t, true, "mallory")[0]
	otherCommit, _ := other.Commit(CommitOptions{ForcePath: true})
	impostor := *alice
	impostor.id, _ = NewIdentity(alice.CipherSuite(), []byte("alice"))
	// A member's real commit, kept pending, for tampering.
	res, err := alice.Commit(CommitOptions{ForcePath: true})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		msg  []byte
		want error
	}{
		// signature is followed by the confirmation tag (33 bytes) and membership tag (33 bytes)
		{"flipped signature", flip(res.Commit, 70), ErrSignature},
		{"signed by another key", forgeCommit(t, &impostor, nil, true), ErrSignature},
		{"private commit", private.Commit, ErrWireFormat},
		{"another group", otherCommit.Commit, ErrWrongGroup},
		{"welcome", welcome, ErrWireFormat},
		{"truncated", res.Commit[:40], ErrTruncated},
		{"inline SelfRemove", forgeCommit(t, bob, []ProposalOrRef{{Proposal: &Proposal{Type: ProposalSelfRemove}}}, true), ErrInvalidProposal},
		{"remove of a blank leaf", forgeCommit(t, bob, []ProposalOrRef{{Proposal: RemoveProposal(7)}}, true), ErrInvalidProposal},
		{"remove without a path", forgeCommit(t, bob, []ProposalOrRef{{Proposal: RemoveProposal(2)}}, false), ErrInvalidProposal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := hub.Process(tc.msg); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if hub.Epoch() != epoch {
				t.Fatal("a refused message moved the epoch")
			}
		})
	}

	// The real commit is accepted; a second commit for the same (now stale) epoch is refused.
	stale, _ := bob.Commit(CommitOptions{ForcePath: true})
	bob.ClearPendingCommit()
	if _, err := hub.Process(res.Commit); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Process(stale.Commit); !errors.Is(err, ErrWrongEpoch) {
		t.Fatalf("commit for a past epoch: %v", err)
	}
	// Verify then Apply after the view moved on is refused.
	alice.MergePendingCommit()
	deliver(t, res.Commit, bob, gs[2])
	c1, _ := bob.Commit(CommitOptions{ForcePath: true})
	m1, err := hub.Verify(c1.Commit)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := alice.Commit(CommitOptions{ForcePath: true})
	if _, err := hub.Process(c2.Commit); err != nil {
		t.Fatal(err)
	}
	if err := hub.Apply(m1); !errors.Is(err, ErrWrongEpoch) {
		t.Fatalf("applying a commit verified at an older epoch: %v", err)
	}

	// Application messages: the hub reads group and epoch from the header and
	// accepts the current epoch and PastEpochs before it.
	hub.PastEpochs = 1
	if m, err := hub.Process(appAtStart); !errors.Is(err, ErrEpochExpired) || m != nil {
		t.Fatalf("application message two epochs old with PastEpochs 1: %v", err)
	}
	hub.PastEpochs = 2
	m, err := hub.Process(appAtStart)
	if err != nil || m.Epoch != epoch || m.ContentType != ContentApplication || m.WireFormat != WirePrivateMessage {
		t.Fatalf("application message two epochs old with PastEpochs 2: %+v %v", m, err)
	}
	h, err := PeekMessage(appAtStart)
	if err != nil || h.Epoch != epoch || h.Sender != nil || !bytes.Equal(h.GroupID, hub.GroupID()) {
		t.Fatalf("peek %+v %v", h, err)
	}
	h, err = PeekMessage(c2.Commit)
	if err != nil || h.Epoch != epoch+1 || *h.Sender != (Sender{SenderMember, 0}) || h.ContentType != ContentCommit {
		t.Fatalf("peek %+v %v", h, err)
	}
}

// mustWelcome returns a Welcome of g's group (adding a throwaway member, commit dropped).
func mustWelcome(t *testing.T, g *Group) []byte {
	t.Helper()
	res, err := g.Commit(CommitOptions{Add: [][]byte{newMember(t, g.CipherSuite(), "w").KeyPackage}})
	if err != nil {
		t.Fatal(err)
	}
	g.ClearPendingCommit()
	return res.Welcome
}
