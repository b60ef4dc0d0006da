package relay

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"mimichat/mls"
	"mimichat/proto"
	"mimichat/relay/store"
)

// storedGroup is room's group as the store holds it.
func storedGroup(t *testing.T, db store.Store, room string) *store.Group {
	t.Helper()
	states, err := db.LoadRooms(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st.URI == room && st.Group != nil {
			return st.Group
		}
	}
	t.Fatalf("no stored group for %s", room)
	return nil
}

// The hub state is stored without its ratchet tree, which is stored in
// 64-node chunks beside it, after every kind of change (create, invite,
// path commits with and without the tree in the GroupInfo, a held leave,
// its commit); state and chunks load back to the relay's view, and a relay
// restarted with a held SelfRemove hands it out.
func TestGroupStateStoredWithTreeChunks(t *testing.T) {
	data := t.TempDir()
	s := startRelay(t, Config{RatePerSec: -1, Data: data})
	e := &e2eRoom{s: s, toks: map[string]string{}}
	for _, u := range []string{"alice", "bob", "carol"} {
		e.toks[u] = addUser(t, s.Store(), u)
	}
	e.alice = e.device(t, "alice", "laptop")
	e.room = e.alice.create("beside", proto.CreateRoom{})
	check := func(step string, wantProposals int) {
		t.Helper()
		sg := storedGroup(t, s.Store().db, e.room)
		if len(sg.State) > 1024 {
			t.Fatalf("%s: stored hub state is %d bytes: it still carries the tree", step, len(sg.State))
		}
		if _, err := mls.LoadHubGroup(sg.State); !errors.Is(err, mls.ErrState) {
			t.Fatalf("%s: the state loaded without its tree: %v", step, err)
		}
		if sg.TreeWidth == 0 || len(sg.TreeChunks) != int(store.TreeChunkCount(sg.TreeWidth)) {
			t.Fatalf("%s: tree width %d with %d chunks", step, sg.TreeWidth, len(sg.TreeChunks))
		}
		var chunks [][]byte
		for _, c := range sg.TreeChunks {
			chunks = append(chunks, c.Data)
		}
		hub, err := mls.LoadHubGroupChunks(sg.State, sg.TreeWidth, chunks)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if hub.Epoch() != sg.Epoch || hub.Epoch() != e.alice.g.Epoch() || len(hub.PendingProposals()) != wantProposals {
			t.Fatalf("%s: stored view at epoch %d (row %d, alice %d) with %d proposals, want %d", step, hub.Epoch(), sg.Epoch,
				e.alice.g.Epoch(), len(hub.PendingProposals()), wantProposals)
		}
		if !bytes.Equal(hub.RatchetTree(), e.alice.g.RatchetTree()) {
			t.Fatalf("%s: the stored tree is not the group's", step)
		}
		if err := hub.CheckGroupInfo(sg.GroupInfo); err != nil {
			t.Fatalf("%s: stored GroupInfo is not the stored view's: %v", step, err)
		}
	}
	check("create", 0)
	bob := e.member(t, "bob", "phone")
	check("invite", 0)
	ok, ef := bob.commitOp(proto.KindCommit, "", mls.CommitOptions{ForcePath: true})
	if ef != nil {
		t.Fatal(ef.Reason)
	}
	e.alice.syncTo(ok.Seq)
	check("path commit", 0)
	ok, ef = e.alice.commitOp(proto.KindCommit, "", mls.CommitOptions{ForcePath: true, GroupInfoWithoutTree: true})
	if ef != nil {
		t.Fatal(ef.Reason)
	}
	bob.syncTo(ok.Seq)
	check("path commit, GroupInfo without the tree", 0)
	carol := e.member(t, "carol", "tab", bob)
	sr, err := carol.g.ProposeSelfRemove()
	if err != nil {
		t.Fatal(err)
	}
	leave := carol.c.mustOp(e.room, proto.KindLeave, "", func(f *proto.RoomOp) { f.MLS = sr })
	check("held leave", 1)

	s.Shutdown(t.Context())
	s = startRelay(t, Config{RatePerSec: -1, Data: data})
	e.s = s
	e.alice.c = dialDevice(t, s.Addr(), e.toks["alice"], e.alice.dev.uri)
	e.alice.c.subscribe(e.room, e.alice.last)
	e.alice.c.send(&proto.GetGroupInfo{RID: e.alice.c.nextRID(), Room: e.room})
	if gi := expect[*proto.GroupInfo](e.alice.c); len(gi.Proposals) != 1 || !bytes.Equal(gi.Proposals[0], sr) || gi.Epoch != e.alice.g.Epoch() {
		t.Fatalf("after a restart, group_info at epoch %d with %d proposals", gi.Epoch, len(gi.Proposals))
	}
	e.alice.syncTo(leave.Seq)
	if _, ef = e.alice.commitOp(proto.KindCommit, "", mls.CommitOptions{}); ef != nil {
		t.Fatalf("commit of the held SelfRemove after a restart: %s %s", ef.Code, ef.Reason)
	}
	check("the leave's commit", 0)
	if len(e.alice.g.Members()) != 2 {
		t.Fatalf("%d members after carol's leave", len(e.alice.g.Members()))
	}
}

// The roster a commit updates in place equals the one listed afresh, over
// random adds (device and non-device credentials, into freed leaves too),
// removes, path updates and external joins.
func TestRosterFollowsCommits(t *testing.T) {
	room := proto.RoomURI("example.com", "roster")
	owner := proto.UserURI("example.com", "owner")
	g, err := mls.NewGroup(newTestDevice(t, owner, "d", mls.CipherSuite(1)).id, []byte(room), nil)
	if err != nil {
		t.Fatal(err)
	}
	g.PublicHandshake = true
	gi, err := g.GroupInfo(true)
	if err != nil {
		t.Fatal(err)
	}
	grp, ref := newGroup(room, owner, 1, gi)
	if ref != nil {
		t.Fatal(ref.reason)
	}
	rng := rand.New(rand.NewPCG(13, 13))
	n := 0
	keyPackage := func() []byte {
		n++
		var id *mls.Identity
		if n%5 == 0 {
			id, err = mls.NewIdentity(mls.CipherSuite(1), []byte(fmt.Sprintf("plain%d", n)))
		} else {
			id = newTestDevice(t, proto.UserURI("example.com", fmt.Sprintf("u%d", n)), "d", mls.CipherSuite(1)).id
		}
		if err != nil {
			t.Fatal(err)
		}
		kp, err := mls.NewKeyPackage(id)
		if err != nil {
			t.Fatal(err)
		}
		return kp.KeyPackage
	}
	apply := func(msg, groupInfo []byte) {
		t.Helper()
		grp.roster() // the roster of the epoch before
		hm, err := grp.hub.Process(msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := grp.save(groupInfo); err != nil {
			t.Fatal(err)
		}
		grp.advanceRoster(hm.Commit)
		if grp.rs == nil {
			t.Fatal("the roster was dropped instead of advanced")
		}
		if want := buildRoster(grp.hub); !grp.rs.equal(want) {
			t.Fatalf("epoch %d: advanced roster %v, listed afresh %v", grp.hub.Epoch(), grp.rs.list(), want.list())
		}
	}
	for step := 0; step < 60; step++ {
		var opts mls.CommitOptions
		switch op := rng.IntN(5); {
		case op == 0 && len(g.Members()) > 2:
			ms := g.Members()[1:]
			for _, m := range ms[:1+rng.IntN(min(3, len(ms)))] {
				opts.Remove = append(opts.Remove, m.Leaf)
			}
		case op == 1:
			opts.ForcePath = true
		case op == 2 && len(g.Members()) > 1:
			info, err := g.GroupInfo(true)
			if err != nil {
				t.Fatal(err)
			}
			j, ext, err := mls.JoinExternal(info, newTestDevice(t, proto.UserURI("example.com", fmt.Sprintf("x%d", step)), "d", mls.CipherSuite(1)).id, mls.ExternalJoinOptions{})
			if err != nil {
				t.Fatal(err)
			}
			jgi, err := j.GroupInfo(true)
			if err != nil {
				t.Fatal(err)
			}
			apply(ext, jgi)
			if _, err := g.Process(ext); err != nil {
				t.Fatal(err)
			}
			continue
		default:
			for range 1 + rng.IntN(3) {
				opts.Add = append(opts.Add, keyPackage())
			}
		}
		res, err := g.Commit(opts)
		if err != nil {
			t.Fatal(err)
		}
		apply(res.Commit, res.GroupInfo)
		if err := g.MergePendingCommit(); err != nil {
			t.Fatal(err)
		}
	}
}

// A group stored before tree chunks (the state saved beside a GroupInfo
// that carries the tree, no chunks) loads, and its next record writes
// every chunk once; after that, a commit adding one member writes only the
// chunks it changed.
func TestGroupOlderRowGetsTreeChunks(t *testing.T) {
	g, grp, r, owner := hubRoom(t, 200, 100)
	room := string(g.GroupID())
	old, err := grp.hub.SaveBeside(grp.groupInfo)
	if err != nil {
		t.Fatal(err)
	}
	if has, _ := mls.GroupInfoHasTree(grp.groupInfo); !has {
		t.Fatal("the room's GroupInfo should carry the tree here")
	}
	loaded, err := loadGroup(&store.Group{Room: room, Suite: 1, Epoch: grp.hub.Epoch(), State: old, GroupInfo: grp.groupInfo})
	if err != nil {
		t.Fatal(err)
	}
	width, vers := loaded.hub.TreeVersions()
	if sg := loaded.record(room); sg.TreeWidth != width || len(sg.TreeChunks) != len(vers) {
		t.Fatalf("first record after an older row: width %d, %d chunks; want %d, %d", sg.TreeWidth, len(sg.TreeChunks), width, len(vers))
	}
	if sg := loaded.record(room); len(sg.TreeChunks) != 0 {
		t.Fatalf("a record without a change wrote %d chunks", len(sg.TreeChunks))
	}
	r.grp = loaded
	u := proto.UserURI("example.com", "new")
	d := newTestDevice(t, u, "d", mls.CipherSuite(1))
	kp, err := mls.NewKeyPackage(d.id)
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Commit(mls.CommitOptions{Add: [][]byte{kp.KeyPackage}, GroupInfoWithoutTree: true})
	if err != nil {
		t.Fatal(err)
	}
	op := &proto.RoomOp{Room: room, Op: proto.KindInvite, Target: u, MLS: res.Commit, Welcome: res.Welcome, GroupInfo: res.GroupInfo}
	changed, ref, err := r.checkOpMLS(&opCommit{op: op, actor: owner, ch: change{user: u, role: proto.RoleMember, state: proto.StateInvited},
		welcome: []store.Device{{URI: d.uri, User: u}}})
	if err != nil || ref != nil || !changed {
		t.Fatalf("%v %+v %v", err, ref, changed)
	}
	if sg := loaded.record(room); len(sg.TreeChunks) == 0 || len(sg.TreeChunks) > 3 {
		t.Fatalf("an add wrote %d of %d chunks", len(sg.TreeChunks), len(vers))
	}
	// Without its chunks, a treeless GroupInfo cannot stand in for the tree.
	if _, err := loadGroup(&store.Group{Room: room, Suite: 1, State: loaded.saved, GroupInfo: loaded.groupInfo}); err == nil {
		t.Fatal("a treeless GroupInfo with no chunks loaded")
	}
}
