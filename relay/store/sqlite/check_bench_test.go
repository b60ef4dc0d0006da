package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"mimichat/relay/store"
)

// bigStore is the generated store BenchmarkStartCheck opens, built once per
// test binary (the benchmark function runs more than once) and removed by
// TestMain.
var bigStore struct {
	once    sync.Once
	dir     string
	err     error
	build   time.Duration
	full    time.Duration // one whole quick_check of it
	events  int64
	size    int64
	tailEvs int64
}

// benchStoreBytes is the size of the generated store:
// MIMICHAT_CHECK_BENCH_BYTES, default 1 GiB.
func benchStoreBytes() int64 {
	if v, err := strconv.ParseInt(os.Getenv("MIMICHAT_CHECK_BENCH_BYTES"), 10, 64); err == nil && v > 0 {
		return v
	}
	return 1 << 30
}

// buildBigStore writes 1 KiB events round-robin into 100 rooms until the
// file reaches size, runs one whole check (which records every room as
// checked to its head), then appends an unchecked tail of 100 events per
// room, as a relay that ran a while after its last clean check leaves it.
// It gives up after limit.
func buildBigStore(size int64, limit time.Duration) {
	t0 := time.Now()
	dir, err := os.MkdirTemp("", "mimichat-checkbench-")
	if err != nil {
		bigStore.err = err
		return
	}
	bigStore.dir = dir
	s, err := Open(dir, SyncNormal)
	if err != nil {
		bigStore.err = err
		return
	}
	const rooms = 100
	frame := make([]byte, 1024)
	for i := range frame {
		frame[i] = byte('a' + i%26)
	}
	seq := uint64(0)
	appendRound := func(n int) error {
		var b store.Batch
		for range n {
			seq++
			for r := range rooms {
				room := fmt.Sprintf("mimi://example.com/r/room%03d", r)
				if seq == 1 {
					b.Rooms = append(b.Rooms, store.Room{URI: room, History: "shared", JoinPolicy: "invite", Receipts: "on"})
				}
				key := store.SubmitKey(append(frame[:0:0], fmt.Sprintf("%s#%d", room, seq)...))
				b.Events = append(b.Events, store.Event{Room: room, Seq: seq, TS: int64(seq), Key: key[:], Frame: frame})
			}
		}
		bigStore.events += int64(len(b.Events))
		return s.AppendBatch(context.Background(), b)
	}
	for {
		if err := appendRound(20); err != nil {
			bigStore.err = err
			s.Close()
			return
		}
		if fileSize(dir) >= size {
			break
		}
		if time.Since(t0) > limit {
			bigStore.err = fmt.Errorf("building a %d MiB store took over %v", size>>20, limit)
			s.Close()
			return
		}
	}
	if err := s.Close(); err != nil {
		bigStore.err = err
		return
	}
	t1 := time.Now()
	s, err = OpenWith(dir, Options{Check: CheckFull})
	if err != nil {
		bigStore.err = err
		return
	}
	bigStore.full = time.Since(t1)
	before := bigStore.events
	if err := appendRound(100); err != nil {
		bigStore.err = err
	}
	bigStore.tailEvs = bigStore.events - before
	if err := s.Close(); err != nil && bigStore.err == nil {
		bigStore.err = err
	}
	bigStore.size = fileSize(dir)
	bigStore.build = time.Since(t0)
}

// BenchmarkStartCheck: the relay's start-up cost on a real 1 GiB store
// (MIMICHAT_CHECK_BENCH_BYTES) of 1 KiB events in 100 rooms, with an
// unchecked tail of 100 events per room since the last whole check: the
// incremental check at open (the relay's default above 32 MiB) and loading
// the rooms, each open timed on its own (the background check it starts is
// stopped by Close, untimed). Reports median, min and max of the opens and
// the time one whole quick_check of the same file took.
//
//	go test -run '^$' -bench StartCheck -benchtime 7x -timeout 0 ./relay/store/sqlite/
func BenchmarkStartCheck(b *testing.B) {
	bigStore.once.Do(func() { buildBigStore(benchStoreBytes(), 15*time.Minute) })
	if bigStore.err != nil {
		b.Skip(bigStore.err)
	}
	var opens, loads []time.Duration
	var rep CheckReport
	for b.Loop() {
		t0 := time.Now()
		s, err := OpenWith(bigStore.dir, Options{Check: CheckIncremental})
		if err != nil {
			b.Fatal(err)
		}
		opened := time.Since(t0)
		if _, err := s.LoadRooms(context.Background()); err != nil {
			b.Fatal(err)
		}
		loads = append(loads, time.Since(t0))
		opens = append(opens, opened)
		rep = s.StartCheck()
		b.StopTimer()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	med := func(d []time.Duration) float64 {
		d = slices.Clone(d)
		slices.Sort(d)
		return d[len(d)/2].Seconds()
	}
	b.ReportMetric(med(opens), "open_median_s")
	b.ReportMetric(slices.Min(opens).Seconds(), "open_min_s")
	b.ReportMetric(slices.Max(opens).Seconds(), "open_max_s")
	b.ReportMetric(med(loads), "open+load_median_s")
	b.ReportMetric(slices.Max(loads).Seconds(), "open+load_max_s")
	b.ReportMetric(bigStore.full.Seconds(), "whole_check_s")
	b.ReportMetric(float64(bigStore.size)/(1<<20), "store_MiB")
	b.ReportMetric(float64(rep.TailEvents), "tail_events")
	b.ReportMetric(float64(rep.RoomsLeft), "rooms_left")
	b.Logf("store %d MiB, %d events (built in %v); whole quick_check %v; opens %v; open+load %v; last report %+v",
		bigStore.size>>20, bigStore.events, bigStore.build.Round(time.Second), bigStore.full.Round(time.Millisecond), opens, loads, rep)
}

// fileSize is the bytes of the database file in dir (the background
// checkpoints keep it close behind the WAL).
func fileSize(dir string) int64 {
	fi, err := os.Stat(filepath.Join(dir, File))
	if err != nil {
		return 0
	}
	return fi.Size()
}
