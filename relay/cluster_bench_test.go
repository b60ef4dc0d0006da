package relay

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"mimichat/proto"
)

// Cluster benchmarks (docs/cluster.md, Performance): three relay nodes in
// this process, each embedding a NATS server joined to the others by routes
// on loopback (R3, sync_interval always), real websocket clients; and, in
// the same run, the single-node SQLite relay as the baseline. Clients,
// relays and NATS servers share this process's CPU. Every loop is bounded
// by b.N and a deadline.

// benchNodes starts the relay(s) of backend: "sqlite" is one relay (its
// address three times, so that clients "spread over the nodes" all land on
// it), "jetstream-R3" three cluster nodes.
func benchNodes(b *testing.B, backend string, tune func(*Config)) []*Server {
	b.Helper()
	switch backend {
	case "sqlite":
		cfg := benchLimits(Config{})
		tune(&cfg)
		s := startRelay(b, cfg)
		return []*Server{s, s, s}
	case "jetstream-R3":
		return startCluster(b, 3, func(c *Config) {
			*c = benchLimits(*c)
			tune(c)
		})
	}
	b.Fatalf("unknown backend %s", backend)
	return nil
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// joinVia makes tok's user a member of room through the node at addr,
// retrying while that node has not yet heard of the room (another node
// created it a moment ago).
func joinVia(b *testing.B, addr, tok, room string) {
	b.Helper()
	p, err := connect(addr, tok)
	if err != nil {
		b.Fatal(err)
	}
	defer p.close()
	deadline := time.Now().Add(20 * time.Second)
	for rid := uint64(1); ; rid++ {
		f, err := p.call(&proto.RoomOp{RID: rid, Room: room, Op: proto.KindJoin})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("join %s through %s: %v (%#v)", room, addr, err, f)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkClusterSubmits: acked durable submits per second, three rooms,
// each written through its own node (one writer per room) by three
// pipelining senders connected to that node; the SQLite baseline has the
// same rooms and senders on one relay. A submit is acked after its batch
// is stored: fsynced (SQLite), or committed by a quorum of the stream's
// replicas, each fsyncing (JetStream R3).
func BenchmarkClusterSubmits(b *testing.B) {
	for _, backend := range []string{"sqlite", "jetstream-R3"} {
		b.Run(backend, func(b *testing.B) { benchClusterSubmits(b, backend) })
	}
}

func benchClusterSubmits(b *testing.B, backend string) {
	const rooms, perRoom = 3, 3
	nodes := benchNodes(b, backend, func(*Config) {})
	store := nodes[0].Store()
	var peers []*peer
	var peerRoom []string
	for i := range rooms {
		owner := addUser(b, store, fmt.Sprintf("o%d", i))
		o, err := connect(nodes[i].Addr(), owner)
		if err != nil {
			b.Fatal(err)
		}
		r, err := o.call(&proto.CreateRoom{RID: 1, Room: fmt.Sprintf("bench%d", i), Join: proto.JoinOpen})
		o.close()
		if err != nil {
			b.Fatal(err)
		}
		room := r.(*proto.OK).Room
		for j := range perRoom {
			tok := addUser(b, store, fmt.Sprintf("s%d-%d", i, j))
			joinVia(b, nodes[i].Addr(), tok, room)
			p, err := connect(nodes[i].Addr(), tok)
			if err != nil {
				b.Fatal(err)
			}
			defer p.close()
			peers, peerRoom = append(peers, p), append(peerRoom, room)
		}
	}
	per := b.N/len(peers) + 1
	msgs := make([][]*proto.Submit, len(peers))
	for i, p := range peers {
		msgs[i] = prebuilt(b, p.user, peerRoom[i], per)
	}
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	var wg sync.WaitGroup
	errs := make(chan error, len(peers))
	for i, p := range peers {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- pump(p, msgs[i], 0) }()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu
	b.StopTimer()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	n := per * len(peers)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "submits/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/submit")
	var commits, committed int64
	for i, s := range nodes {
		if i > 0 && s == nodes[0] {
			break
		}
		commits += s.metrics.commits.Load()
		committed += s.metrics.committed.Load()
	}
	if commits > 0 {
		b.ReportMetric(float64(committed)/float64(commits), "reqs/commit")
	}
}

// pumpRetrying is pump for a sender whose node may lose a race for the
// room to another node: a submit refused as internal ("nothing was
// stored, retry") is sent again, as a client does, and answered with a new
// seq or, if it was stored after all, its original one (dup). It returns
// how many submits were refused and sent again.
func pumpRetrying(p *peer, msgs []*proto.Submit, deadline time.Time) (int, error) {
	byRID := make(map[uint64]*proto.Submit, len(msgs))
	for _, m := range msgs {
		byRID[m.RID] = m
	}
	resend := make(chan *proto.Submit, len(msgs))
	done := make(chan error, 1)
	retries := 0
	go func() {
		for n := 0; n < len(msgs); {
			f, err := p.read(time.Until(deadline))
			if err != nil {
				done <- err
				return
			}
			switch f := f.(type) {
			case *proto.Ack:
				n++
			case *proto.ErrorFrame:
				if f.Code != proto.CodeInternal || byRID[f.RID] == nil {
					done <- fmt.Errorf("%s: %s", f.Code, f.Reason)
					return
				}
				retries++
				resend <- byRID[f.RID]
			}
		}
		done <- nil
	}()
	for _, m := range msgs {
		if err := p.write(m); err != nil {
			return retries, err
		}
	}
	for {
		select {
		case m := <-resend:
			if err := p.write(m); err != nil {
				return retries, err
			}
		case err := <-done:
			return retries, err
		}
	}
}

// BenchmarkClusterFanout200: event deliveries per second (one event frame
// received by one client) to 200 websocket subscribers of one room spread
// over the three nodes, three pipelining senders; the baseline is one
// relay with the same clients (on SQLite). senders=spread puts the senders
// on different nodes, which then race for the room's seqs (a lost race is
// committed again, or refused and resubmitted by the sender: "retries/op");
// senders=one puts them on one node, the room's only writer.
func BenchmarkClusterFanout200(b *testing.B) {
	for _, backend := range []string{"sqlite", "jetstream-R3"} {
		for _, spread := range []bool{true, false} {
			if backend == "sqlite" && !spread {
				continue // one relay: the same run
			}
			name := backend + "/senders=one"
			if spread {
				name = backend + "/senders=spread"
			}
			b.Run(name, func(b *testing.B) { benchClusterFanout(b, backend, spread) })
		}
	}
}

func benchClusterFanout(b *testing.B, backend string, spread bool) {
	const nsubs, nsenders = 200, 3
	nodes := benchNodes(b, backend, func(c *Config) { c.SendQueue = 4096 })
	store := nodes[0].Store()
	owner := addUser(b, store, "owner")
	o, err := connect(nodes[0].Addr(), owner)
	if err != nil {
		b.Fatal(err)
	}
	r, err := o.call(&proto.CreateRoom{RID: 1, Room: "fanout", Join: proto.JoinOpen})
	o.close()
	if err != nil {
		b.Fatal(err)
	}
	room := r.(*proto.OK).Room
	subTok := addUser(b, store, "sub")
	joinVia(b, nodes[0].Addr(), subTok, room)
	var senders []*peer
	for i := range nsenders {
		tok := addUser(b, store, fmt.Sprintf("s%d", i))
		joinVia(b, nodes[0].Addr(), tok, room)
		node := nodes[0]
		if spread {
			node = nodes[i%len(nodes)]
		}
		p, err := connect(node.Addr(), tok)
		if err != nil {
			b.Fatal(err)
		}
		defer p.close()
		senders = append(senders, p)
	}
	head := nodes[0].hub.room(room).head
	subs := make([]*rawSubscriber, nsubs)
	for i := range subs {
		subs[i] = subscribeRaw(b, nodes[i%len(nodes)].Addr(), subTok, room, head)
	}
	defer func() {
		for _, sub := range subs {
			sub.ws.Close()
		}
	}()
	per := b.N/nsenders + 1
	msgs := make([][]*proto.Submit, nsenders)
	for i, p := range senders {
		msgs[i] = prebuilt(b, p.user, room, per)
	}
	time.Sleep(200 * time.Millisecond) // let subscriptions settle
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	var wg sync.WaitGroup
	errs := make(chan error, nsenders)
	retries := make([]int, nsenders)
	deadline := time.Now().Add(5 * time.Minute)
	for i, p := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			retries[i], err = pumpRetrying(p, msgs[i], deadline)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	n := int64(per * nsenders)
	if !waitCount(subs, n, time.Now().Add(60*time.Second)) {
		var got int64
		for _, s := range subs {
			got += s.events.Load()
		}
		b.Fatalf("subscribers got %d of %d deliveries in 60 s", got, n*nsubs)
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu
	b.StopTimer()
	for i, s := range nodes {
		if k := s.metrics.slowKills.Load(); k > 0 {
			b.Fatalf("node %d disconnected %d subscribers as slow", i+1, k)
		}
	}
	b.ReportMetric(float64(n*nsubs)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*nsubs), "cpu-ns/delivery")
	total := 0
	for _, r := range retries {
		total += r
	}
	b.ReportMetric(float64(total)/float64(n), "retries/op")
}
