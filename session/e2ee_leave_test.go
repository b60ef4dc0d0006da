package session

import (
	"testing"
	"time"

	"mimichat/proto"
)

// TestLeaveAfterLosingGroupState: a user whose only device lost its MLS
// state of a room still leaves it: the device rejoins by external commit
// (removing its old leaf in the same commit) and sends its SelfRemove; the
// others see the leave, commit it, and the relay delivers nothing more of
// the room to the leaver.
func TestLeaveAfterLosingGroupState(t *testing.T) {
	for _, name := range []string{"at once", "after the rejoin"} {
		t.Run(name, func(t *testing.T) {
			r := startRelay(t)
			alice, bob := r.client("alice", ""), r.client("bob", "")
			carolDir := t.TempDir()
			carol := r.client("carol", carolDir)
			_, cb := collect(alice), collect(bob)
			collect(carol)
			for _, s := range []*Session{alice, bob, carol} {
				online(t, s)
			}
			room := newRoom(t, alice, bob, carol)
			waitEpochs(t, room, alice, bob, carol)
			carol.Close()
			// Carol's device loses its state of the room (a damaged or
			// restored cache): its leaf is still in the group.
			carol = r.client("carol", carolDir)
			if err := carol.Store().DeleteGroup(room); err != nil {
				t.Fatal(err)
			}
			cc := collect(carol)
			online(t, carol)
			if name == "after the rejoin" {
				time.Sleep(time.Second)
				cc.mu.Lock()
				t.Logf("carol errs %v", cc.errs)
				cc.mu.Unlock()
				waitEpochs(t, room, alice, bob, carol)
			}
			if _, err := carol.Leave(ctx10(t), room); err != nil {
				t.Fatalf("carol leaves without group state: %v", err)
			}
			// The others commit her SelfRemove: two devices remain, the
			// old leaf included in none.
			deadline := time.Now().Add(10 * time.Second)
			for alice.Crypto(room).Members != 2 || bob.Crypto(room).Members != 2 {
				if time.Now().After(deadline) {
					t.Fatalf("carol's devices are still in the group: alice %+v, bob %+v", alice.Crypto(room), bob.Crypto(room))
				}
				time.Sleep(20 * time.Millisecond)
			}
			waitEpochs(t, room, alice, bob)
			cb.waitFor(t, "carol's leave", 5*time.Second, func() bool {
				for _, e := range cb.entries[room] {
					if e.Kind == proto.KindLeave && e.Sender == carol.User() {
						return true
					}
				}
				return false
			})
			sendText(t, alice, room, "after carol left")
			waitText(t, cb, room, "after carol left")
			time.Sleep(300 * time.Millisecond)
			cc.mu.Lock()
			for _, e := range cc.entries[room] {
				if e.Kind == proto.KindMessage && e.Sender == alice.User() {
					cc.mu.Unlock()
					t.Fatal("the relay delivered a message sent after carol left to her")
				}
			}
			cc.mu.Unlock()
			if carol.Crypto(room).HasState {
				t.Fatal("carol's device kept the group after leaving")
			}
		})
	}
}
