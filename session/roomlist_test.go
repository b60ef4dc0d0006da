package session

import (
	"context"
	"testing"
	"time"

	"mimichat/proto"
)

// staleList asks the relay for s's room list now, to apply later.
func staleList(t *testing.T, ctx context.Context, s *Session) roomList {
	t.Helper()
	c, err := s.live()
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.listRooms(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestStaleRoomListUndoesNoEvent: a room list answered before a change,
// and applied after the change's entry (the list is read on a goroutine of
// its own, the entries on the connection's), does not undo it: the entry
// is newer. The race is made by holding the list back until the entry is
// applied. A stale list used to put the old policy back (the UI then sent
// no read receipts in a room that allowed them again), and the old name,
// topic, role or membership until the next list, 15 s later.
func TestStaleRoomListUndoesNoEvent(t *testing.T) {
	type env struct {
		ctx        context.Context
		alice, bob *Session
		room       string // alice's, bob joined
	}
	for _, tc := range []struct {
		name string
		// subject is the session the stale list is applied to
		subject func(e env) *Session
		before  func(t *testing.T, e env)                   // before the list is asked for
		change  func(t *testing.T, e env) (OpResult, error) // after: the entry the list misses
		check   func(s *Session, rm Room) string            // what is wrong, "" if nothing
	}{{
		name:    "read receipts",
		subject: func(e env) *Session { return e.alice },
		before: func(t *testing.T, e env) {
			if _, err := e.alice.SetReadReceipts(e.ctx, e.room, false); err != nil {
				t.Fatal(err)
			}
		},
		change: func(t *testing.T, e env) (OpResult, error) { return e.alice.SetReadReceipts(e.ctx, e.room, true) },
		check: func(s *Session, rm Room) string {
			if !s.ReadReceipts(rm.ID) {
				return "read receipts off again"
			}
			return ""
		},
	}, {
		name:    "rename",
		subject: func(e env) *Session { return e.bob },
		change:  func(t *testing.T, e env) (OpResult, error) { return e.alice.SetName(e.ctx, e.room, "Renamed") },
		check: func(s *Session, rm Room) string {
			if rm.Name != "Renamed" {
				return "named " + rm.Name + " again"
			}
			return ""
		},
	}, {
		name:    "topic",
		subject: func(e env) *Session { return e.bob },
		before: func(t *testing.T, e env) {
			if _, err := e.alice.SetTopic(e.ctx, e.room, "old topic"); err != nil {
				t.Fatal(err)
			}
		},
		change: func(t *testing.T, e env) (OpResult, error) { return e.alice.SetTopic(e.ctx, e.room, "new topic") },
		check: func(s *Session, rm Room) string {
			if rm.Topic != "new topic" {
				return "topic " + rm.Topic + " again"
			}
			return ""
		},
	}, {
		name:    "role",
		subject: func(e env) *Session { return e.bob },
		change: func(t *testing.T, e env) (OpResult, error) {
			return e.alice.SetRole(e.ctx, e.room, e.bob.User(), proto.RoleModerator)
		},
		check: func(s *Session, rm Room) string {
			if rm.Role != proto.RoleModerator {
				return "role " + string(rm.Role) + " again"
			}
			return ""
		},
	}, {
		name:    "leave",
		subject: func(e env) *Session { return e.bob },
		change:  func(t *testing.T, e env) (OpResult, error) { return e.bob.Leave(e.ctx, e.room) },
		check: func(s *Session, rm Room) string {
			if rm.State != proto.StateNone {
				return "state " + string(rm.State) + " again"
			}
			return ""
		},
	}, {
		name:    "room made after the list",
		subject: func(e env) *Session { return e.alice },
		change: func(t *testing.T, e env) (OpResult, error) {
			return e.alice.CreateRoom(e.ctx, CreateRoomOptions{Name: "Fresh"})
		},
		check: func(s *Session, rm Room) string {
			if rm.State != proto.StateJoined {
				return "a joined room left the list: state " + string(rm.State)
			}
			return ""
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := startRelay(t)
			// No periodic list: only the held-back one (and the notices'
			// refreshes, which are fresh) reach the sessions.
			alice, bob := r.slowPollClient("alice"), r.slowPollClient("bob")
			online(t, alice)
			online(t, bob)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			e := env{ctx: ctx, alice: alice, bob: bob, room: newRoom(t, alice, bob)}
			if tc.before != nil {
				tc.before(t, e)
			}
			subject := tc.subject(e)
			cs := collect(subject)
			stale := staleList(t, ctx, subject)
			res, err := tc.change(t, e)
			if err != nil {
				t.Fatal(err)
			}
			cs.waitFor(t, "the change's entry", 10*time.Second, func() bool { return cs.lastSeq(res.Room) >= res.Seq })
			if rm, _ := subject.Room(res.Room); tc.check(subject, rm) != "" {
				t.Fatalf("before the stale list: %s", tc.check(subject, rm))
			}
			subject.applyRoomList(stale)
			rm, ok := subject.Room(res.Room)
			if !ok {
				t.Fatal("the room is gone")
			}
			if what := tc.check(subject, rm); what != "" {
				t.Fatalf("a room list older than the entry: %s", what)
			}
		})
	}
}

// TestRoomListNotStaleTakesAll: what a session missed and its entries will
// not bring (a new device's backfill starts after the rename, the topic
// and the role change; an invitee gets no entries) comes from a room list
// whose head is not older.
func TestRoomListNotStaleTakesAll(t *testing.T) {
	r := startRelay(t)
	alice, bob := r.slowPollClient("alice"), r.slowPollClient("bob")
	online(t, alice)
	online(t, bob)
	room := newRoom(t, alice, bob)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := alice.SetName(ctx, room, "Renamed"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.SetTopic(ctx, room, "new topic"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.SetRole(ctx, room, bob.User(), proto.RoleModerator); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		sendText(t, alice, room, "later")
	}
	devDir := t.TempDir()
	uri, tok := r.deviceToken("bob", devDir)
	dev, err := Open(Options{Relay: r.url(), User: uri, Token: tok, DataDir: devDir, Backfill: 1, RoomsPoll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	online(t, dev)
	rm, ok := dev.Room(room)
	want := Room{Name: "Renamed", Topic: "new topic", Role: proto.RoleModerator, State: proto.StateJoined}
	if !ok || rm.Name != want.Name || rm.Topic != want.Topic || rm.Role != want.Role || rm.State != want.State {
		t.Fatalf("new device's room %+v, want name, topic, role, state of %+v", rm, want)
	}
	if rm.Low <= 2 {
		t.Fatalf("the device's run starts at %d: its entries, not the list, could have said it", rm.Low)
	}
	// Once the device holds entries past an older list's head, a list as
	// new as them still replaces what they left unsaid.
	stale := staleList(t, ctx, dev)
	res, err := alice.SetTopic(ctx, room, "newer topic")
	if err != nil {
		t.Fatal(err)
	}
	cd := collect(dev)
	cd.waitFor(t, "the topic entry", 10*time.Second, func() bool { return cd.lastSeq(room) >= res.Seq })
	dev.applyRoomList(stale)
	fresh := staleList(t, ctx, dev)
	dev.applyRoomList(fresh)
	if rm, _ := dev.Room(room); rm.Topic != "newer topic" || rm.Name != "Renamed" || rm.Role != proto.RoleModerator {
		t.Fatalf("after an older and a current list: %+v", rm)
	}
	// An invitee is not subscribed: only lists tell it the room's name, and
	// a later list replaces what an earlier one said.
	carol := r.slowPollClient("carol")
	online(t, carol)
	if _, err := alice.Invite(ctx, room, carol.User()); err != nil {
		t.Fatal(err)
	}
	carol.applyRoomList(staleList(t, ctx, carol))
	if rm, _ := carol.Room(room); rm.State != proto.StateInvited || rm.Name != "Renamed" {
		t.Fatalf("invitee's room %+v", rm)
	}
	if _, err := alice.SetName(ctx, room, "Renamed again"); err != nil {
		t.Fatal(err)
	}
	carol.applyRoomList(staleList(t, ctx, carol))
	if rm, _ := carol.Room(room); rm.Name != "Renamed again" {
		t.Fatalf("a later list left the invitee's room named %q", rm.Name)
	}
}
