package session

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"mimichat/proto"
)

// fillStore writes rooms × perRoom message entries of realistic size.
func fillStore(tb testing.TB, path string, rooms, perRoom int) {
	tb.Helper()
	st, err := OpenStore(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	if err := st.SetMeta("user", "mimi://example.com/u/alice"); err != nil {
		tb.Fatal(err)
	}
	raw := make([]byte, 180) // a typical short Markdown message
	for r := range rooms {
		id := fmt.Sprintf("mimi://example.com/r/room%02d", r)
		const chunk = 10000
		for from := 1; from <= perRoom; from += chunk {
			es := msgEntries(id, uint64(from), uint64(min(from+chunk-1, perRoom)))
			for i := range es {
				es[i].Raw = raw
			}
			if _, err := st.Commit(Room{ID: id, Name: id, State: proto.StateJoined}, es); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// BenchmarkColdStart measures what a UI does before its first frame: open
// the store of 100,000 cached messages (10 rooms × 10,000) and load the
// rooms and the last 200 entries of each.
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	fillStore(b, filepath.Join(dir, StoreFile), 10, 10000)
	b.ResetTimer()
	for b.Loop() {
		s, err := Open(Options{Relay: "ws://127.0.0.1:1/v1", User: "mimi://example.com/u/alice", DataDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, r := range s.Rooms() {
			es, err := s.Recent(r.ID, 200)
			if err != nil {
				b.Fatal(err)
			}
			n += len(es)
		}
		if n != 2000 {
			b.Fatalf("loaded %d entries", n)
		}
		s.Close()
	}
}

// BenchmarkCacheScrollback pages backwards through one room of 100,000.
func BenchmarkCacheScrollback(b *testing.B) {
	path := filepath.Join(b.TempDir(), StoreFile)
	fillStore(b, path, 1, 100000)
	st, err := OpenStore(path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	room := "mimi://example.com/r/room00"
	b.ResetTimer()
	before := uint64(100001)
	for b.Loop() {
		es, err := st.Before(room, before, 100)
		if err != nil || len(es) == 0 {
			b.Fatal(err)
		}
		before = es[0].Seq
		if before <= 1 {
			before = 100001
		}
	}
}

// BenchmarkCommit measures writing received entries in batches of 100,
// as the processor does during a burst (one fsynced transaction each).
func BenchmarkCommit(b *testing.B) {
	st := openTestStore(b)
	room := Room{ID: testRoom, State: proto.StateJoined}
	next := uint64(1)
	b.ResetTimer()
	for b.Loop() {
		if _, err := st.Commit(room, msgEntries(testRoom, next, next+99)); err != nil {
			b.Fatal(err)
		}
		next += 100
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/entry")
}

// BenchmarkEnqueue measures Send's durable outbox write.
func BenchmarkEnqueue(b *testing.B) {
	st := openTestStore(b)
	now := time.Now()
	i := 0
	for b.Loop() {
		e := msgEntry(testRoom, uint64(i))
		e.ID[3], e.ID[4] = byte(i>>16), byte(i>>24)
		if _, err := st.Enqueue(testRoom, e.ID, e.Raw, now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestColdStartUnder200ms checks the UI's budget directly, once.
func TestColdStartUnder200ms(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a 100,000-message cache")
	}
	dir := t.TempDir()
	fillStore(t, filepath.Join(dir, StoreFile), 10, 10000)
	// Best of 5: the machine is shared, and the budget is about the code,
	// not about a neighbour's burst of CPU.
	best := time.Hour
	for range 5 {
		start := time.Now()
		s, err := Open(Options{Relay: "ws://127.0.0.1:1/v1", User: "mimi://example.com/u/alice", DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range s.Rooms() {
			if _, err := s.Recent(r.ID, 200); err != nil {
				t.Fatal(err)
			}
		}
		best = min(best, time.Since(start))
		s.Close()
	}
	if best > 200*time.Millisecond {
		t.Errorf("cold start from a 100,000-message cache took %v (best of 5), budget 200ms", best)
	} else {
		t.Logf("cold start from a 100,000-message cache: %v (best of 5)", best)
	}
}
