package relay

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"mimichat/proto"
	"mimichat/relay/store/jetstream"
)

// removedRoom sets up a room created by alice through node 1 with bob
// joined, waits until node 2 has loaded bob's membership, then (after
// prepare, run while node 2 still knows bob as a member) kicks bob through
// node 1 and posts two messages after the kick: the kick's seq and the last
// seq.
func removedRoom(t *testing.T, nodes []*Server, alice, bob *client, prepare func(room string)) (room string, kick, last uint64) {
	t.Helper()
	room = alice.createRoom("removal", proto.CreateRoom{Name: "Removal"})
	alice.mustOp(room, proto.KindInvite, bob.user)
	bob.mustOp(room, proto.KindJoin, "")
	n2 := nodes[1].hub
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r := n2.room(room); r != nil {
			r.mu.RLock()
			_, ref := r.readAccess(bob.user)
			r.mu.RUnlock()
			if ref == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("node 2 did not learn of bob's join within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	prepare(room)
	kick = alice.mustOp(room, proto.KindKick, bob.user).Seq
	alice.post(room, "after the kick, 1")
	last = alice.post(room, "after the kick, 2").Seq
	return room, kick, last
}

// noEventAfter fails if c receives an event of room after seq within wait.
func noEventAfter(t *testing.T, c *client, room string, seq uint64, wait time.Duration) {
	t.Helper()
	for _, e := range c.events(room, 1<<20, wait) {
		if e.Seq > seq {
			t.Fatalf("%s, removed at seq %d, received seq %d", c.user, seq, e.Seq)
		}
	}
}

// batchAnswer sends a subscribe_rooms of rooms and returns its answer.
func batchAnswer(t *testing.T, c *client, rooms ...proto.RoomCursor) *proto.SubscribedRooms {
	t.Helper()
	rid := c.nextRID()
	c.send(&proto.SubscribeRooms{RID: rid, Rooms: rooms})
	for {
		switch v := c.next(15 * time.Second).(type) {
		case *proto.SubscribedRooms:
			if v.RID != rid {
				t.Fatalf("subscribed_rooms for rid %d, want %d", v.RID, rid)
			}
			return v
		case *proto.ErrorFrame:
			t.Fatalf("%s subscribe_rooms: %s: %s", c.user, v.Code, v.Reason)
		default:
			c.stash = append(c.stash, v)
		}
	}
}

func refusedCode(ans *proto.SubscribedRooms, room string) (proto.Code, bool) {
	for _, r := range ans.Refused {
		if r.Room == room {
			return r.Code, true
		}
	}
	return "", false
}

// TestClusterBatchSubscribeAfterRemoval: bob is kicked through node 1
// while node 2, which no client of the room follows, hears nothing of it
// (it ignores state announcements, as if lost: core NATS does not
// guarantee them). A batched subscribe through node 2 is decided on the
// room's state as the log has it: bob is refused not_member, as a single
// subscribe refuses him, and receives no event of the room. It used to
// decide from node 2's memory, which still had bob joined, and admit him.
func TestClusterBatchSubscribeAfterRemoval(t *testing.T) {
	nodes := startCluster(t, 3)
	db := nodes[0].Store()
	alice := dial(t, nodes[0].Addr(), addUser(t, db, "alice"))
	bobTok := addUser(t, db, "bob")
	bob1 := dial(t, nodes[0].Addr(), bobTok)
	other := alice.createRoom("other", proto.CreateRoom{Name: "Other"})
	alice.mustOp(other, proto.KindInvite, bob1.user)
	bob1.mustOp(other, proto.KindJoin, "")
	room, kick, last := removedRoom(t, nodes, alice, bob1, func(string) { nodes[1].hub.cl.ignoreState.Store(true) })

	bob2 := dial(t, nodes[1].Addr(), bobTok)
	ans := batchAnswer(t, bob2, proto.RoomCursor{Room: other}, proto.RoomCursor{Room: room})
	if code, ok := refusedCode(ans, room); !ok || code != proto.CodeNotMember {
		t.Errorf("bob, kicked at seq %d through node 1, subscribing in a batch through node 2: refused %v %q, want %s (subscribed %+v)",
			kick, ok, code, proto.CodeNotMember, ans.Rooms)
	}
	if len(ans.Rooms) != 1 || ans.Rooms[0].Room != other {
		t.Errorf("subscribed %+v, want only %s", ans.Rooms, other)
	}
	noEventAfter(t, bob2, room, 0, time.Second)
	if t.Failed() {
		t.Logf("kick at seq %d, last seq %d", kick, last)
	}
}

// TestClusterSubscribeRefusedWhileStateBehind: a node that cannot bring a
// room's state up to the log's head (here every node's reload fails on a
// corrupt member record; a leader that does not answer, or a loaded
// writer past freshWait, does the same) must not decide admission from
// the state it has. Node 2 follows the room, hears the kick of bob and the
// two messages after it (its head moves), and its reload fails; bob, with a
// cursor at his kick, subscribes through node 2, alone and in a batch. Both
// are refused with a retryable error, and bob receives nothing after the
// kick. Before, node 2 answered from the state it had after 5 s: bob was
// admitted and replayed the messages sent after his removal.
func TestClusterSubscribeRefusedWhileStateBehind(t *testing.T) {
	nodes := startCluster(t, 3)
	db := nodes[0].Store()
	alice := dial(t, nodes[0].Addr(), addUser(t, db, "alice"))
	bobTok := addUser(t, db, "bob")
	bob1 := dial(t, nodes[0].Addr(), bobTok)
	bob2 := dial(t, nodes[1].Addr(), bobTok)
	watcher := dial(t, nodes[1].Addr(), bobTok)
	room, kick, last := removedRoom(t, nodes, alice, bob1, func(room string) {
		watcher.subscribe(room, 0) // node 2 follows the room
		corruptMember(t, nodes[0], room)
	})
	// Node 2 shows the events (its head moves) but cannot reload.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := nodes[1].hub.room(room)
		r.mu.RLock()
		head, stateSeq := r.head, r.stateSeq
		r.mu.RUnlock()
		if head >= last {
			if stateSeq >= kick {
				t.Fatalf("node 2 reloaded the room's state (seq %d) despite the corrupt record", stateSeq)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 2's head is %d 10 s after seq %d was stored", head, last)
		}
		time.Sleep(10 * time.Millisecond)
	}

	bob2.send(&proto.Subscribe{RID: bob2.nextRID(), Room: room, Since: kick})
	for {
		f := bob2.next(15 * time.Second)
		if ef, ok := f.(*proto.ErrorFrame); ok {
			if ef.Code != proto.CodeInternal {
				t.Errorf("single subscribe: %s (%s), want %s", ef.Code, ef.Reason, proto.CodeInternal)
			}
			break
		}
		if sub, ok := f.(*proto.Subscribed); ok {
			t.Errorf("bob, kicked at seq %d, admitted through node 2 with its state behind (last seq %d)", kick, sub.LastSeq)
			break
		}
		bob2.stash = append(bob2.stash, f)
	}
	ans := batchAnswer(t, bob2, proto.RoomCursor{Room: room, Since: kick})
	if code, ok := refusedCode(ans, room); !ok || code != proto.CodeInternal {
		t.Errorf("batched subscribe: refused %v %q, want %s (subscribed %+v)", ok, code, proto.CodeInternal, ans.Rooms)
	}
	noEventAfter(t, bob2, room, kick, time.Second)
}

// corruptMember stores a member record of room that no node can decode,
// so that every reload of the rooms' state fails.
func corruptMember(t *testing.T, node *Server, room string) {
	t.Helper()
	js, ok := node.db.(*jetstream.Store)
	if !ok {
		t.Fatal("not a JetStream store")
	}
	jsc, err := natsjs.New(js.Conn())
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := jsc.Publish(ctx, "m.mem."+b64([]byte(room))+"."+b64([]byte("corrupt")), []byte("{not json")); err != nil {
		t.Fatal(err)
	}
}
