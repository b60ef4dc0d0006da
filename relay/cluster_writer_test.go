package relay

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay/store/jetstream"
)

// TestClusterOneWriterPerRoom: the one-writer rule (docs/cluster.md) under
// a stopped writer. Three relay processes; alice's client on node A (not the
// stream's leader) and bob's on node B submit into one room as fast as they
// are acked, so the two nodes race for every seq. A is SIGSTOPped in the
// middle of the burst, with its batches in flight, for 3 s, and continued:
// it wakes up with the room's head it read before the stop, while B went on
// writing. Its stale batch must fail the expected-last-sequence check (not
// fork the room), and A must reload and go on. Afterwards: every acked
// message is in the log once at its acked seq; subscribers on C and on A
// see the same events, seq 1, 2, 3, … with no gap and no duplicate.
func TestClusterOneWriterPerRoom(t *testing.T) {
	nodes, _ := startProxiedCluster(t)
	js, err := jetstream.Open(jetstream.Options{URL: "nats://" + nodes[0].nats + ",nats://" + nodes[1].nats + ",nats://" + nodes[2].nats})
	if err != nil {
		t.Fatal(err)
	}
	users := &Store{db: js}
	defer users.Close()
	tokens := map[string]string{}
	for _, n := range []string{"alice", "bob", "carol"} {
		tokens[n] = addUser(t, users, n)
	}
	leader := streamLeader(nodes, -1)
	if leader < 0 {
		t.Fatal("no node names the stream's leader")
	}
	a, b, c := (leader+1)%3, leader, (leader+2)%3
	deadline := time.Now().Add(90 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	owner, err := connect(nodes[a].addr, tokens["alice"])
	if err != nil {
		t.Fatal(err)
	}
	r, err := owner.call(&proto.CreateRoom{RID: 1, Room: "race"})
	if err != nil {
		t.Fatal(err)
	}
	room := r.(*proto.OK).Room
	for i, n := range []string{"bob", "carol"} {
		if _, err := owner.call(&proto.RoomOp{RID: uint64(2 + i), Room: room, Op: proto.KindInvite, Target: "mimi://example.com/u/" + n}); err != nil {
			t.Fatal(err)
		}
	}
	owner.close()
	for n, at := range map[string]int{"bob": b, "carol": c} {
		for {
			p, err := connect(nodes[at].addr, tokens[n])
			if err == nil {
				_, err = p.call(&proto.RoomOp{RID: 1, Room: room, Op: proto.KindJoin})
				p.close()
			}
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("%s cannot join: %v", n, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// Subscribers from seq 0 on C and on A (A's view after the stop).
	type seen struct {
		mu   sync.Mutex
		seqs []uint64
		ids  []string
	}
	subscribe := func(at int, user string) (*seen, func()) {
		s := &seen{}
		p, err := connect(nodes[at].addr, tokens[user])
		if err != nil {
			t.Fatal(err)
		}
		if err := p.write(&proto.Subscribe{RID: 1, Room: room}); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				f, err := p.read(30 * time.Second)
				if err != nil {
					return
				}
				if e, ok := f.(*proto.Event); ok && e.Room == room {
					s.mu.Lock()
					s.seqs = append(s.seqs, e.Seq)
					s.ids = append(s.ids, string(e.ID))
					s.mu.Unlock()
				}
			}
		}()
		return s, func() { p.close(); <-done }
	}
	onC, stopC := subscribe(c, "carol")

	var mu sync.Mutex
	acked := map[string]uint64{}
	stopped := false // A's stop is over
	refused := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for n, at := range map[string]int{"alice": a, "bob": b} {
		wg.Go(func() {
			p, err := connect(nodes[at].addr, tokens[n])
			if err != nil {
				errs <- err
				return
			}
			defer func() { p.close() }()
			rid := uint64(0)
			for j := 0; j < 5000; j++ {
				mu.Lock()
				over := stopped
				mu.Unlock()
				if j >= 60 && over {
					return
				}
				m := message(t, "mimi://example.com/u/"+n, room, fmt.Sprintf("%s %d", n, j))
				for {
					if ctx.Err() != nil {
						errs <- fmt.Errorf("%s: message %d not acked before the deadline", n, j)
						return
					}
					rid++
					m.RID = rid
					f, err := p.call(m)
					if err != nil {
						// Refused (a lost race: nothing stored) or the
						// stopped node's answer timed out: the same bytes
						// again, through the same node.
						mu.Lock()
						refused[n]++
						mu.Unlock()
						if !strings.HasPrefix(err.Error(), string(proto.CodeInternal)) {
							p.close()
							if p, err = connect(nodes[at].addr, tokens[n]); err != nil {
								errs <- fmt.Errorf("%s: reconnect: %w", n, err)
								return
							}
						}
						time.Sleep(10 * time.Millisecond)
						continue
					}
					ack, ok := f.(*proto.Ack)
					if !ok {
						errs <- fmt.Errorf("%s: submit answered %#v", n, f)
						return
					}
					mu.Lock()
					if prev, dup := acked[string(m.ID)]; dup && prev != ack.Seq {
						mu.Unlock()
						errs <- fmt.Errorf("%s: message acked at seq %d and %d", n, prev, ack.Seq)
						return
					}
					acked[string(m.ID)] = ack.Seq
					mu.Unlock()
					break
				}
			}
		})
	}
	// Mid-burst: stop A (its writer has batches in flight), continue it
	// after 3 s.
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 30 || ctx.Err() != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	nodes[a].signal(syscall.SIGSTOP)
	time.Sleep(3 * time.Second)
	mu.Lock()
	duringStop := len(acked)
	mu.Unlock()
	nodes[a].signal(syscall.SIGCONT)
	mu.Lock()
	stopped = true
	mu.Unlock()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	var maxSeq uint64
	for _, s := range acked {
		maxSeq = max(maxSeq, s)
	}
	onA, stopA := subscribe(a, "alice")
	views := []*seen{onC, onA}
	for i, s := range views {
		for {
			s.mu.Lock()
			n := len(s.seqs)
			s.mu.Unlock()
			if n > 0 && n >= int(maxSeq) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("view %d has %d events, the last acked seq is %d", i, n, maxSeq)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	stopC()
	stopA()
	for i, s := range views {
		byID := map[string]uint64{}
		for j, seq := range s.seqs {
			if seq != uint64(j+1) {
				t.Fatalf("view %d: event %d has seq %d (gap or duplicate)", i, j, seq)
			}
			if prev, ok := byID[s.ids[j]]; ok && s.ids[j] != "" {
				t.Fatalf("view %d: one message at seqs %d and %d", i, prev, seq)
			}
			byID[s.ids[j]] = seq
		}
		for id, seq := range acked {
			if byID[id] != seq {
				t.Fatalf("view %d: a message acked at seq %d is at %d", i, seq, byID[id])
			}
		}
	}
	n := min(len(onA.ids), len(onC.ids))
	if !equalStrings(onA.ids[:n], onC.ids[:n]) {
		t.Fatal("A and C disagree on the room's order (a fork)")
	}
	t.Logf("%d acked (%d by the end of the 3 s stop of %s), %d events; refusals to retry: %v", len(acked), duringStop, nodes[a].name, maxSeq, refused)
}
