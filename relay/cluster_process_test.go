package relay

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay/store/jetstream"
)

var clusterRuns = flag.Int("cluster.runs", 0, "TestClusterSurvivesKill: runs with random kill timings and 100 messages per sender (default: one short run)")

// node is one cluster node running as a child process (this test binary,
// see TestMain), restartable on the same directory and addresses.
type node struct {
	name, dir, env string
	cmd            *exec.Cmd
	addr           string
}

func (n *node) start() error {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+n.dir, childClusterEnv+"="+n.env)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	n.cmd = cmd
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		addr, ok := strings.CutPrefix(strings.TrimSpace(s), "ADDR ")
		if !ok {
			return fmt.Errorf("node %s said %q", n.name, s)
		}
		n.addr = addr
		return nil
	case <-time.After(100 * time.Second):
		return fmt.Errorf("node %s did not start", n.name)
	}
}

func (n *node) kill() {
	if n.cmd != nil {
		n.cmd.Process.Kill()
		n.cmd.Wait()
	}
}

// burstState is what a run observed.
type burstState struct {
	mu       sync.Mutex
	acked    map[string]uint64 // message ID → acked seq
	killed   bool
	killedAt time.Time
	// firstAfter is when the first message of a sender homed on the
	// killed node was acked after the kill (through another node).
	firstAfter time.Time
}

// TestClusterSurvivesKill: three relay processes on one R3 stream; four
// senders and three subscribers spread over the nodes; during the burst one
// node is SIGKILLed and restarted on its directory. Clients of the killed
// node reconnect to another and resume (senders resend the same bytes,
// subscribers resubscribe from their cursor). Afterwards: every acked
// message is in the log once, at its acked seq; every subscriber saw the
// same events, seq 1, 2, 3, … with no gap and no duplicate.
func TestClusterSurvivesKill(t *testing.T) {
	runs, per := 1, 20
	if *clusterRuns > 0 {
		runs, per = *clusterRuns, 100
	}
	for run := range runs {
		t.Run(fmt.Sprint(run), func(t *testing.T) { clusterKillRun(t, per, run > 0) })
	}
}

func clusterKillRun(t *testing.T, per int, randomTiming bool) {
	routes, natsAddrs := freeAddrs(t, 3), freeAddrs(t, 3)
	nodes := make([]*node, 3)
	for i := range nodes {
		nodes[i] = &node{name: fmt.Sprintf("n%d", i+1), dir: t.TempDir(),
			env: fmt.Sprintf("n%d|%s|%s|%s", i+1, routes[i], strings.Join(routes, ","), natsAddrs[i])}
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.kill()
		}
	})
	errs := make(chan error, 3)
	for _, n := range nodes {
		go func() { errs <- n.start() }()
	}
	for range nodes {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		t.Logf("node %s at start: %s", n.name, procRSS(n.cmd.Process.Pid))
	}
	js, err := jetstream.Open(jetstream.Options{URL: "nats://" + natsAddrs[0]})
	if err != nil {
		t.Fatal(err)
	}
	users := &Store{db: js}
	defer users.Close()
	names := []string{"alice", "bob", "carol", "dave"}
	tokens := map[string]string{}
	for _, n := range names {
		tokens[n] = addUser(t, users, n)
	}
	home := map[string]int{"alice": 0, "bob": 1, "carol": 2, "dave": 1} // the killed node is 1
	addrs := func() []string {
		out := make([]string, len(nodes))
		for i, n := range nodes {
			out[i] = n.addr
		}
		return out
	}

	deadline := time.Now().Add(150 * time.Second)
	alice, err := connect(nodes[0].addr, tokens["alice"])
	if err != nil {
		t.Fatal(err)
	}
	r, err := alice.call(&proto.CreateRoom{RID: 1, Room: "burst"})
	if err != nil {
		t.Fatal(err)
	}
	room := r.(*proto.OK).Room
	for i, n := range names[1:] {
		if _, err := alice.call(&proto.RoomOp{RID: uint64(2 + i), Room: room, Op: proto.KindInvite, Target: "mimi://example.com/u/" + n}); err != nil {
			t.Fatal(err)
		}
	}
	alice.close()
	for _, n := range names[1:] {
		for {
			p, err := connect(nodes[home[n]].addr, tokens[n])
			if err == nil {
				_, err = p.call(&proto.RoomOp{RID: 1, Room: room, Op: proto.KindJoin})
				p.close()
			}
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s cannot join: %v", n, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	st := &burstState{acked: map[string]uint64{}}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	// Subscribers on every node.
	type seen struct {
		seqs []uint64
		ids  []string
	}
	subs := make([]*seen, 3)
	var subWG sync.WaitGroup
	stopSubs := make(chan struct{})
	for i := range subs {
		subs[i] = &seen{}
		subWG.Add(1)
		go func() {
			defer subWG.Done()
			s := subs[i]
			user := names[i]
			at := i
			for {
				select {
				case <-stopSubs:
					return
				default:
				}
				p, err := connect(addrs()[at], tokens[user])
				if err != nil {
					at = (at + 1) % len(nodes)
					time.Sleep(50 * time.Millisecond)
					continue
				}
				var since uint64
				subWaitMu.Lock()
				if len(s.seqs) > 0 {
					since = s.seqs[len(s.seqs)-1]
				}
				subWaitMu.Unlock()
				if err := p.write(&proto.Subscribe{RID: 1, Room: room, Since: since}); err != nil {
					p.close()
					continue
				}
				for {
					f, err := p.read(500 * time.Millisecond)
					select {
					case <-stopSubs:
						p.close()
						return
					default:
					}
					if err != nil { // a read deadline ends a gorilla connection too: dial again
						p.close()
						at = (at + 1) % len(nodes)
						break
					}
					if e, ok := f.(*proto.Event); ok && e.Room == room {
						subWaitMu.Lock()
						s.seqs = append(s.seqs, e.Seq)
						s.ids = append(s.ids, string(e.ID))
						subWaitMu.Unlock()
					}
				}
			}
		}()
	}

	// Senders.
	killAfter := per / 3
	if randomTiming {
		killAfter = 1 + rand.IntN(per-1)
	}
	var sendWG sync.WaitGroup
	sendErr := make(chan error, len(names))
	for _, n := range names {
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			at := home[n]
			var p *peer
			rid := uint64(0)
			for j := range per {
				m := message(t, "mimi://example.com/u/"+n, room, fmt.Sprintf("%s %d", n, j))
				for {
					if ctx.Err() != nil {
						sendErr <- fmt.Errorf("%s: message %d not acked before the deadline", n, j)
						return
					}
					if p == nil {
						var err error
						if p, err = connect(addrs()[at], tokens[n]); err != nil {
							p, at = nil, (at+1)%len(nodes)
							time.Sleep(50 * time.Millisecond)
							continue
						}
					}
					rid++
					m.RID = rid
					f, err := p.call(m)
					if err != nil {
						// Refused (a lost race for the room: retry) or the
						// node died (reconnect to the next): the same bytes again.
						if !strings.HasPrefix(err.Error(), string(proto.CodeInternal)) {
							p.close()
							p, at = nil, (at+1)%len(nodes)
						}
						time.Sleep(20 * time.Millisecond)
						continue
					}
					a, ok := f.(*proto.Ack)
					if !ok {
						sendErr <- fmt.Errorf("%s: submit answered %#v", n, f)
						return
					}
					st.mu.Lock()
					st.acked[string(m.ID)] = a.Seq
					if st.killed && st.firstAfter.IsZero() && home[n] == 1 {
						st.firstAfter = time.Now()
					}
					st.mu.Unlock()
					break
				}
			}
			if p != nil {
				p.close()
			}
		}()
	}
	// The fault: SIGKILL node 1 (bob's and dave's) once enough is acked,
	// restart it 2 s later on its directory.
	faultDone := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			st.mu.Lock()
			n := len(st.acked)
			st.mu.Unlock()
			if n >= killAfter {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		nodes[1].kill()
		st.mu.Lock()
		st.killed, st.killedAt = true, time.Now()
		st.mu.Unlock()
		time.Sleep(2 * time.Second)
		faultDone <- nodes[1].start()
	}()
	sendWG.Wait()
	close(sendErr)
	for err := range sendErr {
		t.Fatal(err)
	}
	if err := <-faultDone; err != nil {
		t.Fatalf("restart: %v", err)
	}
	st.mu.Lock()
	if !st.killed {
		st.mu.Unlock()
		t.Fatal("the burst ended before the kill")
	}
	acked := st.acked
	st.mu.Unlock()
	if len(acked) != per*len(names) {
		t.Fatalf("%d messages acked, want %d", len(acked), per*len(names))
	}
	var maxSeq uint64
	for _, s := range acked {
		maxSeq = max(maxSeq, s)
	}
	// Wait until every subscriber reached the last acked seq.
	for _, s := range subs {
		for {
			subWaitMu.Lock()
			n := len(s.seqs)
			var last uint64
			if n > 0 {
				last = s.seqs[n-1]
			}
			subWaitMu.Unlock()
			if last >= maxSeq {
				break
			}
			if time.Now().After(deadline) {
				close(stopSubs)
				subWG.Wait()
				t.Fatalf("a subscriber reached seq %d, want %d", last, maxSeq)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	close(stopSubs)
	subWG.Wait()
	for i, s := range subs {
		byID := map[string]uint64{}
		for j, seq := range s.seqs {
			if seq != uint64(j+1) {
				t.Fatalf("subscriber %d: event %d has seq %d (gap or duplicate)", i, j, seq)
			}
			if s.ids[j] != "" {
				if prev, ok := byID[s.ids[j]]; ok {
					t.Fatalf("subscriber %d: message at seqs %d and %d", i, prev, seq)
				}
				byID[s.ids[j]] = seq
			}
		}
		for id, seq := range acked {
			if byID[id] != seq {
				t.Fatalf("subscriber %d: message acked at seq %d is at %d", i, seq, byID[id])
			}
		}
		if i > 0 && !equalStrings(s.ids, subs[0].ids[:len(s.ids)]) {
			t.Fatalf("subscribers 0 and %d disagree on the order", i)
		}
	}
	failover := "no sender of the killed node had messages left"
	if !st.firstAfter.IsZero() {
		failover = st.firstAfter.Sub(st.killedAt).Round(time.Millisecond).String()
	}
	t.Logf("%d acked messages, %d events, node n2 killed after %d acks and restarted; its senders' first ack through another node after %s",
		len(acked), maxSeq, killAfter, failover)
}

// subWaitMu guards reading a subscriber's progress while it appends.
var subWaitMu sync.Mutex

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// procRSS is a process's resident memory as /proc reports it.
func procRSS(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "rss unknown"
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return "rss " + strings.TrimSpace(v)
		}
	}
	return "rss unknown"
}
