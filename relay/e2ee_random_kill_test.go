package relay

import (
	"testing"
	"time"

	"mimichat/proto"
)

// reconnect moves every device to a restarted relay at addr; members
// resubscribe from the last event they processed.
func (r *randRun) reconnect(addr string) {
	r.t.Helper()
	r.addr = addr
	for _, u := range r.users {
		for _, d := range u.devs {
			r.connect(d)
			if d.in {
				d.c.subscribe(r.room, d.last)
			}
		}
	}
}

// The random operations of TestE2EERandomOperations against a relay
// process (full sync) that is SIGKILLed three times between rounds: after
// each restart every acknowledged event, the hub's epoch and tree, held
// leave proposals, stored Welcomes and the GroupInfo for external joins are
// there, the members resubscribe from where they were and the run goes on
// with the same checks (one commit per epoch, agreement after every round,
// exact decryption).
func TestE2EERandomOperationsRelayKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("process fault test")
	}
	ops, seed := randParams(t)
	dir := t.TempDir()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Domain("example.com"); err != nil {
		t.Fatal(err)
	}
	toks := map[string]string{}
	for _, name := range []string{"alice", "bob", "carol", "dave", "erin"} {
		toks[name] = addUser(t, st, name)
	}
	st.Close()

	relay := startChild(t, dir, SyncFull)
	r := newRandRun(t, relay.addr, toks, seed)
	deadline := time.Now().Add(time.Duration(ops)*time.Second + 30*time.Second)
	kills, rounds := 0, 0
	for done := 0; done < ops; rounds++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d operations after %d rounds: over the time budget", done, ops, rounds)
		}
		done += r.round(1 + r.rng.IntN(3))
		if kills < 3 && done >= (kills+1)*ops/4 {
			relay.kill()
			relay = startChild(t, dir, SyncFull)
			r.reconnect(relay.addr)
			kills++
			r.alice.c.send(&proto.RoomInfo{RID: r.alice.c.nextRID(), Room: r.room})
			if st := expect[*proto.RoomState](r.alice.c); st.Epoch != r.alice.g.Epoch() {
				t.Fatalf("after kill %d the relay is at epoch %d, the group at %d", kills, st.Epoch, r.alice.g.Epoch())
			}
		}
	}
	if kills != 3 {
		t.Fatalf("%d kills, want 3", kills)
	}
	r.finish()
	t.Logf("%d rounds, %d SIGKILLs of the relay", rounds, kills)
}
