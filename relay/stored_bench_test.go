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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
)

// BenchmarkSubmitsStored runs DurableSubmits' load (8 pipelining senders,
// sync full) against a relay whose room holds nothing and against one
// whose room holds MIMICHAT_STORED_EVENTS (default 1,000,000) events of
// 1 KiB, seeded straight into the store in transactions of 50,000 before
// the relays start, and reports both rates and their ratio.
//
// Both relays run side by side and are measured in alternate rounds
// (MIMICHAT_STORED_ROUNDS, default 4, each a slice of every sender's
// submits to one relay, in the order empty, stored, stored, empty, empty,
// …), with a pause after each round in which the measured relay's
// checkpointer copies what the round wrote. Each relay thus gets the same
// submits as when the two were measured one after the other, but a
// stretch of load from other processes, or of slow fsyncs after the
// seeding's gigabytes, falls on both rather than on one (in quiet runs
// of the one-after-the-other version, 4 of 10 ratios were 0.73–0.76 while
// the median was 0.90). MIMICHAT_STORED_ROUNDS=1 measures each relay
// once, empty first, both after the seeding.
//
// MIMICHAT_STORED_SUBMITS sets the submits per sender (default 4,000):
// a sustained load must pass 125,000 submits in all for the 1 M store's
// key merge to run at its catch-up rate (relay/store/sqlite, keys.go),
// which the default burst does not reach.
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
	rounds := 4
	if v, err := strconv.Atoi(os.Getenv("MIMICHAT_STORED_ROUNDS")); err == nil && v > 0 {
		rounds = min(v, perSender)
	}
	for b.Loop() {
		b.StopTimer()
		// Both stores are written before either relay starts: a
		// connection idle for the seeding's 20-70 s would pass the
		// relay's read timeout.
		empty, full := newStoredSide(b, 0, senders), newStoredSide(b, stored, senders)
		empty.start(b, perSender)
		full.start(b, perSender)
		for r := range rounds {
			from, to := r*perSender/rounds, (r+1)*perSender/rounds
			order := []*storedSide{empty, full}
			if r%2 == 1 {
				order = []*storedSide{full, empty}
			}
			for _, side := range order {
				side.round(b, r, from, to)
			}
		}
		b.StartTimer()
		emptyRate, fullRate := empty.rate(), full.rate()
		b.ReportMetric(emptyRate, "empty_submits/s")
		b.ReportMetric(fullRate, "stored_submits/s")
		b.ReportMetric(fullRate/emptyRate, "stored/empty")
		// CPU time of the whole test process (relay and clients) per
		// submit: on a shared machine the wall-clock rates above measure
		// the other processes too, this does not.
		b.ReportMetric(empty.cpuPerSubmit(), "empty_cpu_us/submit")
		b.ReportMetric(full.cpuPerSubmit(), "stored_cpu_us/submit")
		b.ReportMetric(empty.cpuPerSubmit()/full.cpuPerSubmit(), "cpu_empty/stored")
		var ratios []string
		for r := range rounds {
			ratios = append(ratios, fmt.Sprintf("%.2f", empty.walls[r].Seconds()/full.walls[r].Seconds()))
		}
		b.Logf("stored/empty by round: %s", strings.Join(ratios, " "))
	}
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// storedSide is one relay of BenchmarkSubmitsStored with its senders and
// their prebuilt submits, and what its rounds measured.
type storedSide struct {
	n       int // events seeded
	dir     string
	cfg     Config
	tokens  []string // the senders'
	room    string
	s       *Server
	trace   *commitTrace
	peers   []*peer
	msgs    [][]*proto.Submit
	walls   []time.Duration
	cpu     time.Duration
	submits int
}

// newStoredSide creates the bench room and senders through a relay and
// seeds n events into its log with the relay stopped.
func newStoredSide(b *testing.B, n, senders int) *storedSide {
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
	return &storedSide{n: n, dir: dir, cfg: cfg, tokens: tokens, room: room, trace: &commitTrace{}}
}

// start starts the side's relay on its data, connects the senders and
// builds their submits.
func (side *storedSide) start(b *testing.B, perSender int) {
	t0 := time.Now()
	side.s = startRelay(b, side.cfg)
	b.Logf("stored %d: relay started in %v", side.n, time.Since(t0).Round(time.Millisecond))
	side.s.hub.trace.Store(side.trace)
	side.peers, side.msgs = make([]*peer, len(side.tokens)), make([][]*proto.Submit, len(side.tokens))
	for i := range side.peers {
		p, err := connect(side.s.Addr(), side.tokens[i])
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(p.close)
		side.peers[i], side.msgs[i] = p, prebuilt(b, p.user, side.room, perSender)
	}
}

// roundPause follows each round: longer than the relay's checkpoint period,
// so the measured relay's checkpointer copies what the round wrote before
// the other relay's round starts.
const roundPause = 700 * time.Millisecond

// round has every sender submit its messages from..to, pipelined, and
// waits for their acks; it adds the round's wall time and the process's CPU
// to the side's.
func (side *storedSide) round(b *testing.B, r, from, to int) {
	s := side.s
	if path := os.Getenv("MIMICHAT_STORED_PROFILE"); path != "" {
		// A CPU profile of each round: FILE.stored.R and FILE.empty.R
		// (go tool pprof -diff_base takes several files).
		kind := "stored"
		if side.n == 0 {
			kind = "empty"
		}
		f, err := os.Create(fmt.Sprintf("%s.%s.%d", path, kind, r))
		if err != nil {
			b.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	recs0 := len(side.trace.snapshot())
	ph := startPhase(s, side.dir)
	commits0, committed0, nanos0 := s.metrics.commits.Load(), s.metrics.committed.Load(), s.metrics.commitNanos.Load()
	start, cpu0 := time.Now(), processCPU()
	var wg sync.WaitGroup
	errs := make(chan error, len(side.peers))
	for i := range side.peers {
		wg.Go(func() { errs <- pump(side.peers[i], side.msgs[i][from:to], 0) })
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	side.walls = append(side.walls, elapsed)
	side.cpu += cpu
	side.submits += len(side.peers) * (to - from)
	c := s.metrics.commits.Load() - commits0
	b.Logf("stored %d, round %d: %d submits in %v, %d commits, %.0f reqs/commit, %.2f ms/commit", side.n, r, len(side.peers)*(to-from),
		elapsed.Round(time.Millisecond), c, float64(s.metrics.committed.Load()-committed0)/float64(max(c, 1)),
		float64(s.metrics.commitNanos.Load()-nanos0)/float64(max(c, 1))/1e6)
	ph.log(b, side.n, s, side.trace.snapshot()[recs0:], elapsed)
	time.Sleep(roundPause)
}

// rate is the side's submits per second over its rounds.
func (side *storedSide) rate() float64 {
	var wall time.Duration
	for _, w := range side.walls {
		wall += w
	}
	return float64(side.submits) / wall.Seconds()
}

// cpuPerSubmit is the process's CPU microseconds per submit over the
// side's rounds.
func (side *storedSide) cpuPerSubmit() float64 {
	return float64(side.cpu.Microseconds()) / float64(side.submits)
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
