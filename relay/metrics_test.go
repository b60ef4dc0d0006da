package relay

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay/store/sqlite"
)

// scrape reads /metrics and returns each unlabelled sample by name.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("bad metrics line %q", line)
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			t.Fatalf("bad metrics line %q: %v", line, err)
		}
		out[name] = v
	}
	return out
}

// TestMetrics scrapes /metrics on its own loopback listener before and
// after some traffic and checks every counter it names moved.
func TestMetrics(t *testing.T) {
	s := startRelay(t, Config{MetricsListen: "127.0.0.1:0", RatePerSec: 1, RateBurst: 5, ErrorBudget: 100})
	if s.MetricsAddr() == "" {
		t.Fatal("no metrics listener")
	}
	before := scrape(t, s.MetricsAddr())
	for _, name := range []string{"mimichat_relay_connections", "mimichat_relay_submits_total", "mimichat_relay_deliveries_total",
		"mimichat_relay_commit_batch_requests_count", "mimichat_relay_commit_seconds_count", "mimichat_relay_store_errors_total",
		"mimichat_relay_rate_limited_total", "mimichat_relay_tail_cache_bytes"} {
		if _, ok := before[name]; !ok {
			t.Fatalf("/metrics has no %s", name)
		}
	}
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	bob := dial(t, s.Addr(), addUser(t, s.Store(), "bob"))
	room := alice.createRoom("r", proto.CreateRoom{})
	alice.mustOp(room, proto.KindInvite, bob.user)
	bob.mustOp(room, proto.KindJoin, "")
	bob.subscribe(room, 0)
	if evs := bob.events(room, 3, 30*time.Second); len(evs) != 3 { // replayed: the tail is loaded
		t.Fatalf("bob replayed %d events, want 3", len(evs))
	}
	alice.post(room, "hello")
	if evs := bob.events(room, 1, 30*time.Second); len(evs) != 1 {
		t.Fatal("bob did not receive alice's post")
	}
	overBudget(t, alice, room, 5, 1)
	after := scrape(t, s.MetricsAddr())
	for _, m := range []struct {
		name string
		min  float64
	}{
		{"mimichat_relay_connections", 2},
		{"mimichat_relay_submits_total", 1},
		{"mimichat_relay_deliveries_total", 1},
		{"mimichat_relay_replayed_total", 3},
		{"mimichat_relay_commits_total", 3},
		{"mimichat_relay_commit_batch_requests_count", 3},
		{"mimichat_relay_commit_seconds_count", 3},
		{"mimichat_relay_rate_limited_total", 1},
		{"mimichat_relay_tail_cache_bytes", 1},
	} {
		if d := after[m.name] - before[m.name]; d < m.min {
			t.Errorf("%s moved by %g, want at least %g", m.name, d, m.min)
		}
	}
	if !t.Failed() {
		t.Logf("after: connections %g, submits %g, deliveries %g, commits %g, rate_limited %g, tail cache %g bytes",
			after["mimichat_relay_connections"], after["mimichat_relay_submits_total"], after["mimichat_relay_deliveries_total"],
			after["mimichat_relay_commits_total"], after["mimichat_relay_rate_limited_total"], after["mimichat_relay_tail_cache_bytes"])
	}
}

// overBudget posts into room, one submit at a time, until the relay refuses
// one rate_limited, and checks the write budget's guarantee: a bucket of
// burst tokens refilled at rate a second admits at most burst + rate ×
// the time taken. It asserts no wall-clock window (a loaded machine may
// stretch the submits over seconds, during which the bucket refills and
// admits more: a fixed count of submits was then all acked and the test
// failed); it stops after 1,000 submits or a minute.
func overBudget(t *testing.T, c *client, room string, burst int, rate float64) {
	t.Helper()
	start := time.Now()
	acked := 0
	for i := 0; ; i++ {
		if i == 1000 || time.Since(start) > time.Minute {
			t.Fatalf("%d submits acked in %v, none refused rate_limited", acked, time.Since(start))
		}
		s := message(t, c.user, room, fmt.Sprintf("over budget %d", i))
		s.RID = c.nextRID()
		c.send(s)
		f := answer(t, c, s.RID)
		if ef, ok := f.(*proto.ErrorFrame); ok {
			if ef.Code != proto.CodeRateLimited {
				t.Fatalf("submit %d: %s (%s), want %s", i, ef.Code, ef.Reason, proto.CodeRateLimited)
			}
			break
		}
		acked++
	}
	elapsed := time.Since(start)
	if limit := float64(burst) + rate*elapsed.Seconds(); float64(acked) > limit {
		t.Fatalf("%d submits acked in %v before a refusal; the budget admits at most %.1f", acked, elapsed, limit)
	}
}

// answer waits (up to 30 s) for the ack or error frame answering rid,
// stashing events and signals.
func answer(t *testing.T, c *client, rid uint64) proto.Frame {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		switch f := c.next(time.Until(deadline)).(type) {
		case *proto.Ack:
			if f.RID == rid {
				return f
			}
		case *proto.ErrorFrame:
			if f.RID == rid {
				return f
			}
			t.Fatalf("error frame for rid %d, want %d: %s (%s)", f.RID, rid, f.Code, f.Reason)
		default:
			c.stash = append(c.stash, f)
		}
	}
}

// TestMetricsStoreErrors: a failed commit moves store_errors_total.
func TestMetricsStoreErrors(t *testing.T) {
	dir := t.TempDir()
	s, fs := startFailing(t, dir, Config{MetricsListen: "127.0.0.1:0"})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	room := alice.createRoom("r", proto.CreateRoom{})
	before := scrape(t, s.MetricsAddr())["mimichat_relay_store_errors_total"]
	fs.failNext.Store(true)
	alice.send(message(t, alice.user, room, "lost"))
	alice.expectError(proto.CodeInternal)
	if after := scrape(t, s.MetricsAddr())["mimichat_relay_store_errors_total"]; after != before+1 {
		t.Fatalf("store_errors_total %g -> %g, want +1", before, after)
	}
}

// TestMetricsRefusedBeyondLoopback: metrics are not served on a
// non-loopback address without --insecure.
func TestMetricsRefusedBeyondLoopback(t *testing.T) {
	_, err := Start(Config{Data: t.TempDir(), Listen: "127.0.0.1:0", MetricsListen: "0.0.0.0:0", Logger: discard()})
	if err == nil || !strings.Contains(err.Error(), "metrics") {
		t.Fatalf("Start with public metrics: %v", err)
	}
}

// startFailing runs a relay over the SQLite store in dir wrapped in a
// failingStore.
func startFailing(t *testing.T, dir string, cfg Config) (*Server, *failingStore) {
	t.Helper()
	db, err := sqlite.Open(dir, sqlite.SyncFull)
	if err != nil {
		t.Fatal(err)
	}
	fs := &failingStore{Store: db}
	cfg.Data, cfg.Store = dir, fs
	return startRelay(t, cfg), fs
}
