package relay

import (
	"testing"
	"time"

	"mimichat/proto"
)

// TestRoomPolicy walks one room through every membership operation, each
// allowed or refused by role as docs/protocol.md says.
func TestRoomPolicy(t *testing.T) {
	s := startRelay(t, Config{})
	st := s.Store()
	u := map[string]*client{}
	for _, n := range []string{"alice", "mona", "bob", "carol", "eve"} {
		u[n] = dial(t, s.Addr(), addUser(t, st, n))
	}
	room := u["alice"].createRoom("policy", proto.CreateRoom{Name: "Policy"})
	uri := func(n string) string { return proto.UserURI("example.com", n) }
	role := func(r proto.Role) func(*proto.RoomOp) { return func(o *proto.RoomOp) { o.Role = r } }
	value := func(v string) func(*proto.RoomOp) { return func(o *proto.RoomOp) { o.Value = v } }
	steps := []struct {
		actor  string
		op     proto.Kind
		target string
		mod    func(*proto.RoomOp)
		want   proto.Code // "" = allowed
	}{
		{"alice", proto.KindInvite, "mona", nil, ""},
		{"alice", proto.KindInvite, "bob", nil, ""},
		{"mona", proto.KindJoin, "", nil, ""},
		{"bob", proto.KindJoin, "", nil, ""},
		{"bob", proto.KindJoin, "", nil, proto.CodeInvalidOp},
		{"alice", proto.KindRole, "mona", role(proto.RoleModerator), ""},
		{"eve", proto.KindJoin, "", nil, proto.CodeForbidden},
		{"eve", proto.KindName, "", value("mine"), proto.CodeNotMember},
		{"bob", proto.KindKick, "mona", nil, proto.CodeForbidden},
		{"bob", proto.KindInvite, "carol", nil, proto.CodeForbidden},
		{"bob", proto.KindName, "", value("bobs"), proto.CodeForbidden},
		{"bob", proto.KindBan, "eve", nil, proto.CodeForbidden},
		{"bob", proto.KindRole, "bob", role(proto.RoleModerator), proto.CodeForbidden},
		{"mona", proto.KindHistory, "", value(proto.HistoryJoined), proto.CodeForbidden},
		{"mona", proto.KindJoinPolicy, "", value(proto.JoinOpen), proto.CodeForbidden},
		{"mona", proto.KindName, "", value("Renamed"), ""},
		{"mona", proto.KindTopic, "", value("a topic"), ""},
		{"mona", proto.KindAvatar, "", value("https://example.com/a.png"), ""},
		{"mona", proto.KindInvite, "carol", nil, ""},
		{"mona", proto.KindInvite, "carol", nil, proto.CodeInvalidOp},
		{"mona", proto.KindInvite, "nobody", nil, proto.CodeNoSuchUser},
		{"mona", proto.KindInvite, "eve", role(proto.RoleOwner), proto.CodeForbidden},
		{"mona", proto.KindKick, "alice", nil, proto.CodeForbidden},
		{"mona", proto.KindBan, "alice", nil, proto.CodeForbidden},
		{"mona", proto.KindKick, "mona", nil, proto.CodeInvalidOp},
		{"mona", proto.KindRole, "bob", role(proto.RoleOwner), proto.CodeForbidden},
		{"mona", proto.KindRole, "bob", role(proto.RoleModerator), ""},
		{"mona", proto.KindRole, "bob", role(proto.RoleMember), proto.CodeForbidden},
		{"alice", proto.KindRole, "bob", role(proto.RoleMember), ""},
		{"alice", proto.KindRole, "alice", role(proto.RoleMember), proto.CodeLastOwner},
		{"alice", proto.KindLeave, "", nil, proto.CodeLastOwner},
		{"mona", proto.KindKick, "bob", nil, ""},
		{"bob", proto.KindJoin, "", nil, proto.CodeForbidden},
		{"mona", proto.KindKick, "bob", nil, proto.CodeInvalidOp},
		{"mona", proto.KindBan, "eve", nil, ""},
		{"mona", proto.KindBan, "eve", nil, proto.CodeInvalidOp},
		{"alice", proto.KindInvite, "eve", nil, proto.CodeBanned},
		{"eve", proto.KindJoin, "", nil, proto.CodeBanned},
		{"alice", proto.KindJoinPolicy, "", value(proto.JoinOpen), ""},
		{"eve", proto.KindJoin, "", nil, proto.CodeBanned},
		{"bob", proto.KindJoin, "", nil, ""},
		{"mona", proto.KindUnban, "eve", nil, ""},
		{"mona", proto.KindUnban, "eve", nil, proto.CodeInvalidOp},
		{"eve", proto.KindJoin, "", nil, ""},
		{"carol", proto.KindJoin, "", nil, ""},
		{"carol", proto.KindLeave, "", nil, ""},
		{"carol", proto.KindLeave, "", nil, proto.CodeInvalidOp},
		{"alice", proto.KindRole, "mona", role(proto.RoleOwner), ""},
		{"alice", proto.KindRole, "alice", role(proto.RoleModerator), ""},
		{"mona", proto.KindKick, "alice", nil, ""},
	}
	for i, s := range steps {
		target := ""
		if s.target != "" {
			target = uri(s.target)
		}
		mod := []func(*proto.RoomOp){}
		if s.mod != nil {
			mod = append(mod, s.mod)
		}
		_, ef := u[s.actor].op(room, s.op, target, mod...)
		switch {
		case s.want == "" && ef != nil:
			t.Fatalf("step %d: %s %s %s refused: %s: %s", i, s.actor, s.op, s.target, ef.Code, ef.Reason)
		case s.want != "" && ef == nil:
			t.Fatalf("step %d: %s %s %s allowed, want %s", i, s.actor, s.op, s.target, s.want)
		case s.want != "" && ef.Code != s.want:
			t.Fatalf("step %d: %s %s %s: got %s (%s), want %s", i, s.actor, s.op, s.target, ef.Code, ef.Reason, s.want)
		}
	}
	// The state the steps leave, as room_info reports it.
	m := u["mona"]
	m.send(&proto.RoomInfo{RID: 99, Room: room})
	info := expect[*proto.RoomState](m)
	if info.Name != "Renamed" || info.Topic != "a topic" || info.Join != proto.JoinOpen {
		t.Fatalf("room state %+v", info)
	}
	got := map[string]proto.Member{}
	for _, mem := range info.Members {
		got[mem.User] = mem
	}
	want := map[string]proto.Member{
		uri("mona"): {User: uri("mona"), Role: proto.RoleOwner, State: proto.StateJoined},
		uri("bob"):  {User: uri("bob"), Role: proto.RoleMember, State: proto.StateJoined},
		uri("eve"):  {User: uri("eve"), Role: proto.RoleMember, State: proto.StateJoined},
	}
	if len(got) != len(want) {
		t.Fatalf("members %+v, want %+v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Fatalf("member %s = %+v, want %+v", k, got[k], w)
		}
	}
	// The log holds every allowed operation as an event, in order.
	m.subscribe(room, 0)
	allowed := 2 // create, name
	for _, s := range steps {
		if s.want == "" {
			allowed++
		}
	}
	m.exactEvents(room, allowed)
	// Rooms lists where a user stands.
	u["carol"].send(&proto.Rooms{RID: 5})
	if rl := expect[*proto.RoomList](u["carol"]); len(rl.Rooms) != 0 {
		t.Fatalf("carol left but is listed in %+v", rl.Rooms)
	}
	u["bob"].send(&proto.Rooms{RID: 6})
	if rl := expect[*proto.RoomList](u["bob"]); len(rl.Rooms) != 1 || rl.Rooms[0].Role != proto.RoleMember || rl.Rooms[0].State != proto.StateJoined {
		t.Fatalf("bob's rooms %+v", rl.Rooms)
	}
}

// TestBannedAndNonMembers: a non-member cannot subscribe, read or post; a
// banned subscriber gets the ban event and nothing after it, and can then
// neither post nor read.
func TestBannedAndNonMembers(t *testing.T) {
	s := startRelay(t, Config{})
	st := s.Store()
	alice := dial(t, s.Addr(), addUser(t, st, "alice"))
	bob := dial(t, s.Addr(), addUser(t, st, "bob"))
	eve := dial(t, s.Addr(), addUser(t, st, "eve"))
	room := alice.createRoom("r", proto.CreateRoom{})
	alice.mustOp(room, proto.KindInvite, bob.user)

	for _, c := range []*client{bob, eve} { // invited and stranger: not members yet
		c.send(&proto.Subscribe{RID: 1, Room: room})
		c.expectError(proto.CodeNotMember)
		c.send(&proto.History{RID: 2, Room: room})
		c.expectError(proto.CodeNotMember)
		m := message(t, c.user, room, "let me in")
		m.RID = 3
		c.send(m)
		c.expectError(proto.CodeNotMember)
		c.send(&proto.RoomInfo{RID: 4, Room: room})
		c.expectError(proto.CodeNotMember)
	}
	bob.mustOp(room, proto.KindJoin, "")
	bob.subscribe(room, 0)
	bob.post(room, "hello")
	ban := alice.mustOp(room, proto.KindBan, bob.user, func(o *proto.RoomOp) { o.Reason = "spam" })
	alice.post(room, "after the ban")
	evs := bob.exactEvents(room, 5) // create, invite, join, hello, ban
	last := evs[len(evs)-1]
	if last.Seq != ban.Seq || last.Kind != proto.KindBan || last.Target != bob.user || last.Reason != "spam" {
		t.Fatalf("bob's last event %+v, want the ban at seq %d", last, ban.Seq)
	}
	m := message(t, bob.user, room, "still here?")
	m.RID = 7
	bob.send(m)
	bob.expectError(proto.CodeBanned)
	bob.send(&proto.Subscribe{RID: 8, Room: room})
	bob.expectError(proto.CodeBanned)
	bob.send(&proto.History{RID: 9, Room: room})
	bob.expectError(proto.CodeBanned)
	bob.send(&proto.Signal{Room: room, Kind: proto.SignalTyping, Value: "start"})
	bob.expectError(proto.CodeBanned)
	eve.send(&proto.Subscribe{RID: 10, Room: "mimi://example.com/r/none"})
	eve.expectError(proto.CodeNoSuchRoom)
	alice.send(&proto.Subscribe{RID: 11, Room: room, Since: 1000})
	if e := alice.expectError(proto.CodeBadField); e.Field != "since" {
		t.Fatalf("future cursor refused with field %q", e.Field)
	}
}

// TestHistoryVisibility: with "joined", a member reads from its join on, in
// replay and history pages; with "shared", everything.
func TestHistoryVisibility(t *testing.T) {
	for _, policy := range []string{proto.HistoryJoined, proto.HistoryShared} {
		t.Run(policy, func(t *testing.T) {
			s := startRelay(t, Config{})
			st := s.Store()
			alice := dial(t, s.Addr(), addUser(t, st, "alice"))
			bob := dial(t, s.Addr(), addUser(t, st, "bob"))
			room := alice.createRoom("r", proto.CreateRoom{History: policy})
			for i := 0; i < 5; i++ {
				alice.post(room, "before bob")
			}
			alice.mustOp(room, proto.KindInvite, bob.user)
			join := bob.mustOp(room, proto.KindJoin, "")
			for i := 0; i < 3; i++ {
				alice.post(room, "after bob")
			}
			first := uint64(1)
			if policy == proto.HistoryJoined {
				first = join.Seq
			}
			sub := bob.subscribe(room, 0)
			if sub.FirstSeq != first || sub.LastSeq != join.Seq+3 {
				t.Fatalf("subscribed %+v, want from %d head %d", sub, first, join.Seq+3)
			}
			evs := bob.exactEvents(room, int(join.Seq+3-first+1))
			if len(evs) == 0 || evs[0].Seq != first || evs[len(evs)-1].Seq != join.Seq+3 {
				t.Fatalf("replay %d events from seq %d; want %d..%d", len(evs), evs[0].Seq, first, join.Seq+3)
			}
			bob.send(&proto.History{RID: 1, Room: room, Before: join.Seq + 1, Limit: 3})
			page := expect[*proto.HistoryPage](bob)
			wantN, wantMore := 3, true
			if policy == proto.HistoryJoined {
				wantN, wantMore = 1, false
			}
			if len(page.Events) != wantN || page.More != wantMore || page.Events[len(page.Events)-1].Seq != join.Seq {
				t.Fatalf("history page %d events (more %v), want %d (more %v) ending at %d", len(page.Events), page.More, wantN, wantMore, join.Seq)
			}
			for i := 1; i < len(page.Events); i++ {
				if page.Events[i].Seq != page.Events[i-1].Seq+1 {
					t.Fatal("history page not ascending")
				}
			}
		})
	}
}

func TestSignalsAreEphemeral(t *testing.T) {
	s := startRelay(t, Config{})
	st := s.Store()
	alice := dial(t, s.Addr(), addUser(t, st, "alice"))
	bob := dial(t, s.Addr(), addUser(t, st, "bob"))
	eve := dial(t, s.Addr(), addUser(t, st, "eve"))
	room := alice.createRoom("r", proto.CreateRoom{})
	alice.mustOp(room, proto.KindInvite, bob.user)
	bob.mustOp(room, proto.KindJoin, "")
	alice.subscribe(room, 0)
	bob.subscribe(room, 0)
	head := bob.events(room, 3, time.Second)
	bob.send(&proto.Signal{Room: room, Kind: proto.SignalTyping, Value: "start"})
	sig := expect[*proto.Signal](alice)
	if sig.From != bob.user || sig.Kind != proto.SignalTyping || sig.Value != "start" {
		t.Fatalf("signal %+v", sig)
	}
	eve.send(&proto.Signal{Room: room, Kind: proto.SignalPresence, Value: "online"})
	eve.expectError(proto.CodeNotMember)
	bob.send(&proto.Signal{Room: room, Kind: proto.SignalPresence, Value: "away", From: alice.user})
	bob.expectError(proto.CodeForbidden)
	select {
	case f := <-bob.frames:
		t.Fatalf("bob got %#v; his own signal must not echo", f)
	case <-time.After(200 * time.Millisecond):
	}
	bob.send(&proto.History{RID: 3, Room: room})
	if page := expect[*proto.HistoryPage](bob); len(page.Events) != len(head) {
		t.Fatalf("history has %d events, want %d: signals are not stored", len(page.Events), len(head))
	}
}
