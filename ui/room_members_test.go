package ui

import (
	"context"
	"slices"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/session"
)

// membersRoom is a real relay with an open room owned by alice where bob
// and carol are members, and bob's UI (Update driven by the test: the
// commands it returns are not run, so the test delivers the RoomInfo
// answers itself, when it means to).
type membersRoom struct {
	alice, bob, carol, dave *session.Session
	room                    string
	m                       *Model
	r                       *room
}

func newMembersRoom(t *testing.T) *membersRoom {
	t.Helper()
	rel := startRelay(t)
	mr := &membersRoom{alice: rel.session("alice"), bob: rel.session("bob"), carol: rel.session("carol"),
		dave: rel.session("dave")}
	mr.room = openRoom(t, mr.alice, "crew", "Crew", mr.bob, mr.carol)
	mr.m = benchModel(t, mr.bob, 20)
	pumpEvents(t, mr.m, mr.bob, "the room", func() bool {
		mr.r = mr.m.byID[mr.room]
		return mr.r != nil
	})
	return mr
}

// answer is a RoomInfo answer for the room, made now.
func (mr *membersRoom) answer(t *testing.T) membersMsg {
	t.Helper()
	msg := mr.m.fetchMembers(mr.room)().(membersMsg)
	if msg.err != nil {
		t.Fatal(msg.err)
	}
	return msg
}

// applyUpTo feeds bob's events to the UI until it applied seq.
func (mr *membersRoom) applyUpTo(t *testing.T, seq uint64) {
	t.Helper()
	pumpEvents(t, mr.m, mr.bob, "the entries", func() bool { return mr.r.last >= seq })
}

// joinAgain has s, just removed, join the room again once its session
// knows it was removed (it joins an encrypted room's group afresh then).
func (mr *membersRoom) joinAgain(ctx context.Context, t *testing.T, s *session.Session) (session.OpResult, error) {
	t.Helper()
	for {
		if info, ok := s.Room(mr.room); !ok || info.State != proto.StateJoined {
			return s.Join(ctx, mr.room)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never saw itself removed", s.User())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (mr *membersRoom) member(user string) (proto.Member, bool) {
	i := slices.IndexFunc(mr.r.members, func(mem proto.Member) bool { return mem.User == user })
	if i < 0 {
		return proto.Member{}, false
	}
	return mr.r.members[i], true
}

// TestStaleMembersAnswerKeepsNewerMembers: a RoomInfo answer made before a
// membership change and delivered after the UI applied the change's entry
// does not undo the change (a kicked member back in the list, a new one
// gone); the list then equals what the relay answers. Each change is
// tried with the stale answer as the room's first answer, after an
// earlier answer, and overtaken by a newer answer.
func TestStaleMembersAnswerKeepsNewerMembers(t *testing.T) {
	type want struct {
		user    string
		listed  bool
		role    proto.Role
		state   proto.State
		inPanel bool // in the member pane and dialog (roomMembers)
	}
	for _, tc := range []struct {
		name   string
		change func(ctx context.Context, t *testing.T, mr *membersRoom) (proto.Kind, uint64, error) // returns the last op's kind and seq
		want   func(mr *membersRoom) want
	}{{
		name: "kick",
		change: func(ctx context.Context, t *testing.T, mr *membersRoom) (proto.Kind, uint64, error) {
			res, err := mr.alice.Kick(ctx, mr.room, mr.carol.User(), "spam")
			return proto.KindKick, res.Seq, err
		},
		want: func(mr *membersRoom) want { return want{user: mr.carol.User()} },
	}, {
		name: "leave",
		change: func(ctx context.Context, t *testing.T, mr *membersRoom) (proto.Kind, uint64, error) {
			res, err := mr.carol.Leave(ctx, mr.room)
			return proto.KindLeave, res.Seq, err
		},
		want: func(mr *membersRoom) want { return want{user: mr.carol.User()} },
	}, {
		name: "ban",
		change: func(ctx context.Context, t *testing.T, mr *membersRoom) (proto.Kind, uint64, error) {
			res, err := mr.alice.Ban(ctx, mr.room, mr.carol.User(), "flood")
			return proto.KindBan, res.Seq, err
		},
		want: func(mr *membersRoom) want {
			return want{user: mr.carol.User(), listed: true, role: proto.RoleMember, state: proto.StateBanned}
		},
	}, {
		name: "join",
		change: func(ctx context.Context, t *testing.T, mr *membersRoom) (proto.Kind, uint64, error) {
			res, err := mr.dave.Join(ctx, mr.room)
			return proto.KindJoin, res.Seq, err
		},
		want: func(mr *membersRoom) want {
			return want{user: mr.dave.User(), listed: true, role: proto.RoleMember, state: proto.StateJoined, inPanel: true}
		},
	}, {
		name: "invite",
		change: func(ctx context.Context, t *testing.T, mr *membersRoom) (proto.Kind, uint64, error) {
			res, err := mr.alice.Invite(ctx, mr.room, mr.dave.User())
			return proto.KindInvite, res.Seq, err
		},
		want: func(mr *membersRoom) want {
			return want{user: mr.dave.User(), listed: true, role: proto.RoleMember, state: proto.StateInvited}
		},
	}, {
		name: "role",
		change: func(ctx context.Context, t *testing.T, mr *membersRoom) (proto.Kind, uint64, error) {
			res, err := mr.alice.SetRole(ctx, mr.room, mr.carol.User(), proto.RoleModerator)
			return proto.KindRole, res.Seq, err
		},
		want: func(mr *membersRoom) want {
			return want{user: mr.carol.User(), listed: true, role: proto.RoleModerator, state: proto.StateJoined, inPanel: true}
		},
	}, {
		name: "kick then join again",
		change: func(ctx context.Context, t *testing.T, mr *membersRoom) (proto.Kind, uint64, error) {
			if _, err := mr.alice.Kick(ctx, mr.room, mr.carol.User(), "cool off"); err != nil {
				return "", 0, err
			}
			res, err := mr.joinAgain(ctx, t, mr.carol)
			return proto.KindJoin, res.Seq, err
		},
		want: func(mr *membersRoom) want {
			return want{user: mr.carol.User(), listed: true, role: proto.RoleMember, state: proto.StateJoined, inPanel: true}
		},
	}} {
		for _, order := range []string{"first answer", "after an answer", "overtaken"} {
			t.Run(tc.name+"/"+order, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				defer cancel()
				mr := newMembersRoom(t)
				if order == "first answer" && mr.r.membersLoaded {
					t.Fatal("the room has members before any answer")
				}
				if order == "after an answer" {
					mr.m.Update(mr.answer(t))
				}
				stale := mr.answer(t)
				mr.applyUpTo(t, stale.state.LastSeq) // the UI is where the answer is
				kind, seq, err := tc.change(ctx, t, mr)
				if err != nil {
					t.Fatal(err)
				}
				mr.applyUpTo(t, seq)
				w := tc.want(mr)
				if order == "overtaken" {
					mr.m.Update(mr.answer(t))
				}
				mr.m.Update(stale)
				if !mr.r.membersLoaded {
					t.Fatal("the answer was not taken")
				}
				got, listed := mr.member(w.user)
				if listed != w.listed || listed && (got.Role != w.role || got.State != w.state) {
					t.Fatalf("after a %s at %d, an answer at %d left %+v (listed %v), want %+v",
						kind, seq, stale.state.LastSeq, got, listed, w)
				}
				inPanel := slices.ContainsFunc(mr.m.roomMembers(mr.r), func(mem proto.Member) bool { return mem.User == w.user })
				if inPanel != w.inPanel {
					t.Errorf("%s in the member pane: %v, want %v", w.user, inPanel, w.inPanel)
				}
				// what the UI holds is what the relay answers now, and a
				// current answer is taken
				now := mr.answer(t)
				if !slices.Equal(mr.r.members, now.state.Members) {
					t.Errorf("the UI holds %+v, the relay answers %+v", mr.r.members, now.state.Members)
				}
				mr.m.Update(now)
				if mr.r.membersSeq != now.state.LastSeq || !slices.Equal(mr.r.members, now.state.Members) {
					t.Errorf("a current answer (head %d) was not taken: seq %d, members %+v",
						now.state.LastSeq, mr.r.membersSeq, mr.r.members)
				}
			})
		}
	}
}

// TestMembersAnswerAheadOfEvents: an answer made after membership changes
// whose entries the UI has not applied yet is taken at once, and applying
// those entries afterwards, one frame each, never takes the list back: a
// member kicked and back again is not dropped in between.
func TestMembersAnswerAheadOfEvents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	mr := newMembersRoom(t)
	first := mr.answer(t)
	mr.applyUpTo(t, first.state.LastSeq)
	mr.m.Update(first)
	if _, err := mr.alice.Kick(ctx, mr.room, mr.carol.User(), "cool off"); err != nil {
		t.Fatal(err)
	}
	if _, err := mr.joinAgain(ctx, t, mr.carol); err != nil {
		t.Fatal(err)
	}
	res, err := mr.dave.Join(ctx, mr.room)
	if err != nil {
		t.Fatal(err)
	}
	ahead := mr.answer(t) // before bob's UI hears of the entries
	mr.m.Update(ahead)
	want := ahead.state.Members
	if !slices.Equal(mr.r.members, want) {
		t.Fatalf("an answer ahead of the events left %+v, want %+v", mr.r.members, want)
	}
	deadline := time.After(10 * time.Second)
	for mr.r.last < res.Seq {
		var ev session.Event
		select {
		case ev = <-mr.bob.Events():
		case <-deadline:
			t.Fatal("timed out waiting for the entries")
		}
		es, ok := ev.(session.EntriesEvent)
		if !ok {
			mr.m.Update(eventsMsg{evs: []session.Event{ev}})
			continue
		}
		for _, e := range es.Entries { // one entry per frame
			mr.m.Update(eventsMsg{evs: []session.Event{session.EntriesEvent{Room: es.Room, Entries: []session.Entry{e}}}})
			if es.Room == mr.room && !slices.Equal(mr.r.members, want) {
				t.Fatalf("after the %s at %d the UI holds %+v, want %+v", e.Kind, e.Seq, mr.r.members, want)
			}
		}
	}
}
