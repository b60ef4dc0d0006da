package relay

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"mimichat/proto"
	"mimichat/relay/store/sqlite"
)

// Benchmarks run a real relay on loopback with real websocket clients in the
// same process (so clients and relay share the CPU). Every loop is bounded
// by b.N and a deadline.

// benchRoom starts a relay with senders users and one subscriber user and
// returns their tokens and an open room all have joined.
func benchRoom(b *testing.B, cfg Config, senders int) (*Server, []string, string, string) {
	s := startRelay(b, benchLimits(cfg))
	var tokens []string
	for i := 0; i < senders; i++ {
		tokens = append(tokens, addUser(b, s.Store(), fmt.Sprintf("s%d", i)))
	}
	subTok := addUser(b, s.Store(), "sub")
	owner, err := connect(s.Addr(), tokens[0])
	if err != nil {
		b.Fatal(err)
	}
	r, err := owner.call(&proto.CreateRoom{RID: 1, Room: "bench", Join: proto.JoinOpen})
	if err != nil {
		b.Fatal(err)
	}
	owner.close()
	room := r.(*proto.OK).Room
	for _, tok := range append(tokens[1:], subTok) {
		p, err := connect(s.Addr(), tok)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.call(&proto.RoomOp{RID: 1, Room: room, Op: proto.KindJoin}); err != nil {
			b.Fatal(err)
		}
		p.close()
	}
	return s, tokens, subTok, room
}

// prebuilt returns n submits from user in room, built before timing.
func prebuilt(b *testing.B, user, room string, n int) []*proto.Submit {
	out := make([]*proto.Submit, n)
	for i := range out {
		out[i] = message(b, user, room, fmt.Sprintf("benchmark message %d from %s", i, user))
		out[i].RID = uint64(i + 1)
	}
	return out
}

// pump submits msgs pipelined (window unacked) and waits for every ack.
func pump(p *peer, msgs []*proto.Submit, window int) error {
	acks := make(chan error, 1)
	go func() {
		for n := 0; n < len(msgs); {
			f, err := p.read(30 * time.Second)
			if err != nil {
				acks <- err
				return
			}
			switch f := f.(type) {
			case *proto.Ack:
				n++
			case *proto.ErrorFrame:
				acks <- fmt.Errorf("%s: %s", f.Code, f.Reason)
				return
			}
		}
		acks <- nil
	}()
	// The relay bounds in-flight requests; the socket pushes back beyond.
	for _, m := range msgs {
		if err := p.write(m); err != nil {
			return err
		}
	}
	return <-acks
}

// BenchmarkDurableSubmits: acked (fsynced) submits per second from 8
// pipelining clients, with group commit.
func BenchmarkDurableSubmits(b *testing.B) {
	for _, mode := range []string{SyncFull, SyncNormal} {
		b.Run(mode, func(b *testing.B) { benchSubmits(b, mode) })
	}
}

func benchSubmits(b *testing.B, mode string) {
	const senders = 8
	s, tokens, _, room := benchRoom(b, Config{Sync: mode}, senders)
	per := b.N/senders + 1
	peers := make([]*peer, senders)
	msgs := make([][]*proto.Submit, senders)
	for i := range peers {
		p, err := connect(s.Addr(), tokens[i])
		if err != nil {
			b.Fatal(err)
		}
		defer p.close()
		peers[i], msgs[i] = p, prebuilt(b, p.user, room, per)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for i := range peers {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- pump(peers[i], msgs[i], 0) }()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(per*senders)/elapsed.Seconds(), "submits/s")
	reportCommits(b, s)
}

// rawSubscriber counts event frames without decoding them, so the client
// side costs as little CPU as possible on the shared machine.
type rawSubscriber struct {
	ws     *websocket.Conn
	events atomic.Int64
}

var eventMark = []byte("\x65event")

func subscribeRaw(b testing.TB, addr, token, room string, since uint64) *rawSubscriber {
	p, err := connect(addr, token)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.write(&proto.Subscribe{RID: 1, Room: room, Since: since}); err != nil {
		b.Fatal(err)
	}
	rs := &rawSubscriber{ws: p.ws}
	// connect left the welcome's 5 s read deadline on the connection; a
	// benchmark runs longer, and a read past it would end the count early.
	rs.ws.SetReadDeadline(time.Time{})
	go func() {
		for {
			_, data, err := rs.ws.ReadMessage()
			if err != nil {
				return
			}
			if len(data) > 16 && bytes.Contains(data[:16], eventMark) {
				rs.events.Add(1)
			}
		}
	}()
	return rs
}

func waitCount(subs []*rawSubscriber, want int64, deadline time.Time) bool {
	for time.Now().Before(deadline) {
		done := true
		for _, s := range subs {
			if s.events.Load() < want {
				done = false
				break
			}
		}
		if done {
			return true
		}
		time.Sleep(200 * time.Microsecond)
	}
	return false
}

// BenchmarkFanout200: event deliveries per second to 200 websocket
// subscribers on loopback; one pipelining sender.
func BenchmarkFanout200(b *testing.B) {
	const nsubs = 200
	s, tokens, subTok, room := benchRoom(b, Config{SendQueue: 4096}, 1)
	subs := make([]*rawSubscriber, nsubs)
	for i := range subs {
		subs[i] = subscribeRaw(b, s.Addr(), subTok, room, s.hub.room(room).head)
	}
	defer func() {
		for _, sub := range subs {
			sub.ws.Close()
		}
	}()
	p, err := connect(s.Addr(), tokens[0])
	if err != nil {
		b.Fatal(err)
	}
	defer p.close()
	msgs := prebuilt(b, p.user, room, b.N)
	time.Sleep(100 * time.Millisecond) // let subscriptions settle
	b.ResetTimer()
	start := time.Now()
	if err := pump(p, msgs, 0); err != nil {
		b.Fatal(err)
	}
	if !waitCount(subs, int64(b.N), time.Now().Add(60*time.Second)) {
		b.Fatalf("subscribers did not get every event in 60 s (%d disconnected as slow)", s.metrics.slowKills.Load())
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if k := s.metrics.slowKills.Load(); k > 0 {
		b.Fatalf("%d subscribers disconnected as slow", k)
	}
	b.ReportMetric(float64(b.N*nsubs)/elapsed.Seconds(), "deliveries/s")
}

// BenchmarkLatencyAt1000: submit-to-delivery latency with one sender paced
// at 1,000 messages per second and latencySubs subscribers; p50 and p99
// over every delivery. full and normal run the relay in the benchmark's
// process, where its commits are traced; full-process and normal-process
// run it as a process of its own, as a relay runs and as outside load
// generators measure it, so the subscribers' decoding and garbage are not
// the relay's. raw is the baseline in the same run: the same paced frames
// through rawBroadcast (gathered writes, no protocol, store or fsync) to as
// many subscribers, and raw-process the same broadcast in a process of its
// own (full-process's baseline); sqlite, the disk's: the same pace committed to a bare
// SQLite file (benchBareSQLiteLatency).
func BenchmarkLatencyAt1000(b *testing.B) {
	for _, mode := range []string{SyncFull, SyncNormal} {
		b.Run(mode, func(b *testing.B) { benchLatency(b, Config{Sync: mode}) })
	}
	for _, mode := range []string{SyncFull, SyncNormal} {
		b.Run(mode+"-process", func(b *testing.B) { benchLatencyProcess(b, mode) })
	}
	// The writer as it was before it committed as soon as it was idle.
	b.Run("full-window200us", func(b *testing.B) { benchLatency(b, Config{Sync: SyncFull, BatchWindow: 200 * time.Microsecond}) })
	b.Run("raw", benchRawLatency)
	b.Run("raw-process", benchRawLatencyProcess)
	b.Run("sqlite", benchBareSQLiteLatency)
}

// latencySubs is issue 18's paced case: 1,000 msg/s to 50 subscribers.
const latencySubs = 50

// benchLatency measures a relay in this process, with its commit trace.
func benchLatency(b *testing.B, cfg Config) {
	s, tokens, subTok, room := benchRoom(b, cfg, 1)
	// Set once the warm-up's commits are done (no batch in flight), so the
	// trace holds the measured ones only.
	trace := &commitTrace{}
	measuring := func() { s.hub.trace.Store(trace) }
	dels, cpu := measureLatency(b, s.Addr(), tokens[0], subTok, room, s.hub.room(room).head, selfUsage, measuring)
	recs := trace.snapshot()
	if len(recs) > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(len(recs)), "cpu-us/commit")
	}
	var ckpts []sqlite.CheckpointRun
	if st, ok := s.db.(*sqlite.Store); ok {
		ckpts = st.Checkpoints()
	}
	reportLatencyTrace(b, recs, ckpts, dels)
}

// benchLatencyProcess measures a relay running as a process of its own
// (this test binary as runChild, which serves as `mimichat relay` does) on
// a data directory benchRoom prepared.
func benchLatencyProcess(b *testing.B, sync string) {
	dir := b.TempDir()
	s, tokens, subTok, room := benchRoom(b, Config{Data: dir, Sync: sync}, 1)
	head := s.hub.room(room).head
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	c := startChild(b, dir, sync, childBenchEnv+"=1")
	defer c.stop()
	measureLatency(b, c.addr, tokens[0], subTok, room, head, processUsage(c.cmd.Process.Pid), nil)
}

// latencyWarmUp is how many paced messages measureLatency sends before it
// measures: half a second of the same load, so a relay process started a
// moment ago (and a new Server's connections) run as they do after a
// while, not in their first second.
const latencyWarmUp = 500

// measureLatency runs the paced case against the relay at addr: nsubs
// subscribers of room from head, latencyWarmUp paced submits it does not
// measure, then b.N submits from sender's user at start + i ms. It reports sent/s, p50-ms, p99-ms, and the measured
// process's cpu-us/msg and system calls per message (usage: this process
// or the relay's), and returns every delivery and the CPU time used.
// measuring, if set, is called after the warm-up, with nothing in flight.
func measureLatency(b *testing.B, addr, sender, subTok, room string, head uint64, usage func() processStats,
	measuring func()) ([]latencyDelivery, time.Duration) {
	const nsubs = latencySubs
	p, err := connect(addr, sender)
	if err != nil {
		b.Fatal(err)
	}
	defer p.close()
	msgs := prebuilt(b, p.user, room, b.N)
	sent := make([]atomic.Int64, b.N) // unix ns of each submit, by index
	index := make(map[string]int, b.N)
	for i, m := range msgs {
		index[string(m.ID)] = i
	}
	warm := make([]*proto.Submit, latencyWarmUp)
	for i := range warm {
		warm[i] = message(b, p.user, room, fmt.Sprintf("warm-up message %d", i))
		warm[i].RID = uint64(b.N + i + 1)
	}
	var mu sync.Mutex
	var dels []latencyDelivery
	var wg sync.WaitGroup
	for i := 0; i < nsubs; i++ {
		sub, err := connect(addr, subTok)
		if err != nil {
			b.Fatal(err)
		}
		defer sub.close()
		if err := sub.write(&proto.Subscribe{RID: 1, Room: room, Since: head}); err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]latencyDelivery, 0, b.N)
			for len(local) < b.N {
				f, err := sub.read(30 * time.Second)
				if err != nil {
					break
				}
				if e, ok := f.(*proto.Event); ok {
					now := time.Now().UnixNano()
					if i, ok := index[string(e.ID)]; ok { // not a warm-up
						local = append(local, latencyDelivery{seq: e.Seq, sent: sent[i].Load(), at: now})
					}
				}
			}
			mu.Lock()
			dels = append(dels, local...)
			mu.Unlock()
		}()
	}
	go func() { // drain acks
		for n := 0; n < latencyWarmUp+b.N; n++ {
			if _, err := p.read(30 * time.Second); err != nil {
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	for i, m := range warm {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Millisecond)))
		if err := p.write(m); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if measuring != nil {
		measuring()
	}
	b.ResetTimer()
	before := usage()
	// Message i leaves at start + i ms: a late send is followed by quicker
	// ones, so the average rate is exactly 1,000/s.
	start = time.Now()
	for i, m := range msgs {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Millisecond)))
		sent[i].Store(time.Now().UnixNano())
		if err := p.write(m); err != nil {
			b.Fatal(err)
		}
	}
	rate := float64(b.N) / time.Since(start).Seconds()
	wg.Wait()
	b.StopTimer()
	used := usage().since(before)
	used.report(b, b.N)
	b.ReportMetric(rate, "sent/s")
	if len(dels) != b.N*nsubs {
		b.Fatalf("%d deliveries, want %d", len(dels), b.N*nsubs)
	}
	lat := make([]time.Duration, len(dels))
	for i, d := range dels {
		lat[i] = d.latency()
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	return dels, used.cpu
}

// BenchmarkResync200: after a relay restart, the time for 200 clients, each
// 500 events behind, to reconnect, authenticate, resubscribe from their
// cursor and catch up.
func BenchmarkResync200(b *testing.B) {
	const nsubs, behind = 200, 500
	dir := b.TempDir()
	s, tokens, subTok, room := benchRoom(b, Config{Data: dir}, 1)
	p, err := connect(s.Addr(), tokens[0])
	if err != nil {
		b.Fatal(err)
	}
	if err := pump(p, prebuilt(b, p.user, room, 2*behind), 0); err != nil {
		b.Fatal(err)
	}
	p.close()
	head := s.hub.room(room).head
	s.Shutdown(b.Context())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cfg := benchLimits(Config{Data: dir})
		b.StartTimer()
		start := time.Now()
		s := startRelay(b, cfg)
		subs := make([]*rawSubscriber, nsubs)
		var wg sync.WaitGroup
		for j := range subs {
			wg.Add(1)
			go func() { defer wg.Done(); subs[j] = subscribeRaw(b, s.Addr(), subTok, room, head-behind) }()
		}
		wg.Wait()
		if !waitCount(subs, behind, time.Now().Add(30*time.Second)) {
			b.Fatal("clients did not catch up in 30 s")
		}
		elapsed := time.Since(start)
		b.StopTimer()
		for _, sub := range subs {
			sub.ws.Close()
		}
		s.Shutdown(b.Context())
		b.ReportMetric(elapsed.Seconds(), "resync-s")
		b.StartTimer()
	}
}

func reportCommits(b *testing.B, s *Server) {
	c := s.metrics.commits.Load()
	if c == 0 {
		return
	}
	b.ReportMetric(float64(s.metrics.committed.Load())/float64(c), "reqs/commit")
	b.ReportMetric(float64(s.metrics.commitNanos.Load())/float64(c)/1e6, "ms/commit")
}

// benchLimits lifts the per-user budgets that protect a relay from one
// user: the benchmarks' subscribers share one user, and measure the relay's
// throughput, not its rate limiting.
func benchLimits(cfg Config) Config {
	TuneGC() // a relay's process runs with them (cli/relay.go)
	cfg.RatePerSec = -1
	cfg.MaxConnsPerUser = -1
	cfg.SubscribeRate = -1
	cfg.ReadBytesPerSec = -1
	return cfg
}
