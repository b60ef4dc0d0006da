package relay

import (
	"fmt"
	"os"
	"testing"
	"time"

	"mimichat/proto"
)

// The relay and clients SIGKILLed together during commits (issue 13): the
// random operations of TestE2EERandomOperations against a relay process
// (full sync), where in some rounds a member's device runs as a child
// process (TestE2EEClientChild) making a path-update commit that races the
// round's other operations, and 0-30 ms after the round starts both the
// relay and that client process are SIGKILLed, in a random order up to
// 5 ms apart. After the relay restarts, the log says what was stored: the
// round's operations found by their bytes count as done, the rest as lost
// (resolve); the client restarts from its saved state, its commit lost,
// stored and saved, or stored but not saved (then it rejoins by external
// commit, removing its old leaf). Every member then agrees on the epoch
// authenticator and the leaves, decrypts exactly the messages of the
// epochs it holds, and the relay's epoch is the group's, to the end of the
// run.

// bothKillsEnv sets the number of combined kills of a run (default 3).
const bothKillsEnv = "MIMICHAT_E2EE_BOTH_KILLS"

func TestE2EERandomOperationsRelayAndClientKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("process fault test")
	}
	ops, seed := randParams(t)
	kills := 3
	if v := os.Getenv(bothKillsEnv); v != "" {
		if _, err := fmt.Sscan(v, &kills); err != nil || kills <= 0 {
			t.Fatalf("%s=%q: want a positive count", bothKillsEnv, v)
		}
	}
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
	r := newRandRun(t, relay.addr, toks, func(user string) string {
		st, err := OpenStore(dir) // beside the relay process
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		return storeDeviceToken(t, st)(user)
	}, seed)
	deadline := time.Now().Add(time.Duration(ops)*time.Second + time.Duration(kills)*15*time.Second)
	var tally clientKill
	killed, rounds, stored := 0, 0, 0
	for done := 0; done < ops || killed < kills; rounds++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d operations, %d of %d kills after %d rounds: over the time budget", done, ops, killed, kills, rounds)
		}
		d := (*randDevice)(nil)
		if killed < kills && done >= (killed+1)*ops/(kills+1) {
			d = r.killable()
		}
		if d == nil {
			done += r.round(1 + r.rng.IntN(3))
			continue
		}
		cc := r.spawnClientChild(d)
		before := d.g.Epoch()
		r.exclude = d.user
		inFlight := r.prepareRound(r.rng.IntN(3))
		r.exclude = nil
		cc.in.Write([]byte("go\n"))
		r.race(inFlight)
		time.Sleep(time.Duration(r.rng.IntN(30)) * time.Millisecond)
		first, second := relay.kill, cc.kill
		if r.rng.IntN(2) == 0 {
			first, second = second, first
		}
		first()
		time.Sleep(time.Duration(r.rng.IntN(6)) * time.Millisecond)
		second()

		relay = startChild(t, dir, SyncFull)
		r.reconnect(relay.addr)
		// The client's fate first (resolve must know whether its commit
		// was stored); resolve then reads the log from the round's start.
		head := r.head
		resync := r.restartChildDevice(d, cc, before, &tally)
		childHead := r.head
		r.head = head
		r.resolve(inFlight)
		r.head = max(r.head, childHead)
		r.trace(inFlight)
		for _, o := range inFlight {
			if _, lost := o.reply.(*proto.ErrorFrame); !lost {
				stored++
			}
		}
		r.skipCheck = resync
		r.settle(inFlight)
		r.childWon, r.roundEpoch, r.skipCheck = false, nil, false
		if resync {
			r.resync(d)
		}
		killed++
		done += len(inFlight) + 1
		r.alice.c.send(&proto.RoomInfo{RID: r.alice.c.nextRID(), Room: r.room})
		if st := expect[*proto.RoomState](r.alice.c); st.Epoch != r.alice.g.Epoch() {
			t.Fatalf("after kill %d the relay is at epoch %d, the group at %d", killed, st.Epoch, r.alice.g.Epoch())
		}
	}
	r.finish()
	t.Logf("%d rounds; %d SIGKILLs of the relay together with a client during its commit: the client's commit lost %d, stored and saved %d, stored but not saved %d (rejoined by external commit); %d of the %s in flight found in the log",
		rounds, killed, tally.lost, tally.saved, tally.resynced, stored, "other operations")
}
