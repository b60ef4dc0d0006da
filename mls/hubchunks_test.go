package mls

import (
	"errors"
	"testing"
)

// TestHubTreeChunks follows a group as a relay does with GroupInfos that
// leave the ratchet tree out: each commit's GroupInfo is checked before the
// commit is applied (CheckGroupInfoAfter), the view is saved without its
// tree plus the chunks whose version changed, and reloading from the state
// and the chunks kept so far gives the same view, which keeps following the
// group. An external joiner gets the hub's tree beside the treeless
// GroupInfo.
func TestHubTreeChunks(t *testing.T) {
	cs := X25519_AES128GCM_SHA256_Ed25519
	aliceID, _ := NewIdentity(cs, []byte("alice"))
	alice, err := NewGroup(aliceID, []byte("chunks"), nil)
	if err != nil {
		t.Fatal(err)
	}
	alice.PublicHandshake = true
	gi0, err := alice.GroupInfo(true)
	if err != nil {
		t.Fatal(err)
	}
	hub, err := NewHubGroup(gi0, nil)
	if err != nil {
		t.Fatal(err)
	}
	// stored is what a store holds: the state and the chunks by index.
	var state []byte
	var width uint32
	chunks := map[int][]byte{}
	var vers []uint64
	save := func() (written int) {
		t.Helper()
		if state, err = hub.SaveWithoutTree(); err != nil {
			t.Fatal(err)
		}
		w, v := hub.TreeVersions()
		for i := range v {
			if i >= len(vers) || vers[i] != v[i] {
				chunks[i] = hub.EncodeTreeChunk(i)
				written++
			}
		}
		for i := range chunks {
			if i >= len(v) {
				delete(chunks, i)
			}
		}
		width, vers = w, v
		return written
	}
	reload := func() *HubGroup {
		t.Helper()
		list := make([][]byte, len(chunks))
		for i := range list {
			list[i] = chunks[i]
		}
		h, err := LoadHubGroupChunks(state, width, list)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	save()
	commit := func(opts CommitOptions) *CommitResult {
		t.Helper()
		opts.GroupInfoWithoutTree = true
		res, err := alice.Commit(opts)
		if err != nil {
			t.Fatal(err)
		}
		if has, err := GroupInfoHasTree(res.GroupInfo); err != nil || has {
			t.Fatalf("GroupInfo carries the tree: %v %v", has, err)
		}
		m, err := hub.Verify(res.Commit)
		if err != nil {
			t.Fatal(err)
		}
		if err := hub.CheckGroupInfoAfter(m, res.GroupInfo); err != nil {
			t.Fatal(err)
		}
		// A GroupInfo of the current epoch is not the commit's.
		if old, _ := alice.GroupInfo(false); hub.CheckGroupInfoAfter(m, old) == nil {
			t.Fatal("the old epoch's GroupInfo passed as the commit's")
		}
		if err := hub.Apply(m); err != nil {
			t.Fatal(err)
		}
		if err := alice.MergePendingCommit(); err != nil {
			t.Fatal(err)
		}
		return res
	}
	var kps []*KeyPackageBundle
	for range 150 { // 150 adds: several chunks
		kps = append(kps, newMember(t, cs, "m"))
	}
	var adds [][]byte
	for _, kp := range kps {
		adds = append(adds, kp.KeyPackage)
	}
	commit(CommitOptions{Add: adds})
	if n := save(); n < 5 {
		t.Fatalf("%d chunks written after 150 adds", n)
	}
	res := commit(CommitOptions{Add: [][]byte{newMember(t, cs, "one").KeyPackage}})
	if n := save(); n < 1 || n > 3 {
		t.Fatalf("%d chunks written for one add, want the changed ones only", n)
	}
	hub = reload()
	if string(hub.GroupContext()) != string(alice.ctx.bytes()) {
		t.Fatal("the reloaded view differs from the members'")
	}
	if err := hub.CheckGroupInfo(res.GroupInfo); err != nil {
		t.Fatal(err)
	}
	commit(CommitOptions{Remove: []uint32{3, 140}})
	save()
	hub = reload()

	// An external joiner: the hub's tree beside the treeless GroupInfo.
	gi, err := alice.GroupInfo(false)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := JoinExternal(gi, newMember(t, cs, "x").Identity, ExternalJoinOptions{}); err == nil {
		t.Fatal("joined without any tree")
	}
	joinerID, _ := NewIdentity(cs, []byte("joiner"))
	joiner, ext, err := JoinExternal(gi, joinerID, ExternalJoinOptions{RatchetTree: hub.RatchetTree()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Process(ext); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Process(ext); err != nil {
		t.Fatal(err)
	}
	if string(joiner.EpochAuthenticator()) != string(alice.EpochAuthenticator()) {
		t.Fatal("the external joiner and alice disagree")
	}
	if string(hub.GroupContext()) != string(alice.ctx.bytes()) {
		t.Fatal("hub and members disagree after the external join")
	}

	// Chunks that do not make the saved tree are refused.
	list := make([][]byte, len(chunks))
	for i := range list {
		list[i] = chunks[i]
	}
	list[1] = list[2]
	if _, err := LoadHubGroupChunks(state, width, list); !errors.Is(err, ErrState) && !errors.Is(err, ErrInvalidTree) {
		t.Fatalf("swapped chunk: %v", err)
	}
}

// TestHubClone: a clone is a rollback point: proposals applied to the view
// after cloning are not in the clone.
func TestHubClone(t *testing.T) {
	cs := X25519_AES128GCM_SHA256_Ed25519
	aliceID, _ := NewIdentity(cs, []byte("alice"))
	alice, err := NewGroup(aliceID, []byte("clone"), nil)
	if err != nil {
		t.Fatal(err)
	}
	alice.PublicHandshake = true
	gi, _ := alice.GroupInfo(true)
	hub, err := NewHubGroup(gi, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := alice.Commit(CommitOptions{Add: [][]byte{newMember(t, cs, "bob").KeyPackage}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Process(res.Commit); err != nil {
		t.Fatal(err)
	}
	if err := alice.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	before := hub.Clone()
	p, err := alice.ProposeRemove(1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Process(p); err != nil {
		t.Fatal(err)
	}
	if len(hub.PendingProposals()) != 1 || len(before.PendingProposals()) != 0 {
		t.Fatalf("pending: view %d, clone %d", len(hub.PendingProposals()), len(before.PendingProposals()))
	}
	// alice's next commit carries the Remove by reference: the view
	// resolves it, the clone (taken before the proposal) cannot.
	next, err := alice.Commit(CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Verify(next.Commit); err != nil {
		t.Fatal(err)
	}
	if _, err := before.Verify(next.Commit); err == nil {
		t.Fatal("the clone resolved a proposal it never saw")
	}
}
