package relay

import (
	"fmt"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/proto"
	"mimichat/relay/store/jetstream"
)

// TestClusterEncryptedRoomFailover: an encrypted room (real MLS devices)
// on a three-process cluster keeps one epoch history across the SIGKILL of
// the stream's leader, which alice's device was connected to. Its
// KeyPackages, Welcomes, GroupInfo and the room's epoch live in the stream,
// so after the kill: alice reconnects to another node and resubscribes from
// her cursor; alice and bob, on different nodes, commit at the same epoch
// at once, and exactly one commit is accepted (the other is refused as
// stale, no fork); dave's device, uploaded to the restarted node, is
// invited through a third and joins from its Welcome; every device ends at
// the same epoch with the same authenticator, decrypts every message sent
// after its join, and the relay's epoch is the group's.
func TestClusterEncryptedRoomFailover(t *testing.T) {
	nodes, _ := startProxiedCluster(t)
	js, err := jetstream.Open(jetstream.Options{URL: "nats://" + nodes[0].nats + ",nats://" + nodes[1].nats + ",nats://" + nodes[2].nats})
	if err != nil {
		t.Fatal(err)
	}
	users := &Store{db: js}
	defer users.Close()
	toks := map[string]string{}
	for _, n := range []string{"alice", "bob", "carol", "dave"} {
		toks[n] = addUser(t, users, n)
	}
	victim := streamLeader(nodes, -1)
	if victim < 0 {
		t.Fatal("no node names the stream's leader")
	}
	o1, o2 := (victim+1)%3, (victim+2)%3
	device := func(user, name string, at int) *e2eDevice {
		return newE2EDevice(t, nodes[at].addr, toks[user], proto.UserURI("example.com", user), name, 2)
	}
	alice, bob, carol := device("alice", "laptop", victim), device("bob", "phone", o1), device("carol", "desk", o2)
	room := alice.create("vault", proto.CreateRoom{Name: "Vault"})
	all := []*e2eDevice{alice}
	for _, d := range []*e2eDevice{bob, carol} {
		ok := alice.invite(d.c.user)
		d.joinFromWelcome()
		for _, o := range all {
			o.syncTo(ok.Seq)
		}
		all = append(all, d)
	}
	head := func() uint64 {
		var h uint64
		for _, d := range all {
			h = max(h, d.last)
		}
		return h
	}
	say := func(round string) {
		t.Helper()
		var last uint64
		for _, d := range all {
			for try := 0; ; try++ {
				_, a, ef := d.send(fmt.Sprintf("%s from %s", round, d.dev.uri))
				if ef != nil && ef.Code == proto.CodeInternal && try < 20 {
					time.Sleep(50 * time.Millisecond) // nothing stored: a client retries
					continue
				}
				if ef != nil {
					t.Fatalf("%s: %s: %s", d.dev.uri, ef.Code, ef.Reason)
				}
				last = max(last, a.Seq)
				break
			}
		}
		for _, d := range all {
			d.syncTo(last)
		}
	}
	say("before")
	// Everyone is at the head (their own joins included).
	for _, d := range all {
		d.syncTo(head())
	}
	sameEpoch(t, all...)
	before := alice.g.Epoch()

	nodes[victim].kill()
	killed := time.Now()
	// Alice's device reconnects to carol's node and resubscribes from her
	// cursor; alice and bob (on another node) commit at the same epoch.
	alice.c = dialDevice(t, nodes[o2].addr, toks["alice"], alice.dev.uri)
	alice.subscribe(alice.last)
	var accepted time.Time
	deadline := time.Now().Add(30 * time.Second)
	for accepted.IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("no commit accepted 30 s after the kill")
		}
		var frames [2]*proto.RoomOp
		racers := []*e2eDevice{alice, bob}
		for i, d := range racers {
			res, err := d.g.Commit(mls.CommitOptions{ForcePath: true})
			if err != nil {
				t.Fatal(err)
			}
			frames[i] = &proto.RoomOp{RID: d.c.nextRID(), Room: room, Op: proto.KindCommit, MLS: res.Commit, GroupInfo: res.GroupInfo}
			d.c.send(frames[i])
		}
		won := -1
		for i, d := range racers {
			ok, ef := answerOrError[*proto.OK](d.c)
			switch {
			case ef == nil:
				if won >= 0 {
					t.Fatalf("two commits of epoch %d accepted: seqs %d and %d", d.g.Epoch(), frames[won].RID, ok.Seq)
				}
				won = i
				if err := d.g.MergePendingCommit(); err != nil {
					t.Fatal(err)
				}
				d.mine[ok.Seq] = true
				accepted = time.Now()
			case ef.Code == proto.CodeStaleEpoch || ef.Code == proto.CodeInternal:
				// Lost the race, or the cluster is electing a leader and
				// stored nothing: drop the commit.
				d.g.ClearPendingCommit()
			default:
				t.Fatalf("%s: commit refused %s: %s", d.dev.uri, ef.Code, ef.Reason)
			}
		}
		if won < 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	failover := accepted.Sub(killed)

	// The killed node comes back; dave's device uploads its KeyPackages
	// there, alice invites it through the node she moved to, it joins from its
	// Welcome.
	if err := nodes[victim].start(); err != nil {
		t.Fatal(err)
	}
	all = []*e2eDevice{alice, bob, carol}
	// The winner's commit is the room's last event: everyone reaches it.
	carol.c.send(&proto.RoomInfo{RID: carol.c.nextRID(), Room: room})
	st := expect[*proto.RoomState](carol.c)
	for _, d := range all {
		d.syncTo(st.LastSeq)
	}
	sameEpoch(t, all...)
	if alice.g.Epoch() != before+1 {
		t.Fatalf("epoch %d after one accepted commit from %d", alice.g.Epoch(), before)
	}
	dave := device("dave", "tablet", victim)
	ok := alice.invite(dave.c.user) // through carol's node, where alice reconnected
	dave.joinFromWelcome()
	for _, d := range all {
		d.syncTo(ok.Seq)
	}
	all = append(all, dave)
	for _, d := range all {
		d.syncTo(head())
	}
	say("after")
	sameEpoch(t, all...)
	for _, d := range all {
		want := 0
		for _, o := range all {
			if o != d {
				want++
			}
		}
		got := 0
		for _, text := range d.got {
			if len(text) > 6 && text[:6] == "after " {
				got++
			}
		}
		if got != want {
			t.Fatalf("%s decrypted %d of the %d others' messages after the failover: %q", d.dev.uri, got, want, d.got)
		}
	}
	dave.c.send(&proto.RoomInfo{RID: dave.c.nextRID(), Room: room})
	if st := expect[*proto.RoomState](dave.c); st.Epoch != dave.g.Epoch() {
		t.Fatalf("the relay is at epoch %d, the group at %d", st.Epoch, dave.g.Epoch())
	}
	t.Logf("killed %s (the stream's leader, alice's node); the next commit in the room was accepted %s later (through another node); final epoch %d, no fork",
		nodes[victim].name, failover.Round(time.Millisecond), dave.g.Epoch())
}
