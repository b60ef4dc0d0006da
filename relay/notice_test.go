package relay

import (
	"testing"
	"time"

	"mimichat/proto"
)

// notice waits for the next notice on c (skipping events and replies).
func (c *client) notice(timeout time.Duration) *proto.Notice {
	c.t.Helper()
	for i, f := range c.stash {
		if n, ok := f.(*proto.Notice); ok {
			c.stash = append(c.stash[:i], c.stash[i+1:]...)
			return n
		}
	}
	deadline := time.Now().Add(timeout)
	for {
		if n, ok := c.next(time.Until(deadline)).(*proto.Notice); ok {
			return n
		}
	}
}

// noNotice checks that no notice reaches c within d.
func (c *client) noNotice(d time.Duration) {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case f := <-c.frames:
			if n, ok := f.(*proto.Notice); ok {
				c.t.Fatalf("%s: unexpected notice %+v", c.user, n)
			}
		case <-deadline:
			return
		}
	}
}

// TestNoticesReachEveryConnection: a user's membership changes are pushed to
// all of its live connections at once, subscribed or not, and only to
// clients speaking version 2.
func TestNoticesReachEveryConnection(t *testing.T) {
	s := startRelay(t, Config{})
	st := s.Store()
	aliceTok, bobTok := addUser(t, st, "alice"), addUser(t, st, "bob")
	alice := dial(t, s.Addr(), aliceTok)
	bob1, bob2 := dial(t, s.Addr(), bobTok), dial(t, s.Addr(), bobTok)
	bobV1 := dialVersion(t, s.Addr(), bobTok, 1)
	room := alice.createRoom("push", proto.CreateRoom{Name: "Push"})
	bob := proto.UserURI("example.com", "bob")
	role := func(r proto.Role) func(*proto.RoomOp) { return func(o *proto.RoomOp) { o.Role = r } }

	steps := []struct {
		actor *client
		op    proto.Kind
		mod   func(*proto.RoomOp)
		state proto.State
		role  proto.Role
		to    []*client // connections that get the notice
	}{
		{alice, proto.KindInvite, nil, proto.StateInvited, proto.RoleMember, []*client{bob1, bob2}},
		{bob1, proto.KindJoin, nil, proto.StateJoined, proto.RoleMember, []*client{bob1, bob2}},
		{alice, proto.KindRole, role(proto.RoleModerator), proto.StateJoined, proto.RoleModerator, []*client{bob1, bob2}},
		{alice, proto.KindKick, nil, proto.StateNone, "", []*client{bob1, bob2}},
		{alice, proto.KindBan, nil, proto.StateBanned, proto.RoleModerator, []*client{bob1, bob2}},
		{alice, proto.KindUnban, nil, proto.StateNone, "", []*client{bob1, bob2}},
	}
	for _, st := range steps {
		target := bob
		if st.op == proto.KindJoin {
			target = ""
		}
		start := time.Now()
		ok := st.actor.mustOp(room, st.op, target, func(o *proto.RoomOp) {
			if st.mod != nil {
				st.mod(o)
			}
		})
		for _, c := range st.to {
			n := c.notice(time.Second)
			if n.Room != room || n.Seq != ok.Seq || n.Kind != st.op || n.State != st.state || n.Role != st.role || n.From != st.actor.user {
				t.Fatalf("%s: notice %+v; want seq %d state %s role %q from %s", st.op, n, ok.Seq, st.state, st.role, st.actor.user)
			}
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("%s: notice took %v", st.op, d)
		}
	}
	alice.noNotice(100 * time.Millisecond) // nothing about alice changed
	bobV1.noNotice(100 * time.Millisecond) // version 1 does not know the frame
}

// TestReceiptsPolicy: the read-receipt policy is a room operation for
// moderators and owners, shown in room_state and room_list to version 2
// clients, and kept across restarts.
func TestReceiptsPolicy(t *testing.T) {
	dir := t.TempDir()
	s := startRelay(t, Config{Data: dir})
	st := s.Store()
	toks := map[string]string{}
	u := map[string]*client{}
	for _, n := range []string{"alice", "mona", "bob"} {
		toks[n] = addUser(t, st, n)
		u[n] = dial(t, s.Addr(), toks[n])
	}
	room := u["alice"].createRoom("rr", proto.CreateRoom{})
	for _, n := range []string{"mona", "bob"} {
		u["alice"].mustOp(room, proto.KindInvite, proto.UserURI("example.com", n))
		u[n].mustOp(room, proto.KindJoin, "")
	}
	u["alice"].mustOp(room, proto.KindRole, proto.UserURI("example.com", "mona"), func(o *proto.RoomOp) { o.Role = proto.RoleModerator })
	info := func(c *client) *proto.RoomState {
		c.send(&proto.RoomInfo{RID: c.nextRID(), Room: room})
		return expect[*proto.RoomState](c)
	}
	if got := info(u["bob"]).Receipts; got != proto.ReceiptsOn {
		t.Fatalf("new room: receipts %q, want on", got)
	}
	value := func(v string) func(*proto.RoomOp) { return func(o *proto.RoomOp) { o.Value = v } }
	if _, ef := u["bob"].op(room, proto.KindReceipts, "", value(proto.ReceiptsOff)); ef == nil || ef.Code != proto.CodeForbidden {
		t.Fatalf("a member set the receipts policy: %+v", ef)
	}
	if _, ef := u["mona"].op(room, proto.KindReceipts, "", value("sometimes")); ef == nil || ef.Code != proto.CodeBadField || ef.Field != "value" {
		t.Fatalf("bad value: %+v", ef)
	}
	ok := u["mona"].mustOp(room, proto.KindReceipts, "", value(proto.ReceiptsOff))
	u["bob"].subscribe(room, ok.Seq-1)
	if evs := u["bob"].events(room, 1, 5*time.Second); len(evs) != 1 || evs[0].Kind != proto.KindReceipts || evs[0].Value != proto.ReceiptsOff {
		t.Fatalf("policy event = %+v", evs)
	}
	if got := info(u["bob"]).Receipts; got != proto.ReceiptsOff {
		t.Fatalf("after off: receipts %q", got)
	}
	u["bob"].send(&proto.Rooms{RID: u["bob"].nextRID()})
	if l := expect[*proto.RoomList](u["bob"]); len(l.Rooms) != 1 || l.Rooms[0].Receipts != proto.ReceiptsOff {
		t.Fatalf("room list = %+v", l.Rooms)
	}
	old := dialVersion(t, s.Addr(), toks["bob"], 1)
	if got := info(old).Receipts; got != "" {
		t.Fatalf("a version 1 client got receipts %q", got)
	}
	old.send(&proto.Rooms{RID: old.nextRID()})
	if l := expect[*proto.RoomList](old); len(l.Rooms) != 1 || l.Rooms[0].Receipts != "" {
		t.Fatalf("version 1 room list = %+v", l.Rooms)
	}
	u["alice"].mustOp(room, proto.KindReceipts, "", value(proto.ReceiptsOn))
	u["alice"].mustOp(room, proto.KindReceipts, "", value(proto.ReceiptsOff))

	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	s2 := startRelay(t, Config{Data: dir})
	if got := info(dial(t, s2.Addr(), toks["bob"])).Receipts; got != proto.ReceiptsOff {
		t.Fatalf("after restart: receipts %q", got)
	}
}

func TestVersionRange(t *testing.T) {
	s := startRelay(t, Config{})
	tok := addUser(t, s.Store(), "alice")
	for _, v := range []uint64{0, proto.Version + 1} {
		c := &client{t: t, ws: dialRaw(t, s.Addr()), frames: make(chan proto.Frame, 16), closed: make(chan struct{})}
		go c.readLoop()
		c.send(&proto.Hello{V: v, Token: tok})
		if v == 0 {
			c.expectError(proto.CodeAuthRequired) // hello.v is required
			continue
		}
		if e := c.expectError(proto.CodeUnsupportedVersion); !e.Fatal {
			t.Fatal("unsupported version not fatal")
		}
	}
	dialVersion(t, s.Addr(), tok, proto.MinVersion)
}
