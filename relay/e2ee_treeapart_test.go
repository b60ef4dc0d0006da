package relay

import (
	"bytes"
	"slices"
	"testing"

	"mimichat/mls"
	"mimichat/proto"
)

// Protocol version 7: commits whose GroupInfo leaves the ratchet tree out
// are checked against the relay's own view of the new epoch (a GroupInfo of
// another epoch is refused and changes nothing); get_group_info then
// answers the relay's tree beside the GroupInfo to version 7 connections
// and refuses version 6 ones; a new device joins by external commit from
// it; the tree, stored in chunks, survives a restart; and a GroupInfo
// with the tree (an older client) is still accepted and served as before.
func TestE2EETreeApart(t *testing.T) {
	data := t.TempDir()
	s := startRelay(t, Config{RatePerSec: -1, Data: data})
	e := &e2eRoom{s: s, toks: map[string]string{"alice": addUser(t, s.Store(), "alice"), "bob": addUser(t, s.Store(), "bob")}}
	e.alice = e.device(t, "alice", "laptop")
	e.room = e.alice.create("apart", proto.CreateRoom{})
	bob := e.member(t, "bob", "phone")
	apart := mls.CommitOptions{ForcePath: true, GroupInfoWithoutTree: true}

	// A GroupInfo of the epoch before the commit is refused, and the
	// refusal leaves the relay's view as it was: the right one passes.
	res, err := e.alice.g.Commit(apart)
	if err != nil {
		t.Fatal(err)
	}
	oldGI, err := e.alice.g.GroupInfo(false)
	if err != nil {
		t.Fatal(err)
	}
	_, ef := e.alice.c.op(e.room, proto.KindCommit, "", func(f *proto.RoomOp) { f.MLS, f.GroupInfo = res.Commit, oldGI })
	if ef == nil || ef.Code != proto.CodeBadCommit || ef.Field != "group_info" {
		t.Fatalf("a GroupInfo of the old epoch: %+v", ef)
	}
	e.alice.g.ClearPendingCommit()
	ok, ef := e.alice.commitOp(proto.KindCommit, "", apart)
	if ef != nil {
		t.Fatalf("treeless GroupInfo: %s %s", ef.Code, ef.Reason)
	}
	bob.syncTo(ok.Seq)
	sameEpoch(t, e.alice, bob)

	groupInfo := func(c *client) (*proto.GroupInfo, *proto.ErrorFrame) {
		c.send(&proto.GetGroupInfo{RID: c.nextRID(), Room: e.room})
		return answerOrError[*proto.GroupInfo](c)
	}
	v6 := dialVersion(t, s.Addr(), e.toks["bob"], 6)
	if _, ef := groupInfo(v6); ef == nil || ef.Code != proto.CodeBadField || ef.Field != "room" {
		t.Fatalf("version 6 get_group_info of a treeless GroupInfo: %+v", ef)
	}
	gi, ef := groupInfo(bob.c)
	if ef != nil {
		t.Fatal(ef.Reason)
	}
	if has, _ := mls.GroupInfoHasTree(gi.GroupInfo); has || !bytes.Equal(gi.RatchetTree, e.alice.g.RatchetTree()) {
		t.Fatalf("group_info: tree inside %v, ratchet_tree %d bytes (alice's tree %d)", has, len(gi.RatchetTree), len(e.alice.g.RatchetTree()))
	}

	// bob's new laptop joins by external commit from the relay's tree,
	// and sends a treeless GroupInfo itself.
	laptop := e.device(t, "bob", "laptop")
	joined := func(d *e2eDevice, gi *proto.GroupInfo) {
		t.Helper()
		g, commit, err := mls.JoinExternal(gi.GroupInfo, d.dev.id, mls.ExternalJoinOptions{RatchetTree: gi.RatchetTree})
		if err != nil {
			t.Fatal(err)
		}
		g.PublicHandshake = true
		newGI, err := g.GroupInfo(false)
		if err != nil {
			t.Fatal(err)
		}
		ok := d.c.mustOp(e.room, proto.KindCommit, "", func(f *proto.RoomOp) { f.MLS, f.GroupInfo = commit, newGI })
		d.g, d.room, d.last = g, e.room, ok.Seq
		d.c.subscribe(e.room, ok.Seq)
		e.alice.syncTo(ok.Seq)
		bob.syncTo(ok.Seq)
	}
	gi, ef = groupInfo(laptop.c)
	if ef != nil {
		t.Fatal(ef.Reason)
	}
	joined(laptop, gi)
	sameEpoch(t, e.alice, bob, laptop)

	// Restart: the relay's tree comes back from its chunks.
	s.Shutdown(t.Context())
	s = startRelay(t, Config{RatePerSec: -1, Data: data})
	names := map[*e2eDevice][2]string{e.alice: {"alice", "laptop"}, bob: {"bob", "phone"}, laptop: {"bob", "laptop"}}
	for _, d := range []*e2eDevice{e.alice, bob, laptop} {
		d.c = dialDevice(t, s.Addr(), e.deviceToken(t, names[d][0], names[d][1]), d.dev.uri)
		d.c.subscribe(e.room, d.last)
	}
	gi, ef = groupInfo(bob.c)
	if ef != nil || !bytes.Equal(gi.RatchetTree, e.alice.g.RatchetTree()) {
		t.Fatalf("after restart: %+v, tree equal %v", ef, ef == nil && bytes.Equal(gi.RatchetTree, e.alice.g.RatchetTree()))
	}
	ok, ef = bob.commitOp(proto.KindCommit, "", apart)
	if ef != nil {
		t.Fatalf("treeless commit after restart: %s %s", ef.Code, ef.Reason)
	}
	e.alice.syncTo(ok.Seq)
	laptop.syncTo(ok.Seq)

	// An older client's GroupInfo with the tree: accepted, and served to
	// version 6 again, without ratchet_tree.
	ok, ef = e.alice.commitOp(proto.KindCommit, "", mls.CommitOptions{ForcePath: true})
	if ef != nil {
		t.Fatalf("GroupInfo with the tree: %s %s", ef.Code, ef.Reason)
	}
	bob.syncTo(ok.Seq)
	laptop.syncTo(ok.Seq)
	v6 = dialVersion(t, s.Addr(), e.toks["bob"], 6)
	if gi, ef := groupInfo(v6); ef != nil || len(gi.RatchetTree) != 0 {
		t.Fatalf("version 6 get_group_info of a GroupInfo with the tree: %+v %+v", gi, ef)
	}
	_, a, ef := laptop.send("after all that")
	if ef != nil {
		t.Fatal(ef.Reason)
	}
	e.alice.syncTo(a.Seq)
	bob.syncTo(a.Seq)
	if !slices.Contains(e.alice.got, "after all that") || !slices.Contains(bob.got, "after all that") {
		t.Fatalf("alice %q, bob %q", e.alice.got, bob.got)
	}
	sameEpoch(t, e.alice, bob, laptop)
}
