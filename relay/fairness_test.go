package relay

import (
	"context"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mimichat/proto"
)

// abuser keeps window history pages of limit 500 in flight on each of its
// connections while on, ignoring refusals and reconnecting whenever the
// relay closes it: the load of issue 12 (48 MB/s of reads from one user).
type abuser struct {
	addr, token, room string
	conns, window     int
	on                atomic.Bool
	pages, limited    atomic.Int64
	bytes, reconnects atomic.Int64
}

func (a *abuser) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range a.conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				a.flood(ctx)
				a.reconnects.Add(1)
			}
		})
	}
	wg.Wait()
}

// flood runs one connection until it ends or ctx is done.
func (a *abuser) flood(ctx context.Context) {
	p, err := connect(a.addr, a.token)
	if err != nil {
		time.Sleep(10 * time.Millisecond) // refused (connection cap) or closing
		return
	}
	defer p.close()
	stop := context.AfterFunc(ctx, p.close)
	defer stop()
	inflight := make(chan struct{}, a.window)
	go func() { // the writer: keeps window requests in flight while on
		for rid := uint64(1); ctx.Err() == nil; rid++ {
			if !a.on.Load() {
				time.Sleep(time.Millisecond)
				continue
			}
			select {
			case inflight <- struct{}{}:
			case <-ctx.Done():
				return
			}
			if p.write(&proto.History{RID: rid, Room: a.room, Limit: proto.MaxHistoryLimit}) != nil {
				p.close()
				return
			}
		}
	}()
	buf := make([]byte, 4<<10)
	for {
		_, rd, err := p.ws.NextReader()
		if err != nil {
			return
		}
		// Pages are counted, not kept or decoded, so the abuser's own CPU
		// and garbage (in this test's process, unlike a real abuser's) do
		// not weigh on the relay.
		n, err := io.ReadFull(rd, buf)
		rest, _ := io.Copy(io.Discard, rd)
		a.bytes.Add(int64(n) + rest)
		switch {
		case rest > 0:
			a.pages.Add(1)
		case err != io.ErrUnexpectedEOF && err != io.EOF:
			return
		default:
			f, err := proto.Decode(buf[:n])
			if err != nil {
				return
			}
			ef, ok := f.(*proto.ErrorFrame)
			if !ok {
				continue
			}
			if ef.Code == proto.CodeRateLimited {
				a.limited.Add(1)
			}
		}
		select {
		case <-inflight:
		default:
		}
	}
}

// historyLatencies times n history requests (limit 10) of a well-behaved
// client, one at a time, 10 ms apart (about 1 MB/s, within its budget).
func historyLatencies(t *testing.T, c *client, room string, n int) []time.Duration {
	t.Helper()
	lat := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		c.send(&proto.History{RID: c.nextRID(), Room: room, Limit: 10})
		for {
			f := c.next(10 * time.Second)
			if ef, ok := f.(*proto.ErrorFrame); ok {
				t.Fatalf("well-behaved client refused: %s %s", ef.Code, ef.Reason)
			}
			if _, ok := f.(*proto.HistoryPage); ok {
				break
			}
		}
		lat = append(lat, time.Since(start))
		time.Sleep(10 * time.Millisecond)
	}
	return lat
}

func p99(lat []time.Duration) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[len(s)*99/100]
}

// TestOneUserCannotStarveAnother: with the default limits, one user keeping
// 4 × 32 history pages of 500 events in flight does not raise another
// user's history p99 above twice its baseline. Quiet and abused phases
// alternate (25 rounds of 20 samples each), so load from the rest of a
// shared machine falls on both pools alike instead of on one phase; the
// abuser hangs up after each abused phase, so nothing of it lingers into
// the next quiet one.
func TestOneUserCannotStarveAnother(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	cfg := Config{}
	if os.Getenv("MIMICHAT_FAIRNESS_UNLIMITED") != "" {
		// Shows what the limits prevent (the assertion then fails).
		cfg = Config{ReadBytesPerSec: -1, PingRate: -1, SubscribeRate: -1, MaxConnsPerUser: -1, ErrorBudget: 1 << 30, ReadConcurrency: 1 << 20}
	}
	dir := t.TempDir()
	tok := seedRooms(t, dir, 1, 600, 1<<10)
	cfg.Data = dir
	s := startRelay(t, cfg)
	alice := dial(t, s.Addr(), tok)
	room := proto.RoomURI("example.com", "room0")
	malTok := addUser(t, s.Store(), "mallory")
	mallory := dial(t, s.Addr(), malTok)
	alice.mustOp(room, proto.KindInvite, mallory.user)
	mallory.mustOp(room, proto.KindJoin, "")
	mallory.ws.Close()

	const rounds, perRound, attempts = 25, 20, 3
	ab := &abuser{addr: s.Addr(), token: malTok, room: room, conns: 4, window: 32}
	ab.on.Store(true)
	historyLatencies(t, alice, room, 20) // warm up
	// A noise spike on a shared machine can land in one pool by chance, so
	// up to 3 measurements are made: an abuse that really doubles p99
	// fails all of them.
	for attempt := 1; ; attempt++ {
		var quiet, abused []time.Duration
		var abuseTime time.Duration
		pages, bytes := ab.pages.Load(), ab.bytes.Load()
		for range rounds {
			quiet = append(quiet, historyLatencies(t, alice, room, perRound)...)
			// The abuser connects for each abused phase and hangs up after
			// it, so no request of its is left queued in a quiet phase.
			start := time.Now()
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			go func() { ab.run(ctx); close(done) }()
			time.Sleep(20 * time.Millisecond) // let the flood build up
			abused = append(abused, historyLatencies(t, alice, room, perRound)...)
			cancel()
			<-done
			abuseTime += time.Since(start)
			waitFor(t, func() bool { return s.connections() == 1 })
		}
		t.Logf("attempt %d: alice's history p99: %v quiet, %v abused (%d samples each); mallory: %d pages (%.1f MB/s), %d rate_limited so far",
			attempt, p99(quiet), p99(abused), len(quiet), ab.pages.Load()-pages, float64(ab.bytes.Load()-bytes)/abuseTime.Seconds()/1e6, ab.limited.Load())
		if p99(abused) <= 2*p99(quiet) {
			break
		}
		if attempt == attempts {
			t.Fatalf("one abusive user raised another's p99 from %v to %v (more than 2×) in %d measurements", p99(quiet), p99(abused), attempts)
		}
	}
	if ab.limited.Load() == 0 && cfg.ReadBytesPerSec == 0 {
		t.Fatal("the abuser was never rate limited")
	}
}
