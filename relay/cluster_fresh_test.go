package relay

import (
	"strings"
	"testing"
	"time"

	"mimichat/proto"
)

// TestClusterMembershipThroughAnotherNode: a node answers membership
// questions (subscribe, submit, room operations) from the room's state as
// the replicated log has it, even when it has already fanned out the events
// that changed that state and has not reloaded the state yet. Here node 2
// follows the room (bob subscribes there) and ignores every state
// announcement (as if late or lost; core NATS does not guarantee them, and
// their callback may run after the fan subject's), so what it knows of the
// later membership changes comes only from the events announced on the
// room's fan subject. Carol, invited and joined through node 1, is admitted
// through node 2 (she used to be refused not_member: node 2's head had
// moved with the announced events, so it thought it was not behind), and
// bob, kicked through node 1, is refused through node 2.
func TestClusterMembershipThroughAnotherNode(t *testing.T) {
	nodes := startCluster(t, 3)
	db := nodes[0].Store()
	alice := dial(t, nodes[0].Addr(), addUser(t, db, "alice"))
	bobTok, carolTok := addUser(t, db, "bob"), addUser(t, db, "carol")
	bob := dial(t, nodes[1].Addr(), bobTok)
	carol1, carol2 := dial(t, nodes[0].Addr(), carolTok), dial(t, nodes[1].Addr(), carolTok)
	room := alice.createRoom("fresh", proto.CreateRoom{Name: "Fresh"})

	// An invite through node 1, the join through node 2 at once: node 2
	// catches up before its writer decides.
	alice.mustOp(room, proto.KindInvite, bob.user)
	bob.mustOp(room, proto.KindJoin, "")
	bob.subscribe(room, 0)
	n2 := nodes[1].hub
	n2.cl.ignoreState.Store(true)

	// waitShown waits until node 2 has fanned out seq (its head).
	waitShown := func(seq uint64) {
		t.Helper()
		r := n2.room(room)
		deadline := time.Now().Add(10 * time.Second)
		for {
			r.mu.RLock()
			head := r.head
			r.mu.RUnlock()
			if head >= seq {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("node 2's head is %d 10 s after seq %d was stored", head, seq)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	subscribeOrRefusal := func(c *client) (*proto.Subscribed, *proto.ErrorFrame) {
		t.Helper()
		c.send(&proto.Subscribe{RID: c.nextRID(), Room: room})
		for {
			switch v := c.next(10 * time.Second).(type) {
			case *proto.Subscribed:
				return v, nil
			case *proto.ErrorFrame:
				return nil, v
			}
		}
	}

	alice.mustOp(room, proto.KindInvite, carol1.user)
	joined := carol1.mustOp(room, proto.KindJoin, "")
	waitShown(joined.Seq)
	if _, ef := subscribeOrRefusal(carol2); ef != nil {
		t.Fatalf("carol, joined at seq %d through node 1, subscribing through node 2: %s: %s", joined.Seq, ef.Code, ef.Reason)
	}
	if a := carol2.post(room, "hello through node 2"); a.Seq <= joined.Seq {
		t.Fatalf("carol's post through node 2 acked at seq %d, not after her join %d", a.Seq, joined.Seq)
	}

	kicked := alice.mustOp(room, proto.KindKick, bob.user)
	waitShown(kicked.Seq)
	if sub, ef := subscribeOrRefusal(bob); ef == nil {
		t.Fatalf("bob, kicked at seq %d through node 1, admitted through node 2 (last seq %d)", kicked.Seq, sub.LastSeq)
	} else if ef.Code != proto.CodeNotMember {
		t.Fatalf("bob, kicked, subscribing through node 2: %s (%s), want %s", ef.Code, ef.Reason, proto.CodeNotMember)
	}
	s := message(t, bob.user, room, "after the kick")
	s.RID = bob.nextRID()
	bob.send(s)
	bob.expectError(proto.CodeNotMember)
}

// TestClusterStaleNodeRefusesReads: a node whose state of a room stays
// behind the log (its reloads fail) refuses history and room_info about
// the room, retryably, once it has waited for its catch-up, instead of
// answering from that state: there bob, kicked through node 1, is still a
// member, and node 2 gave him the room's history, posts after his removal
// included, and its member list. Once node 2 can reload, the retry is
// refused as bob is: not a member.
func TestClusterStaleNodeRefusesReads(t *testing.T) {
	nodes := startCluster(t, 3)
	n2 := nodes[1].hub
	n2.cl.wait = 300 * time.Millisecond // before any request reads it
	db := nodes[0].Store()
	alice := dial(t, nodes[0].Addr(), addUser(t, db, "alice"))
	bob := dial(t, nodes[1].Addr(), addUser(t, db, "bob"))
	room, kick, last := removedRoom(t, nodes, alice, bob, func(string) { n2.cl.failReload.Store(true) })

	refusal := func(f proto.Frame) *proto.ErrorFrame {
		t.Helper()
		bob.send(f)
		for {
			switch v := bob.next(10 * time.Second).(type) {
			case *proto.ErrorFrame:
				return v
			case *proto.HistoryPage:
				for _, e := range v.Events {
					if e.Seq > kick {
						t.Fatalf("bob, kicked at seq %d, was given seq %d (of %d) by the node behind", kick, e.Seq, last)
					}
				}
				t.Fatalf("bob, kicked at seq %d, was given a history page by the node behind", kick)
			case *proto.RoomState:
				t.Fatalf("bob, kicked at seq %d, was given the room's state (%d members) by the node behind", kick, len(v.Members))
			}
		}
	}
	for _, f := range []proto.Frame{
		&proto.History{RID: bob.nextRID(), Room: room, Limit: 50},
		&proto.RoomInfo{RID: bob.nextRID(), Room: room},
	} {
		ef := refusal(f)
		if ef.Code != proto.CodeInternal || !strings.Contains(ef.Reason, "not caught up") {
			t.Fatalf("%T from the node behind: %s: %s, want a retryable internal refusal", f, ef.Code, ef.Reason)
		}
	}

	n2.cl.failReload.Store(false)
	for _, f := range []proto.Frame{
		&proto.History{RID: bob.nextRID(), Room: room, Limit: 50},
		&proto.RoomInfo{RID: bob.nextRID(), Room: room},
	} {
		if ef := refusal(f); ef.Code != proto.CodeNotMember {
			t.Fatalf("%T once node 2 caught up: %s: %s, want not_member", f, ef.Code, ef.Reason)
		}
	}
}
