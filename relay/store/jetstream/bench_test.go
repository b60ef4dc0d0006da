package jetstream

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"mimichat/internal/freeport"
	"mimichat/relay/store"
	"mimichat/relay/store/sqlite"
)

// BenchmarkAppend stores message events the way the relay's writer does
// (one AppendBatch per group commit, each event with its submission key),
// on SQLite (the baseline, fsync per commit), JetStream alone (R1) and a
// 3-node JetStream cluster in this process (R3, quorum-acked, every node
// fsyncing). It reports events/s.
func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{1, 64, 512} {
		for _, backend := range []string{"sqlite", "jetstream-R1", "jetstream-R3"} {
			b.Run(fmt.Sprintf("%s/batch=%d", backend, batch), func(b *testing.B) {
				s := openBench(b, backend)
				benchAppend(b, s, batch)
			})
		}
	}
}

func openBench(b *testing.B, backend string) store.Store {
	b.Helper()
	var s store.Store
	var err error
	switch backend {
	case "sqlite":
		s, err = sqlite.Open(b.TempDir(), sqlite.SyncFull)
	case "jetstream-R1":
		s, err = Open(Options{Dir: b.TempDir()})
	case "jetstream-R3":
		s, err = openCluster3(b)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// openCluster3 starts three embedded servers joined by routes on loopback
// and returns a store on the first (the other two are closed at cleanup).
func openCluster3(b *testing.B) (store.Store, error) {
	routes := freeport.Addrs(b, 3)
	stores := make([]*Store, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(Options{Dir: b.TempDir(), Name: fmt.Sprintf("n%d", i+1), ClusterListen: routes[i], Peers: routes})
		}()
	}
	wg.Wait()
	for i := 1; i < 3; i++ {
		if stores[i] != nil {
			b.Cleanup(func() { stores[i].Close() })
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return stores[0], nil
}

func benchAppend(b *testing.B, s store.Store, batch int) {
	ctx := context.Background()
	const room = "mimi://example.com/r/bench"
	if err := s.AppendBatch(ctx, store.Batch{Rooms: []store.Room{{URI: room}}}); err != nil {
		b.Fatal(err)
	}
	frame := make([]byte, 300)
	seq := uint64(0)
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		var evs []store.Event
		for range min(batch, b.N-i) {
			seq++
			k := store.SubmitKey(fmt.Appendf(nil, "m%d", seq))
			evs = append(evs, store.Event{Room: room, Seq: seq, TS: int64(seq), Key: k[:], Frame: frame})
		}
		if err := s.AppendBatch(ctx, store.Batch{Events: evs}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
