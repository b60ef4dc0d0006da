package relay

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"mimichat/mls"
	"mimichat/proto"
)

// Protocol version 8: an invite from a version 8 connection may leave the
// ratchet tree out of the Welcome; the relay keeps its tree of the
// Welcome's epoch beside each stored Welcome and lists it (welcome_list
// ratchet_tree) to version 8 connections only. The joiner joins at the
// Welcome's epoch with that tree even after the room moved on, and reads
// what was sent since. A version 7 inviter's Welcome (the tree inside)
// gets no tree kept beside it.
func TestE2EEWelcomeTreeApart(t *testing.T) {
	e := newE2ERoom(t, "welcometree", "bob", "carol")
	bob := e.device(t, "bob", "phone")
	ok, ef := e.alice.commitOp(proto.KindInvite, proto.UserURI("example.com", "bob"),
		mls.CommitOptions{Add: e.alice.claim(proto.UserURI("example.com", "bob")), GroupInfoWithoutTree: true, WelcomeTreeApart: true})
	if ef != nil {
		t.Fatalf("invite: %s: %s", ef.Code, ef.Reason)
	}
	inviteEpoch := e.alice.g.Epoch()
	inviteTree := e.alice.g.RatchetTree()
	// The room moves on three epochs, with a message in each, before bob
	// looks at his Welcome.
	var last uint64 = ok.Seq
	for i := range 3 {
		if _, ef := e.alice.commitOp(proto.KindCommit, "", mls.CommitOptions{ForcePath: true, GroupInfoWithoutTree: true}); ef != nil {
			t.Fatalf("commit %d: %s: %s", i, ef.Code, ef.Reason)
		}
		if _, a, ef := e.alice.send("after the invite " + string(rune('a'+i))); ef != nil {
			t.Fatalf("send: %s", ef.Reason)
		} else {
			last = a.Seq
		}
	}
	if e.alice.g.Epoch() < inviteEpoch+2 {
		t.Fatalf("the room is at epoch %d, the Welcome's %d", e.alice.g.Epoch(), inviteEpoch)
	}

	// A version 7 connection of bob's gets no tree; version 8 gets the
	// invite epoch's tree, not the current one.
	welcomes := func(c *client) proto.PendingWelcome {
		t.Helper()
		c.send(&proto.Welcomes{RID: c.nextRID(), Device: bob.dev.uri})
		wl := expect[*proto.WelcomeList](c)
		if len(wl.Welcomes) != 1 {
			t.Fatalf("%d welcomes, want 1", len(wl.Welcomes))
		}
		return wl.Welcomes[0]
	}
	old := dialVersionDevice(t, e.s.Addr(), e.deviceToken(t, "bob", "phone"), bob.dev.uri, 7)
	if w := welcomes(old); w.RatchetTree != nil {
		t.Fatalf("version 7 welcome_list carries a ratchet_tree (%d bytes)", len(w.RatchetTree))
	}
	w := welcomes(bob.c)
	if !bytes.Equal(w.RatchetTree, inviteTree) || bytes.Equal(w.RatchetTree, e.alice.g.RatchetTree()) {
		t.Fatalf("welcome_list ratchet_tree: %d bytes, want the invite epoch's (%d bytes)", len(w.RatchetTree), len(inviteTree))
	}
	// The Welcome itself leaves the tree out: no join without it.
	if _, err := bob.joinWelcome(w.Welcome); !errors.Is(err, mls.ErrWelcome) {
		t.Fatalf("join from the Welcome alone: %v, want ErrWelcome (no tree)", err)
	}
	var g *mls.Group
	for _, b := range bob.bundles {
		if g, _ = mls.JoinFromWelcome(w.Welcome, b, mls.JoinOptions{RatchetTree: w.RatchetTree}); g != nil {
			break
		}
	}
	if g == nil || g.Epoch() != inviteEpoch {
		t.Fatalf("join with the kept tree: %v", g)
	}
	g.PublicHandshake = true
	bob.g, bob.room = g, w.Room
	bob.subscribe(w.Seq)
	bob.syncTo(last)
	sameEpoch(t, e.alice, bob)
	if want := []string{"after the invite a", "after the invite b", "after the invite c"}; !slices.Equal(bob.got, want) {
		t.Fatalf("bob read %q, want %q", bob.got, want)
	}
	bob.c.mustOp(bob.room, proto.KindJoin, "")

	// An inviter speaking version 7 puts the tree in the Welcome; the relay
	// keeps none beside it.
	alice7 := dialVersionDevice(t, e.s.Addr(), e.deviceToken(t, "alice", "laptop"), e.alice.dev.uri, 7)
	carol := e.device(t, "carol", "phone")
	res, err := e.alice.g.Commit(mls.CommitOptions{Add: e.alice.claim(proto.UserURI("example.com", "carol")), GroupInfoWithoutTree: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ef := alice7.op(e.room, proto.KindInvite, proto.UserURI("example.com", "carol"), func(f *proto.RoomOp) {
		f.MLS, f.GroupInfo, f.Welcome = res.Commit, res.GroupInfo, res.Welcome
	}); ef != nil {
		t.Fatalf("version 7 invite: %s: %s", ef.Code, ef.Reason)
	}
	e.alice.g.MergePendingCommit()
	carol.c.send(&proto.Welcomes{RID: carol.c.nextRID(), Device: carol.dev.uri})
	if wl := expect[*proto.WelcomeList](carol.c); len(wl.Welcomes) != 1 || wl.Welcomes[0].RatchetTree != nil {
		t.Fatalf("carol's welcomes after a version 7 invite: %+v", wl.Welcomes)
	}
	if _, err := carol.joinWelcome(expectWelcomeOf(t, carol)); err != nil {
		t.Fatalf("carol joins from the Welcome with the tree inside: %v", err)
	}
}

// expectWelcomeOf lists d's one stored Welcome.
func expectWelcomeOf(t *testing.T, d *e2eDevice) []byte {
	t.Helper()
	d.c.send(&proto.Welcomes{RID: d.c.nextRID(), Device: d.dev.uri})
	wl := expect[*proto.WelcomeList](d.c)
	if len(wl.Welcomes) != 1 {
		t.Fatalf("%d welcomes, want 1", len(wl.Welcomes))
	}
	return wl.Welcomes[0].Welcome
}

// dialVersionDevice connects speaking protocol version v with hello.device.
func dialVersionDevice(t testing.TB, addr, token, device string, v uint64) *client {
	t.Helper()
	c := &client{t: t, ws: dialRaw(t, addr), frames: make(chan proto.Frame, 1<<16), closed: make(chan struct{})}
	t.Cleanup(func() { c.ws.Close() })
	go c.readLoop()
	c.send(&proto.Hello{V: v, Token: token, Client: "relay-test", Device: device})
	w := expect[*proto.Welcome](c)
	c.user = w.User
	return c
}
