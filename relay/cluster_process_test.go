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
	"syscall"
	"testing"
	"time"

	"mimichat/internal/freeport"
	"mimichat/proto"
	"mimichat/relay/store/jetstream"
)

var clusterRuns = flag.Int("cluster.runs", 0, "TestClusterSurvivesFaults: runs with random fault timings and points, a 10 s SIGSTOP and a 5 s partition (default: one short run)")

// node is one cluster node running as a child process (this test binary,
// see TestMain), restartable on the same directory and addresses.
type node struct {
	name, dir, env string
	nats           string // its NATS client address
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

func (n *node) signal(sig syscall.Signal) {
	if n.cmd != nil {
		syscall.Kill(n.cmd.Process.Pid, sig)
	}
}

// faultPlan is one run's faults, in order, during one burst.
type faultPlan struct {
	per       int           // messages each sender sends at least (it goes on until the faults are over)
	stop      time.Duration // how long the stopped node stays SIGSTOPped
	partition time.Duration // how long two nodes' routes stay cut
	random    bool          // random fault points and victims
}

// burstState is what a run observed.
type burstState struct {
	mu       sync.Mutex
	acked    map[string]uint64 // message ID → acked seq
	at       map[string]int    // sender → the node it is connected to
	faults   bool              // the faults are over
	killed   int               // the killed node (-1 before the kill)
	killedAt time.Time
	// nextAck is the first ack in the room after the kill; victimAck the
	// first ack of a sender that was connected to the killed node, and
	// victimEvent the first event a subscriber connected to it received
	// after the kill, through another node.
	nextAck, victimAck, victimEvent time.Time
	victims                         map[string]bool
	trail                           []string // what the killed node's senders met until their first ack
}

// note adds to the trail of sender n if it is one of the killed node's
// and has not been acked since the kill.
func (st *burstState) note(n, what string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.victims[n] && !st.killedAt.IsZero() && st.victimAck.IsZero() && len(st.trail) < 50 {
		st.trail = append(st.trail, fmt.Sprintf("%s +%s %s", n, time.Since(st.killedAt).Round(time.Millisecond), what))
	}
}

func (st *burstState) count() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.acked)
}

// TestClusterSurvivesFaults: three relay processes on one R3 stream, their
// routes through TCP proxies; four senders and three subscribers spread
// over the nodes. During one burst: the stream's leader is SIGKILLed and
// restarted on its directory 2 s later; a node is SIGSTOPped and
// continued; two nodes' routes are cut for a while (a partition) and
// healed. Clients of a dead or stopped node reconnect to another and resume
// (senders resend the same bytes, subscribers resubscribe from their
// cursor). Afterwards: every acked message is in the log once, at its acked
// seq; every subscriber saw the same events, seq 1, 2, 3, … with no gap and
// no duplicate. The short run (go test ./...) stops a node for 3 s and cuts
// routes for 2 s; -cluster.runs N runs N times with random fault points and
// victims, a 10 s SIGSTOP and a 5 s partition.
func TestClusterSurvivesFaults(t *testing.T) {
	runs, plan := 1, faultPlan{per: 20, stop: 3 * time.Second, partition: 2 * time.Second}
	if *clusterRuns > 0 {
		runs, plan = *clusterRuns, faultPlan{per: 100, stop: 10 * time.Second, partition: 5 * time.Second, random: true}
	}
	for run := range runs {
		t.Run(fmt.Sprint(run), func(t *testing.T) { clusterFaultRun(t, plan) })
	}
}

// startProxiedCluster starts three nodes whose routes to each other go
// through proxies[i][j] (node i's link to node j). Every node advertises a
// route address nobody listens on, so gossip cannot open a direct route
// around a cut proxy.
func startProxiedCluster(t *testing.T) ([]*node, [][]*routeProxy) {
	routes, natsAddrs := freeport.Addrs(t, 3), freeport.Addrs(t, 3)
	dead := freeport.Addrs(t, 1)[0]
	proxies := make([][]*routeProxy, 3)
	for i := range proxies {
		proxies[i] = make([]*routeProxy, 3)
		for j := range proxies[i] {
			if i != j {
				proxies[i][j] = newRouteProxy(t, routes[j])
			}
		}
	}
	nodes := make([]*node, 3)
	for i := range nodes {
		var peers []string
		for j := range nodes {
			if i != j {
				peers = append(peers, proxies[i][j].addr())
			}
		}
		nodes[i] = &node{name: fmt.Sprintf("n%d", i+1), dir: t.TempDir(), nats: natsAddrs[i],
			env: fmt.Sprintf("n%d|%s|%s|%s|%s", i+1, routes[i], strings.Join(peers, ","), natsAddrs[i], dead)}
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
	return nodes, proxies
}

// streamLeader is the index of the node leading the stream, asked of the
// first node that answers (-1 if none did).
func streamLeader(nodes []*node, skip int) int {
	for i, n := range nodes {
		if i == skip {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := jetstream.ReadStatus(ctx, "nats://"+n.nats, "")
		cancel()
		if err != nil {
			continue
		}
		for j, m := range nodes {
			if m.name == st.Leader {
				return j
			}
		}
	}
	return -1
}

func clusterFaultRun(t *testing.T, plan faultPlan) {
	nodes, proxies := startProxiedCluster(t)
	for _, n := range nodes {
		t.Logf("node %s at start, idle: %s", n.name, procRSS(n.cmd.Process.Pid))
	}
	js, err := jetstream.Open(jetstream.Options{URL: "nats://" + nodes[0].nats + ",nats://" + nodes[1].nats + ",nats://" + nodes[2].nats})
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
	// The node to kill is the stream's leader (its loss costs an election);
	// two senders and a subscriber are connected to it.
	victim := streamLeader(nodes, -1)
	if victim < 0 {
		t.Fatal("no node names the stream's leader")
	}
	home := map[string]int{"alice": (victim + 1) % 3, "bob": victim, "carol": (victim + 2) % 3, "dave": victim}
	addrs := func() []string {
		out := make([]string, len(nodes))
		for i, n := range nodes {
			out[i] = n.addr
		}
		return out
	}

	deadline := time.Now().Add(150 * time.Second)
	if plan.random {
		deadline = time.Now().Add(240 * time.Second)
	}
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

	st := &burstState{acked: map[string]uint64{}, at: map[string]int{}, killed: -1, victims: map[string]bool{}}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	// Subscribers: alice, bob (on the victim) and carol.
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
			at := home[user]
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
					f, err := p.read(1000 * time.Millisecond)
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
						st.mu.Lock()
						if st.killed >= 0 && at != st.killed && user == "bob" && st.victimEvent.IsZero() {
							st.victimEvent = time.Now()
						}
						st.mu.Unlock()
					}
				}
			}
		}()
	}

	// Senders: at least plan.per messages each, and on until the faults
	// are over (at most 20,000).
	var sendWG sync.WaitGroup
	sendErr := make(chan error, len(names))
	for _, n := range names {
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			at := home[n]
			var p *peer
			rid := uint64(0)
			for j := 0; j < 20000; j++ {
				st.mu.Lock()
				over := st.faults
				st.mu.Unlock()
				if j >= plan.per && over {
					break
				}
				m := message(t, "mimi://example.com/u/"+n, room, fmt.Sprintf("%s %d", n, j))
				for {
					if ctx.Err() != nil {
						sendErr <- fmt.Errorf("%s: message %d not acked before the deadline", n, j)
						return
					}
					if p == nil {
						var err error
						if p, err = connect(addrs()[at], tokens[n]); err != nil {
							st.note(n, fmt.Sprintf("connect %s: %v", nodes[at].name, err))
							p, at = nil, (at+1)%len(nodes)
							time.Sleep(50 * time.Millisecond)
							continue
						}
						st.mu.Lock()
						st.at[n] = at
						st.mu.Unlock()
					}
					rid++
					m.RID = rid
					f, err := p.call(m)
					if err != nil {
						st.note(n, fmt.Sprintf("submit through %s: %v", nodes[at].name, err))
						// Refused (a lost race for the room, a leader
						// election: retry) or the node died or hangs
						// (reconnect to the next): the same bytes again.
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
					now := time.Now()
					st.mu.Lock()
					st.acked[string(m.ID)] = a.Seq
					if st.killed >= 0 {
						if st.nextAck.IsZero() {
							st.nextAck = now
						}
						if st.victims[n] && st.victimAck.IsZero() {
							st.victimAck = now
						}
					}
					st.mu.Unlock()
					break
				}
				time.Sleep(5 * time.Millisecond) // a steady burst, not a flood
			}
			if p != nil {
				p.close()
			}
		}()
	}

	// The faults, one after another during the burst.
	point := func(lo, hi int) int {
		if plan.random {
			return lo + rand.IntN(hi-lo+1)
		}
		return (lo + hi) / 2
	}
	waitAcked := func(n int) bool {
		for ctx.Err() == nil && st.count() < n {
			time.Sleep(5 * time.Millisecond)
		}
		return ctx.Err() == nil
	}
	faultDone := make(chan error, 1)
	var log []string
	go func() {
		defer func() {
			st.mu.Lock()
			st.faults = true
			st.mu.Unlock()
		}()
		// 1. SIGKILL the stream's leader; restart it 2 s later.
		if !waitAcked(point(4, 40)) {
			faultDone <- ctx.Err()
			return
		}
		if l := streamLeader(nodes, -1); l >= 0 && l != victim {
			log = append(log, fmt.Sprintf("the leader moved to %s before the kill", nodes[l].name))
		}
		st.mu.Lock()
		for n, at := range st.at {
			if at == victim {
				st.victims[n] = true
			}
		}
		st.mu.Unlock()
		nodes[victim].kill()
		st.mu.Lock()
		st.killed, st.killedAt = victim, time.Now()
		st.mu.Unlock()
		time.Sleep(2 * time.Second)
		if err := nodes[victim].start(); err != nil {
			faultDone <- fmt.Errorf("restart %s: %w", nodes[victim].name, err)
			return
		}
		log = append(log, fmt.Sprintf("killed %s (the leader), restarted after 2 s", nodes[victim].name))
		// 2. SIGSTOP a node (the short run: the current leader).
		if !waitAcked(st.count() + point(10, 60)) {
			faultDone <- ctx.Err()
			return
		}
		stopped := streamLeader(nodes, -1)
		if plan.random || stopped < 0 {
			stopped = rand.IntN(3)
		}
		nodes[stopped].signal(syscall.SIGSTOP)
		time.Sleep(plan.stop)
		nodes[stopped].signal(syscall.SIGCONT)
		log = append(log, fmt.Sprintf("stopped %s for %v", nodes[stopped].name, plan.stop))
		// 3. Cut the routes between two nodes, then heal them.
		if !waitAcked(st.count() + point(10, 60)) {
			faultDone <- ctx.Err()
			return
		}
		a := rand.IntN(3)
		b := (a + 1 + rand.IntN(2)) % 3
		proxies[a][b].setCut(true)
		proxies[b][a].setCut(true)
		time.Sleep(plan.partition)
		proxies[a][b].setCut(false)
		proxies[b][a].setCut(false)
		log = append(log, fmt.Sprintf("cut %s-%s for %v", nodes[a].name, nodes[b].name, plan.partition))
		// A little more burst after the heal.
		waitAcked(st.count() + 20)
		faultDone <- nil
	}()
	sendWG.Wait()
	close(sendErr)
	for err := range sendErr {
		t.Fatal(err)
	}
	if err := <-faultDone; err != nil {
		t.Fatalf("faults: %v", err)
	}
	st.mu.Lock()
	acked := st.acked
	st.mu.Unlock()
	var maxSeq uint64
	for _, s := range acked {
		maxSeq = max(maxSeq, s)
	}
	// Wait until every subscriber reached the last acked seq.
	for i, s := range subs {
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
				t.Fatalf("subscriber %d reached seq %d, want %d", i, last, maxSeq)
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
	since := func(at time.Time) string {
		if at.IsZero() {
			return "none"
		}
		return at.Sub(st.killedAt).Round(time.Millisecond).String()
	}
	t.Logf("%s; %d acked messages, %d events; after the kill of the leader: next ack in the room %s, first ack of its senders through another node %s, first event to its subscriber through another node %s",
		strings.Join(log, "; "), len(acked), maxSeq, since(st.nextAck), since(st.victimAck), since(st.victimEvent))
	if !st.victimAck.IsZero() && st.victimAck.Sub(st.killedAt) > 4*time.Second {
		t.Logf("the killed node's senders until their first ack:\n%s", strings.Join(st.trail, "\n"))
	}
	for _, n := range nodes {
		t.Logf("node %s after the run: %s", n.name, procRSS(n.cmd.Process.Pid))
	}
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
