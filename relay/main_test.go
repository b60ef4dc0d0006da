package relay

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
)

// childEnv makes the test binary act as a relay process (see runChild), so
// the fault test can SIGKILL a real relay process without package main.
const (
	childEnv     = "MIMICHAT_RELAY_TEST_CHILD_DATA"
	childSyncEnv = "MIMICHAT_RELAY_TEST_CHILD_SYNC"
	// childClusterEnv, "NODE|ROUTE|PEER,PEER,…|NATS[|ADVERTISE]", makes the
	// child a cluster node (ClusterConfig Node, Listen, Peers, NATSListen,
	// Advertise).
	childClusterEnv = "MIMICHAT_RELAY_TEST_CHILD_CLUSTER"
	// childBenchEnv lifts the child's per-user budgets (benchLimits).
	childBenchEnv = "MIMICHAT_RELAY_TEST_CHILD_BENCH"
	// childProfileEnv names a file for the child's CPU profile, written
	// when it stops on SIGTERM or SIGINT.
	childProfileEnv = "MIMICHAT_RELAY_TEST_CHILD_CPUPROFILE"
	// childRawEnv, a rawBroadcast mode, makes the child serve that
	// baseline instead of a relay (runRawChild).
	childRawEnv = "MIMICHAT_RELAY_TEST_CHILD_RAW"
)

func TestMain(m *testing.M) {
	flag.Parse()
	// Every commit the relay checks in a test also rebuilds the roster and
	// walks every leaf (roster.go): the incremental answers must agree.
	// Benchmarks measure the relay as it runs, without the O(n) walk.
	crossCheckRoster = flag.Lookup("test.bench").Value.String() == ""
	if mode := os.Getenv(childRawEnv); mode != "" {
		os.Exit(runRawChild(mode))
	}
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(runChild(dir))
	}
	os.Exit(m.Run())
}

// runChild serves a relay on 127.0.0.1:0 over dir and prints its address.
func runChild(dir string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := Config{Listen: "127.0.0.1:0", Data: dir, Domain: "example.com", RatePerSec: -1, Logger: log,
		Sync: os.Getenv(childSyncEnv)}
	if os.Getenv(childBenchEnv) != "" {
		cfg = benchLimits(cfg)
	}
	if c := os.Getenv(childClusterEnv); c != "" {
		f := strings.Split(c, "|")
		if len(f) != 4 && len(f) != 5 {
			fmt.Fprintf(os.Stderr, "%s=%q: want NODE|ROUTE|PEERS|NATS[|ADVERTISE]\n", childClusterEnv, c)
			return 2
		}
		cfg.Cluster = &ClusterConfig{Node: f[0], Listen: f[1], Peers: strings.Split(f[2], ","), NATSListen: f[3]}
		if len(f) == 5 {
			cfg.Cluster.Advertise = f[4]
		}
	}
	if path := os.Getenv(childProfileEnv); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	TuneGC() // as `mimichat relay` does
	err := Serve(ctx, cfg, func(addr string) { fmt.Printf("ADDR %s\n", addr) })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
