package mls

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"
)

// Interop with ts-mls for the draft-ietf-mls-extensions features ts-mls can
// express: it has no SelfRemove or last-resort support of its own, but it
// writes arbitrary KeyPackage extensions, capabilities and custom proposals.

const interopSuite = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"

// TestInteropTSMLSLastResort: a last-resort key package written by ts-mls is
// recognised, and both implementations join by Welcome from a last-resort
// key package the other marked.
func TestInteropTSMLSLastResort(t *testing.T) {
	ts := startTS(t)
	tsKP := ts.bytes(ts.call(map[string]any{"op": "init", "suite": interopSuite, "name": "ts", "lastResort": true}), "keyPackage")
	info, err := InspectKeyPackage(tsKP, time.Now())
	if err != nil || !info.LastResort {
		t.Fatalf("ts-mls last-resort key package: %+v %v", info, err)
	}
	cs := X25519_AES128GCM_SHA256_Ed25519
	goID, _ := NewIdentity(cs, []byte("go"))
	g1, _ := NewGroup(goID, []byte("last resort interop"), nil)
	res, err := g1.Commit(CommitOptions{Add: [][]byte{tsKP}})
	if err != nil {
		t.Fatal(err)
	}
	g1.MergePendingCommit()
	ts.call(map[string]any{"op": "join", "welcome": hex.EncodeToString(res.Welcome)})
	ts.agree(g1)

	id2, _ := NewIdentity(cs, []byte("go2"))
	kp2, err := NewKeyPackage(id2, WithLastResort())
	if err != nil {
		t.Fatal(err)
	}
	reply := ts.call(map[string]any{"op": "commit", "add": []string{hex.EncodeToString(kp2.KeyPackage)}, "public": true})
	if _, err := g1.Process(ts.bytes(reply, "commit")); err != nil {
		t.Fatal(err)
	}
	g2, err := JoinFromWelcome(ts.bytes(reply, "welcome"), kp2, JoinOptions{})
	if err != nil {
		t.Fatalf("joining from ts-mls's Welcome for a last-resort key package: %v", err)
	}
	ts.agree(g1, g2)
	for _, m := range g1.Members() {
		if m.Leaf == g2.LeafIndex() && string(m.Credential.Identity) != "go2" {
			t.Fatalf("leaf %d is %q", m.Leaf, m.Credential.Identity)
		}
	}
}

// TestInteropTSMLSHub: a hub view follows a group through ts-mls's public
// commits and proposals, starting from a ts-mls GroupInfo, and its
// GroupContext stays equal to the Go members' (and so to ts-mls's, which
// agree() checks through the epoch authenticator).
func TestInteropTSMLSHub(t *testing.T) {
	ts := startTS(t)
	tsKP := ts.bytes(ts.call(map[string]any{"op": "init", "suite": interopSuite, "name": "ts"}), "keyPackage")
	cs := X25519_AES128GCM_SHA256_Ed25519
	goID, _ := NewIdentity(cs, []byte("go"))
	g1, _ := NewGroup(goID, []byte("hub interop"), nil)
	g1.PublicHandshake = true
	res, err := g1.Commit(CommitOptions{Add: [][]byte{tsKP}})
	if err != nil {
		t.Fatal(err)
	}
	g1.MergePendingCommit()
	ts.call(map[string]any{"op": "join", "welcome": hex.EncodeToString(res.Welcome)})

	// The hub starts from ts-mls's GroupInfo (its tree encoding, its signature).
	hub, err := NewHubGroup(ts.bytes(ts.call(map[string]any{"op": "groupInfo"}), "groupInfo"), nil)
	if err != nil {
		t.Fatalf("hub from a ts-mls GroupInfo: %v", err)
	}
	same := func(gs ...*Group) {
		t.Helper()
		ts.agree(gs...)
		for _, g := range gs {
			if !bytes.Equal(hub.GroupContext(), g.ctx.bytes()) {
				t.Fatalf("hub context differs from member %d at epoch %d", g.LeafIndex(), g.Epoch())
			}
		}
	}
	same(g1)
	through := func(msg []byte, gs ...*Group) *HubMessage {
		t.Helper()
		m, err := hub.Process(msg)
		if err != nil {
			t.Fatalf("hub processing a ts-mls message: %v", err)
		}
		deliver(t, msg, gs...)
		return m
	}

	// ts-mls adds a Go client with a public commit.
	kp2 := newMember(t, cs, "go2")
	reply := ts.call(map[string]any{"op": "commit", "add": []string{hex.EncodeToString(kp2.KeyPackage)}, "public": true})
	m := through(ts.bytes(reply, "commit"), g1)
	if m.Commit == nil || len(m.Commit.Joined) != 1 || string(m.Commit.Joined[0].Credential.Identity) != "go2" {
		t.Fatalf("hub saw %+v", m.Commit)
	}
	g2, err := JoinFromWelcome(ts.bytes(reply, "welcome"), kp2, JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g2.PublicHandshake = true
	same(g1, g2)

	// ts-mls path update, public.
	through(ts.bytes(ts.call(map[string]any{"op": "commit", "public": true}), "commit"), g1, g2)
	same(g1, g2)

	// ts-mls proposes removing go2 (public); Go commits it by reference.
	prop := ts.bytes(ts.call(map[string]any{"op": "proposeRemove", "leaf": g2.LeafIndex(), "public": true}), "proposal")
	if m := through(prop, g1, g2); m.Proposal == nil || m.Proposal.Type != ProposalRemove {
		t.Fatalf("hub saw %+v", m)
	}
	res, err = g1.Commit(CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := hub.Process(res.Commit); err != nil || len(m.Commit.Removed) != 1 || !m.Commit.Proposals[0].ByRef {
		t.Fatalf("hub on Go's commit of the ts-mls proposal: %+v %v", m, err)
	}
	g1.MergePendingCommit()
	ts.receive(res.Commit)
	same(g1)
	if len(hub.Members()) != 2 {
		t.Fatalf("hub has %d members", len(hub.Members()))
	}
	// A ts-mls application message is accepted by header.
	if m, err := hub.Process(ts.send("hi")); err != nil || m.ContentType != ContentApplication {
		t.Fatalf("ts-mls application message: %v", err)
	}
}
