package jetstream

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"mimichat/internal/freeport"
)

// TestPlaceableWaitsForEveryPeer: on a fresh cluster of three configured
// nodes of which two run, an R3 stream is not placeable (the error names
// the meta leader, the peers online and the routes, so the missing node
// can be told); once the third node runs, it becomes placeable (bounded
// wait), lists all three, and the create succeeds (bounded attempts).
func TestPlaceableWaitsForEveryPeer(t *testing.T) {
	routes := freeport.Addrs(t, 3)
	start := func(i int) *server.Server {
		srv, err := startServer(Options{Dir: t.TempDir(), Name: fmt.Sprintf("n%d", i+1), ClusterListen: routes[i], Peers: routes})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
		return srv
	}
	n1 := start(0)
	start(1)
	// With two of three running (seen: a fresh cluster then elects no
	// meta leader at all), an R3 stream cannot be placed.
	deadline := time.Now().Add(30 * time.Second)
	for !slices.Contains(meta(n1).routes, "n2") {
		if time.Now().After(deadline) {
			t.Fatalf("n1 has no route to n2: %s", meta(n1))
		}
		time.Sleep(50 * time.Millisecond)
	}
	err := placeable(n1, 3)
	if err == nil {
		t.Fatalf("R3 placeable with two of three nodes: %s", meta(n1))
	}
	for _, want := range []string{"R3", "routes to [n2]"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "n3") {
		t.Fatalf("error %q lists the node that never ran", err)
	}
	t.Logf("two of three nodes: %v", err)
	nc, err := nats.Connect("", nats.InProcessServer(n1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}, Storage: jetstream.FileStorage, Replicas: 3}

	start(2)
	deadline = time.Now().Add(30 * time.Second)
	for placeable(n1, 3) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("30 s after the third node started: %v", placeable(n1, 3))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v := meta(n1); strings.Join(v.online, " ") != "n1 n2 n3" {
		t.Fatalf("placeable, online peers %v", v.online)
	}
	// The new meta leader may still be catching its peers up: create as
	// ensureStream does, in attempts of 5 s (one in ~10 runs took more than
	// 10 s for its first).
	deadline = time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		_, err := js.CreateStream(ctx, cfg)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("R3 create once placeable: %v (30 s of attempts)", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
