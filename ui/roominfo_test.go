package ui

import (
	"context"
	"testing"
	"time"

	"mimichat/session"
)

// pumpEvents feeds the session's events to m's Update until cond holds.
// The commands Update returns are not run: a test delivers the RoomInfo
// answers itself, in the order it means to test.
func pumpEvents(t *testing.T, m *Model, s *session.Session, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		got := make(chan eventsMsg, 1)
		go func() { got <- waitEvents(s.Events())().(eventsMsg) }()
		select {
		case msg := <-got:
			m.Update(msg)
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestStaleRoomInfoKeepsNewerNameAndTopic: a RoomInfo answer made before a
// rename (topic change) and delivered after the UI applied the rename's
// entry (the requests run on goroutines of their own, beside the events)
// does not put the old name or topic back; an answer not older than what
// the UI applied still sets them. The race is made by holding the answer
// back until the entry is applied.
func TestStaleRoomInfoKeepsNewerNameAndTopic(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(ctx context.Context, s *session.Session, room string) error // before the stale answer
		change func(ctx context.Context, s *session.Session, room string) error // after it
		shown  func(r *room) string
		want   string
	}{{
		name: "rename",
		change: func(ctx context.Context, s *session.Session, room string) error {
			_, err := s.SetName(ctx, room, "New name")
			return err
		},
		shown: func(r *room) string { return r.info.Name },
		want:  "New name",
	}, {
		name: "topic",
		before: func(ctx context.Context, s *session.Session, room string) error {
			_, err := s.SetTopic(ctx, room, "old topic")
			return err
		},
		change: func(ctx context.Context, s *session.Session, room string) error {
			_, err := s.SetTopic(ctx, room, "new topic")
			return err
		},
		shown: func(r *room) string { return r.info.Topic },
		want:  "new topic",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			rel := startRelay(t)
			alice, bob := rel.session("alice"), rel.session("bob")
			roomID := openRoom(t, alice, "info", "Old name", bob)
			if tc.before != nil {
				if err := tc.before(ctx, alice, roomID); err != nil {
					t.Fatal(err)
				}
			}
			m := benchModel(t, bob, 20)
			var r *room
			pumpEvents(t, m, bob, "the room as it was", func() bool {
				r = m.byID[roomID]
				return r != nil && r.info.Name == "Old name" && (tc.before == nil || r.info.Topic == "old topic")
			})
			for i, rr := range m.rooms {
				if rr == r && m.current() != r {
					m.switchRoom(i)
				}
			}
			stale := m.fetchMembers(roomID)()
			if st := stale.(membersMsg); st.err != nil {
				t.Fatal(st.err)
			}
			if err := tc.change(ctx, alice, roomID); err != nil {
				t.Fatal(err)
			}
			pumpEvents(t, m, bob, "the change's entry", func() bool { return tc.shown(r) == tc.want })
			m.Update(stale)
			if got := tc.shown(r); got != tc.want {
				t.Errorf("a stale RoomInfo answer put back %q, want %q", got, tc.want)
			}
			// a current answer still sets them
			m.Update(m.fetchMembers(roomID)())
			if got := tc.shown(r); got != tc.want {
				t.Errorf("a current RoomInfo answer set %q, want %q", got, tc.want)
			}
		})
	}
}

// bobShowsOldName starts a relay with alice's room "Old name" and bob in
// it, and bob's UI showing that name.
func bobShowsOldName(t *testing.T) (alice, bob *session.Session, m *Model, r *room, roomID string) {
	t.Helper()
	rel := startRelay(t)
	alice, bob = rel.session("alice"), rel.session("bob")
	roomID = openRoom(t, alice, "info", "Old name", bob)
	m = benchModel(t, bob, 20)
	pumpEvents(t, m, bob, "the room", func() bool {
		r = m.byID[roomID]
		return r != nil && r.info.Name == "Old name"
	})
	return alice, bob, m, r, roomID
}

// TestNewerRoomInfoSetsNameAndTopic: an answer made after a rename and a
// topic change that the UI has not applied yet (their entries are still on
// their way) is not older than what the UI shows, so it sets both at once.
func TestNewerRoomInfoSetsNameAndTopic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	alice, _, m, r, roomID := bobShowsOldName(t)
	if _, err := alice.SetName(ctx, roomID, "New name"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.SetTopic(ctx, roomID, "new topic"); err != nil {
		t.Fatal(err)
	}
	m.Update(m.fetchMembers(roomID)()) // before bob's UI hears of the entries
	if r.info.Name != "New name" || r.info.Topic != "new topic" {
		t.Fatalf("a newer RoomInfo answer left name %q topic %q", r.info.Name, r.info.Topic)
	}
}

// TestOlderRoomEventKeepsNewerName: the session's view of the room, queued
// before a RoomInfo answer made after a later rename was taken (the
// answer is ahead of the events), does not put the older name back when
// the UI applies it; the later rename's own entry then keeps the newer one.
func TestOlderRoomEventKeepsNewerName(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	alice, bob, m, r, roomID := bobShowsOldName(t)
	if _, err := alice.SetName(ctx, roomID, "Between"); err != nil {
		t.Fatal(err)
	}
	// hold back bob's events up to the session's RoomEvent for it
	var held []session.Event
	for seen := false; !seen; {
		select {
		case ev := <-bob.Events():
			held = append(held, ev)
			re, ok := ev.(session.RoomEvent)
			seen = ok && re.Room.ID == roomID && re.Room.Name == "Between"
		case <-ctx.Done():
			t.Fatal("timed out waiting for the rename's RoomEvent")
		}
	}
	last, err := alice.SetName(ctx, roomID, "New name")
	if err != nil {
		t.Fatal(err)
	}
	m.Update(m.fetchMembers(roomID)()) // ahead of the held events
	if r.info.Name != "New name" {
		t.Fatalf("a newer RoomInfo answer left %q", r.info.Name)
	}
	m.Update(eventsMsg{evs: held})
	if r.info.Name != "New name" {
		t.Errorf("the session's older view put back %q, want %q", r.info.Name, "New name")
	}
	pumpEvents(t, m, bob, "the second rename's entry", func() bool { return r.last >= last.Seq })
	if r.info.Name != "New name" {
		t.Errorf("after the second rename's entry the name is %q", r.info.Name)
	}
}
