package session

import (
	"sync"
	"testing"
	"time"

	"mimichat/proto"
)

// TestRejoinBeforeTheRemovalArrives: carol, kicked (or banned, then
// unbanned) from an open encrypted room, joins it again before her session
// has applied the event that removed her: her relay connection holds that
// event back until just after the relay refused her join (release
// "error"), or until just after the relay answered the subscription that
// follows her rejoin (release "subscribed"). Her device's group state is
// stale then, and the relay refuses a join without MLS from a device not
// in the group: the session joins by external commit instead (before, Join
// failed with the refusal). In the second order the subscription from her
// old cursor replays the removal, where the relay ends it: applying the
// removal, the session subscribes again from past it (before, the room was
// kept as subscribed and nothing more of it arrived). Either way carol
// reads and writes the room again.
func TestRejoinBeforeTheRemovalArrives(t *testing.T) {
	for _, removal := range []proto.Kind{proto.KindKick, proto.KindBan} {
		for _, release := range []proto.Type{proto.TError, proto.TSubscribed} {
			t.Run(string(removal)+"/after-"+string(release), func(t *testing.T) {
				testRejoinBeforeTheRemoval(t, removal, release)
			})
		}
	}
}

func testRejoinBeforeTheRemoval(t *testing.T, removal proto.Kind, release proto.Type) {
	r := startRelay(t)
	alice := r.client("alice", "")
	online(t, alice)
	ca := collect(alice)
	// held is the removal, kept from carol until a frame of type release
	// passes; holding is set once she should not see it yet.
	var (
		mu       sync.Mutex
		holding  bool
		held     [][]byte
		released bool
	)
	proxy := startTamperProxy(t, r.url(), func(f proto.Frame, raw []byte) [][]byte {
		mu.Lock()
		defer mu.Unlock()
		if !holding {
			return [][]byte{raw}
		}
		if e, ok := f.(*proto.Event); ok && e.Kind == removal {
			held = append(held, raw)
			return nil
		}
		if f.FrameType() == release && len(held) > 0 {
			out := append([][]byte{raw}, held...)
			holding, held, released = false, nil, true
			return out
		}
		return [][]byte{raw}
	})
	dir := t.TempDir()
	uri, tok := r.deviceToken("carol", dir)
	carol, err := Open(Options{Relay: proxy.url(), User: uri, Token: tok, DataDir: dir,
		Backoff: Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}, RoomsPoll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { carol.Close() })
	online(t, carol)
	cc := collect(carol)

	res, err := alice.CreateRoom(ctx10(t), CreateRoomOptions{Name: "Open room", Join: proto.JoinOpen})
	if err != nil {
		t.Fatal(err)
	}
	room := res.Room
	if _, err := carol.Join(ctx10(t), room); err != nil {
		t.Fatal(err)
	}
	waitEpochs(t, room, alice, carol)
	sendText(t, alice, room, "before the removal")
	waitText(t, cc, room, "before the removal")

	mu.Lock()
	holding = true
	mu.Unlock()
	if removal == proto.KindKick {
		_, err = alice.Kick(ctx10(t), room, carol.User(), "out")
	} else if _, err = alice.Ban(ctx10(t), room, carol.User(), "out"); err == nil {
		_, err = alice.Unban(ctx10(t), room, carol.User())
	}
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := len(held)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("carol's connection never carried the removal")
		}
	}
	if rc := carol.Crypto(room); rc.Removed {
		t.Fatalf("carol's session has the removal it was not sent: %+v", rc)
	}

	if _, err := carol.Join(ctx10(t), room); err != nil {
		t.Fatalf("carol joins again before her session has the %s: %v", removal, err)
	}
	mu.Lock()
	ok := released
	mu.Unlock()
	if !ok {
		t.Fatalf("no %s frame released the held %s: the join did not go the way the test means", release, removal)
	}
	waitEpochs(t, room, alice, carol)
	sendText(t, alice, room, "after the rejoin")
	waitText(t, cc, room, "after the rejoin")
	sendText(t, carol, room, "carol is back")
	waitText(t, ca, room, "carol is back")
	if rc := carol.Crypto(room); rc.Removed || rc.Broken != "" {
		t.Fatalf("carol's device after the rejoin: %+v", rc)
	}
}
