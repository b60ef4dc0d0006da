package relay

import (
	"context"
	"fmt"
	"testing"
	"time"

	"mimichat/proto"
)

// seedManyRooms stores n rooms owned by bob, each joined by alice and holding
// perRoom messages, through the store's bulk path, and returns a relay
// started on them with cfg plus alice's and bob's tokens and the rooms.
func seedManyRooms(t testing.TB, cfg Config, n, perRoom int) (*Server, string, string, []string) {
	t.Helper()
	dir := t.TempDir()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Domain("example.com"); err != nil {
		t.Fatal(err)
	}
	aliceTok, bobTok := addUser(t, st, "alice"), addUser(t, st, "bob")
	alice, bob := proto.UserURI("example.com", "alice"), proto.UserURI("example.com", "bob")
	rooms := make([]string, n)
	bulk := make([]BulkRoom, n)
	for i := range bulk {
		rooms[i] = proto.RoomURI("example.com", fmt.Sprintf("room-%05d", i))
		br := BulkRoom{URI: rooms[i], Name: fmt.Sprintf("Room %d", i), Owner: bob, Members: []string{alice}}
		for j := range perRoom {
			from := []string{bob, alice}[j%2]
			m := message(t, from, rooms[i], fmt.Sprintf("message %d of room %d", j, i))
			br.Messages = append(br.Messages, BulkMessage{From: from, ID: m.ID, Content: m.Content})
		}
		bulk[i] = br
	}
	if err := st.BulkLoad(context.Background(), bulk, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Data = dir
	return startRelay(t, cfg), aliceTok, bobTok, rooms
}

// roomLog checks one room's events as they arrive: seqs from since+1 on,
// each exactly once and in order.
type roomLog struct {
	next uint64 // the seq expected next
	head uint64 // the head subscribed_rooms gave
}

// nextFrame is the client's next frame; it fails the test at once if the
// relay closed the connection, or after the deadline.
func nextFrame(t testing.TB, c *client, deadline time.Time) proto.Frame {
	t.Helper()
	select {
	case f := <-c.frames:
		return f
	case <-c.closed:
		select {
		case f := <-c.frames:
			return f
		default:
		}
		t.Fatalf("%s was disconnected: %v", c.user, c.err)
	case <-time.After(time.Until(deadline)):
		t.Fatalf("%s: no frame before the deadline", c.user)
	}
	return nil
}

func (l *roomLog) take(t testing.TB, ev *proto.Event) {
	t.Helper()
	if ev.Seq != l.next {
		t.Fatalf("%s: got seq %d, want %d (gap or duplicate)", ev.Room, ev.Seq, l.next)
	}
	l.next++
}

// TestSubscribeRoomsManyRooms: a user in 1,200 rooms with history subscribes
// with subscribe_rooms frames, each room from its own cursor, over a
// connection whose send queue holds only 64 frames. It is not disconnected,
// every room replays from its cursor to its head exactly once and in order,
// and messages posted meanwhile follow without a gap.
func TestSubscribeRoomsManyRooms(t *testing.T) {
	const n, perRoom = 1200, 20
	s, aliceTok, bobTok, rooms := seedManyRooms(t, Config{SendQueue: 64, RatePerSec: -1}, n, perRoom)
	alice := dial(t, s.Addr(), aliceTok)
	bob := dial(t, s.Addr(), bobTok)
	const logLen = 4 + perRoom // create, name, invite, join, messages
	logs := map[string]*roomLog{}
	var batches []*proto.SubscribeRooms
	for i, room := range rooms {
		since := uint64(i % (logLen + 1)) // 0 (everything) up to the head (nothing)
		logs[room] = &roomLog{next: since + 1}
		if i%proto.MaxSubscribeRooms == 0 {
			batches = append(batches, &proto.SubscribeRooms{RID: alice.nextRID()})
		}
		b := batches[len(batches)-1]
		b.Rooms = append(b.Rooms, proto.RoomCursor{Room: room, Since: since})
	}
	for _, b := range batches {
		alice.send(b)
	}
	// Live messages into some rooms while the replays run.
	live := map[string]int{}
	go func() {
		for i := 0; i < n; i += 97 {
			m := message(t, bob.user, rooms[i], fmt.Sprintf("live %d", i))
			m.RID = bob.nextRID()
			bob.send(m)
		}
	}()
	for i := 0; i < n; i += 97 {
		live[rooms[i]] = 1
	}
	answered := 0
	want := 0
	for i := range rooms {
		want += logLen - int(uint64(i%(logLen+1))) + live[rooms[i]]
	}
	got := 0
	deadline := time.Now().Add(60 * time.Second)
	for answered < len(batches) || got < want {
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s: %d of %d answers, %d of %d events", answered, len(batches), got, want)
		}
		switch f := nextFrame(t, alice, deadline).(type) {
		case *proto.SubscribedRooms:
			answered++
			if len(f.Refused) != 0 {
				t.Fatalf("refused: %+v", f.Refused[0])
			}
			for _, rs := range f.Rooms {
				l := logs[rs.Room]
				if rs.LastSeq < logLen || rs.FirstSeq != 1 {
					t.Fatalf("%s: head %d from %d", rs.Room, rs.LastSeq, rs.FirstSeq)
				}
				l.head = rs.LastSeq
			}
		case *proto.Event:
			l := logs[f.Room]
			if l == nil {
				t.Fatalf("event of a room not subscribed: %s", f.Room)
			}
			l.take(t, f)
			got++
		default:
			t.Fatalf("unexpected %#v", f)
		}
	}
	for room, l := range logs {
		if l.next != uint64(logLen+live[room])+1 {
			t.Fatalf("%s: ended at %d, want %d", room, l.next-1, logLen+live[room])
		}
	}
	select {
	case <-alice.closed:
		t.Fatalf("alice was disconnected: %v", alice.err)
	default:
	}
	if k := s.metrics.slowKills.Load(); k != 0 {
		t.Fatalf("%d slow-reader disconnects", k)
	}
}

// TestManySingleSubscribesPaced: an older client (version 5) sends one
// subscribe per room for 1,200 rooms without waiting for the answers, over a
// send queue of 64 frames. Replay markers do not count against the queue:
// the relay stops reading until earlier replays are written, and the client
// gets every room's answer and log.
func TestManySingleSubscribesPaced(t *testing.T) {
	const n, perRoom = 1200, 5
	s, aliceTok, _, rooms := seedManyRooms(t, Config{SendQueue: 64, SubscribeBurst: 2 * n}, n, perRoom)
	alice := dialVersion(t, s.Addr(), aliceTok, 5)
	go func() {
		for _, room := range rooms {
			if alice.trySendRaw(mustEncode(t, &proto.Subscribe{RID: alice.nextRID(), Room: room})) != nil {
				return
			}
		}
	}()
	const logLen = 4 + perRoom
	logs := map[string]*roomLog{}
	for _, room := range rooms {
		logs[room] = &roomLog{next: 1}
	}
	subscribed, got := 0, 0
	deadline := time.Now().Add(60 * time.Second)
	for subscribed < n || got < n*logLen {
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s: %d of %d answers, %d of %d events", subscribed, n, got, n*logLen)
		}
		switch f := nextFrame(t, alice, deadline).(type) {
		case *proto.Subscribed:
			subscribed++
		case *proto.Event:
			logs[f.Room].take(t, f)
			got++
		default:
			t.Fatalf("unexpected %#v", f)
		}
	}
	if k := s.metrics.slowKills.Load(); k != 0 {
		t.Fatalf("%d slow-reader disconnects", k)
	}
}

// TestSubscribeRoomsRefusals: the rooms of a batch a single subscribe would
// refuse are refused in the answer, with the same codes, and the others are
// subscribed; a version 5 connection may not send subscribe_rooms, and a
// malformed batch is refused as a whole.
func TestSubscribeRoomsRefusals(t *testing.T) {
	s, aliceTok, bobTok, rooms := seedManyRooms(t, Config{}, 3, 2)
	st := s.Store()
	carol := dial(t, s.Addr(), addUser(t, st, "carol"))
	bob := dial(t, s.Addr(), bobTok)
	private := bob.createRoom("private", proto.CreateRoom{})
	alice := dial(t, s.Addr(), aliceTok)

	rid := alice.nextRID()
	alice.send(&proto.SubscribeRooms{RID: rid, Rooms: []proto.RoomCursor{
		{Room: rooms[0], Since: 0},
		{Room: proto.RoomURI("example.com", "nowhere"), Since: 0},
		{Room: private, Since: 0},
		{Room: rooms[1], Since: 99},
		{Room: rooms[2], Since: 6},
	}})
	ans := expect[*proto.SubscribedRooms](alice)
	if ans.RID != rid {
		t.Fatalf("rid %d, want %d", ans.RID, rid)
	}
	refused := map[string]proto.Code{}
	for _, r := range ans.Refused {
		refused[r.Room] = r.Code
	}
	wantRefused := map[string]proto.Code{proto.RoomURI("example.com", "nowhere"): proto.CodeNoSuchRoom,
		private: proto.CodeNotMember, rooms[1]: proto.CodeBadField}
	for room, code := range wantRefused {
		if refused[room] != code {
			t.Errorf("%s: refused %q, want %q", room, refused[room], code)
		}
	}
	if len(ans.Rooms) != 2 || ans.Rooms[0].Room != rooms[0] || ans.Rooms[1].Room != rooms[2] {
		t.Fatalf("subscribed %+v", ans.Rooms)
	}
	// rooms[0] replays its 6 events, rooms[2] nothing (since = head).
	evs := alice.exactEvents(rooms[0], 6)
	if evs[0].Seq != 1 || evs[5].Seq != 6 {
		t.Fatalf("replay %d..%d", evs[0].Seq, evs[5].Seq)
	}
	bob.post(rooms[2], "after")
	if ev := alice.events(rooms[2], 1, 5*time.Second); len(ev) != 1 || ev[0].Seq != 7 {
		t.Fatalf("live event of rooms[2]: %+v", ev)
	}

	old := dialVersion(t, s.Addr(), addUser(t, st, "dave"), 5)
	old.send(&proto.SubscribeRooms{RID: 1, Rooms: []proto.RoomCursor{{Room: rooms[0]}}})
	old.expectError(proto.CodeUnknownType)

	carol.send(&proto.SubscribeRooms{RID: 2, Rooms: []proto.RoomCursor{{Room: rooms[0]}, {Room: rooms[0]}}})
	if e := carol.expectError(proto.CodeBadField); e.Field != "rooms" {
		t.Fatalf("field %q", e.Field)
	}
}

func mustEncode(t testing.TB, f proto.Frame) []byte {
	t.Helper()
	data, err := proto.Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
