package relay

import (
	"bytes"
	"testing"
	"time"

	"mimichat/proto"
)

// codeKilled marks an operation whose answer died with the relay and which
// the restarted relay's log does not hold.
const codeKilled proto.Code = "killed"

// resolve reads, after a restart, which of the operations in flight at the
// SIGKILL the relay stored (matching their bytes in the log after r.head),
// and gives each the answer it would have had.
func (r *randRun) resolve(ops []*randOp) {
	t := r.t
	t.Helper()
	obs := dialDevice(t, r.addr, r.alice.tok, r.alice.dev.uri)
	defer obs.ws.Close()
	sub := obs.subscribe(r.room, r.head)
	var evs []*proto.Event
	if sub.LastSeq > r.head {
		evs = obs.events(r.room, int(sub.LastSeq-r.head), 10*time.Second)
		if len(evs) != int(sub.LastSeq-r.head) {
			t.Fatalf("after the restart: %d events after %d, head %d", len(evs), r.head, sub.LastSeq)
		}
	}
	committed := r.childWon // a killed client's commit stored (e2ee_random_both_kill_test.go)
	for _, o := range ops {
		o.reply = &proto.ErrorFrame{Code: codeKilled}
		for _, ev := range evs {
			switch f := o.frame.(type) {
			case *proto.Submit:
				if ev.Kind == proto.KindMessage && bytes.Equal(ev.Content, f.Content) {
					o.reply = &proto.Ack{Seq: ev.Seq}
				}
			case *proto.RoomOp:
				if ev.Kind != proto.KindMessage && bytes.Equal(ev.MLS, f.MLS) {
					o.reply = &proto.OK{Seq: ev.Seq}
					committed = committed || o.commits()
				}
			}
		}
	}
	// Members resubscribe from their last event, but not those the stored
	// operations removed (the relay refuses them; they are out).
	for _, o := range ops {
		if _, ok := o.reply.(*proto.OK); ok && (o.kind == "kick" || o.kind == "leave") {
			gone := map[string]*randUser{"kick": o.target, "leave": o.d.user}[o.kind]
			r.gone[gone] = true
		}
	}
	for _, d := range r.devices() {
		if !r.gone[d.user] {
			d.c.subscribe(r.room, d.last)
		}
	}
	// A lost leave's SelfRemove stays proposed in the leaver's group until
	// the epoch moves; without a stored commit the leaver sends it again.
	for _, o := range ops {
		if ef, lost := o.reply.(*proto.ErrorFrame); lost && ef.Code == codeKilled && o.kind == "leave" && !committed {
			f := o.frame.(*proto.RoomOp)
			f.RID = o.d.c.nextRID()
			o.d.c.send(f)
			o.reply = reply(o.d.c)
		}
	}
}

// reconnect moves every device to a restarted relay at addr (resolve
// resubscribes the members).
func (r *randRun) reconnect(addr string) {
	r.t.Helper()
	r.addr = addr
	for _, u := range r.users {
		for _, d := range u.devs {
			r.connect(d)
		}
	}
}

// The random operations of TestE2EERandomOperations against a relay
// process (full sync) SIGKILLed three times with a round's frames in flight
// (0-20 ms after they were written): after each restart the log holds
// every acknowledged event, and of the in-flight operations exactly those
// the test finds by their bytes count as done (the rest are lost, a lost
// leave is resent); members resubscribe from where they were, the relay's
// epoch equals the group's, and the run goes on with the same checks (one
// commit per epoch, agreement after every round, exact decryption).
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
	// Extra device tokens through the store beside the relay process.
	r := newRandRun(t, relay.addr, toks, func(user string) string {
		st, err := OpenStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		return storeDeviceToken(t, st)(user)
	}, seed)
	deadline := time.Now().Add(time.Duration(ops)*time.Second + 30*time.Second)
	kills, rounds, stored := 0, 0, 0
	for done := 0; done < ops; rounds++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d operations after %d rounds: over the time budget", done, ops, rounds)
		}
		if kills == 3 || done < (kills+1)*ops/4 {
			done += r.round(1 + r.rng.IntN(3))
			continue
		}
		// SIGKILL with a round's frames in flight: the restarted relay's
		// log says which it stored; the rest are lost, as on a real crash.
		inFlight := r.start(1 + r.rng.IntN(3))
		done += len(inFlight)
		time.Sleep(time.Duration(r.rng.IntN(20)) * time.Millisecond) // none, some or all stored
		relay.kill()
		relay = startChild(t, dir, SyncFull)
		r.reconnect(relay.addr)
		r.resolve(inFlight)
		r.trace(inFlight)
		for _, o := range inFlight {
			if _, lost := o.reply.(*proto.ErrorFrame); !lost {
				stored++
			}
		}
		r.settle(inFlight)
		kills++
		{
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
	t.Logf("%d rounds, %d SIGKILLs of the relay with operations in flight, %d of those found in the log after the restart (or a lost leave resent)", rounds, kills, stored)
}
