package relay

// Submit throughput with a large store beside the same with an empty one,
// in one run (issue 18: at 1M stored events it must be at least 0.8x that
// of an empty store).

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
)

// BenchmarkSubmitsStored runs DurableSubmits' load (8 pipelining senders,
// sync full) against a relay whose room holds nothing, then against one
// whose room holds MIMICHAT_STORED_EVENTS (default 1,000,000) events of
// 1 KiB, seeded straight into the store in transactions of 50,000 before
// the relay starts, and reports both rates and their ratio.
// MIMICHAT_STORED_SUBMITS sets the submits per sender (default 4,000):
// a sustained load must pass 125,000 submits in all for the 1 M store's
// key merge to run at its catch-up rate (relay/store/sqlite, keys.go),
// which the default burst does not reach. (At 40,000 per sender the
// clients' writes timed out in the empty phase, before and after the
// pacing: not investigated.)
//
//	go test ./relay -run '^$' -bench SubmitsStored -benchtime 1x -timeout 0
func BenchmarkSubmitsStored(b *testing.B) {
	stored := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("MIMICHAT_STORED_EVENTS")); err == nil && v > 0 {
		stored = v
	}
	const senders = 8
	perSender := 4000
	if v, err := strconv.Atoi(os.Getenv("MIMICHAT_STORED_SUBMITS")); err == nil && v > 0 {
		perSender = v
	}
	for b.Loop() {
		empty, emptyCPU := storedRun(b, 0, senders, perSender)
		full, fullCPU := storedRun(b, stored, senders, perSender)
		b.ReportMetric(empty, "empty_submits/s")
		b.ReportMetric(full, "stored_submits/s")
		b.ReportMetric(full/empty, "stored/empty")
		// CPU time of the whole test process (relay and clients) per
		// submit: on a shared machine the wall-clock rates above measure
		// the other processes too, this does not.
		b.ReportMetric(emptyCPU, "empty_cpu_us/submit")
		b.ReportMetric(fullCPU, "stored_cpu_us/submit")
		b.ReportMetric(emptyCPU/fullCPU, "cpu_empty/stored")
	}
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// storedRun creates the bench room through a relay, seeds n events into
// its log with the relay stopped, starts a relay on the same data and
// measures acked submits per second and the process's CPU microseconds per
// submit.
func storedRun(b *testing.B, n, senders, perSender int) (float64, float64) {
	b.StopTimer()
	defer b.StartTimer()
	dir := b.TempDir()
	// Check off: above 32 MiB the default check runs in the background after
	// the start, a one-off cost that would land in the large store's figure.
	cfg := benchLimits(Config{Sync: SyncFull, Data: dir, Check: CheckOff})
	s, tokens, _, room := benchRoom(b, cfg, senders)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	s.Shutdown(ctx)
	cancel()
	if n > 0 {
		seedEvents(b, dir, room, n)
	}
	t0 := time.Now()
	s = startRelay(b, cfg)
	b.Logf("stored %d: relay started in %v", n, time.Since(t0).Round(time.Millisecond))
	peers := make([]*peer, senders)
	msgs := make([][]*proto.Submit, senders)
	for i := range peers {
		p, err := connect(s.Addr(), tokens[i])
		if err != nil {
			b.Fatal(err)
		}
		defer p.close()
		peers[i], msgs[i] = p, prebuilt(b, p.user, room, perSender)
	}
	if path := os.Getenv("MIMICHAT_STORED_PROFILE"); path != "" {
		// A CPU profile of the submits against the large store in FILE,
		// against the empty one in FILE.empty (go tool pprof -diff_base).
		if n == 0 {
			path += ".empty"
		}
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	trace := &commitTrace{}
	s.hub.trace.Store(trace)
	ph := startPhase(s, dir)
	commits0, committed0, nanos0 := s.metrics.commits.Load(), s.metrics.committed.Load(), s.metrics.commitNanos.Load()
	start, cpu0 := time.Now(), processCPU()
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for i := range peers {
		wg.Go(func() { errs <- pump(peers[i], msgs[i], 0) })
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	c := s.metrics.commits.Load() - commits0
	b.Logf("stored %d: %d commits, %.0f reqs/commit, %.2f ms/commit", n, c,
		float64(s.metrics.committed.Load()-committed0)/float64(max(c, 1)), float64(s.metrics.commitNanos.Load()-nanos0)/float64(max(c, 1))/1e6)
	ph.log(b, n, s, trace.snapshot(), elapsed)
	return float64(senders*perSender) / elapsed.Seconds(), float64(cpu.Microseconds()) / float64(senders*perSender)
}

// seedEvents appends n message events of 1 KiB content to room's log.
func seedEvents(b *testing.B, dir, room string, n int) {
	st, err := OpenStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	h, err := st.db.Head(ctx, room)
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 1024)
	rand.Read(body)
	id := make([]byte, 32)
	const perTx = 50_000
	start := time.Now()
	for done := 0; done < n; {
		var bt store.Batch
		for range min(perTx, n-done) {
			h.Seq++
			h.TS++
			copy(body, fmt.Sprintf("seed %d ", h.Seq)) // distinct content, distinct key
			copy(id, body[:32])
			ev := &proto.Event{Room: room, Seq: h.Seq, TS: h.TS, Sender: "mimi://example.com/u/s0", Kind: proto.KindMessage, ID: id, Content: body}
			frame, err := proto.Encode(ev)
			if err != nil {
				b.Fatal(err)
			}
			key := store.SubmitKey(body)
			bt.Events = append(bt.Events, store.Event{Room: room, Seq: h.Seq, TS: h.TS, Key: key[:], Frame: frame})
			done++
		}
		if err := st.db.AppendBatch(ctx, bt); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d events in %v", n, time.Since(start).Round(time.Millisecond))
}
