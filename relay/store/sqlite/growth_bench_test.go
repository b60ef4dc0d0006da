package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"mimichat/relay/store"
)

// BenchmarkStorageGrowth: disk bytes per stored event and append
// throughput as the store grows. It appends MIMICHAT_GROWTH_EVENTS (default
// 100,000) events with 1 KiB frames and submission keys, round-robin over
// 100 rooms, in batches of 200 (a group commit under load), through
// AppendBatch with SyncFull, and reports: the database file's bytes per
// event after Close (which checkpoints), the largest WAL seen while
// appending, bytes per event over the frame size, and events appended per
// second over the first and the last tenth of the run.
//
//	go test -run '^$' -bench StorageGrowth -benchtime 1x -timeout 0 ./relay/store/sqlite/
func BenchmarkStorageGrowth(b *testing.B) {
	total := 100_000
	if v, err := strconv.Atoi(os.Getenv("MIMICHAT_GROWTH_EVENTS")); err == nil && v > 0 {
		total = v
	}
	const rooms, batch, frameSize = 100, 200, 1024
	frame := make([]byte, frameSize)
	for i := range frame {
		frame[i] = byte('a' + i%26)
	}
	for b.Loop() {
		dir := b.TempDir()
		s, err := Open(dir, SyncFull)
		if err != nil {
			b.Fatal(err)
		}
		var maxWAL int64
		seqs := make([]uint64, rooms)
		var firstRate, lastRate float64
		tenth := total / 10
		var t0 time.Time
		for n := 0; n < total; {
			if n%tenth == 0 {
				t0 = time.Now()
			}
			var bt store.Batch
			for range batch {
				r := n % rooms
				room := fmt.Sprintf("mimi://example.com/r/room%03d", r)
				if seqs[r] == 0 {
					bt.Rooms = append(bt.Rooms, store.Room{URI: room, History: "shared", JoinPolicy: "invite", Receipts: "on"})
				}
				seqs[r]++
				key := store.SubmitKey([]byte(fmt.Sprintf("%s#%d", room, seqs[r])))
				bt.Events = append(bt.Events, store.Event{Room: room, Seq: seqs[r], TS: int64(seqs[r]), Key: key[:], Frame: frame})
				n++
			}
			if err := s.AppendBatch(context.Background(), bt); err != nil {
				b.Fatal(err)
			}
			if n%tenth == 0 {
				rate := float64(tenth) / time.Since(t0).Seconds()
				if n == tenth {
					firstRate = rate
				}
				lastRate = rate
				if fi, err := os.Stat(filepath.Join(dir, File+"-wal")); err == nil {
					maxWAL = max(maxWAL, fi.Size())
				}
			}
		}
		b.ReportMetric(float64(s.walRestarts.Load()), "wal_restarts")
		b.ReportMetric(float64(s.walRestartsBusy.Load()), "wal_restarts_busy")
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, File))
		if err != nil {
			b.Fatal(err)
		}
		perEvent := float64(fi.Size()) / float64(total)
		b.ReportMetric(perEvent, "db_bytes/event")
		b.ReportMetric(perEvent/frameSize, "db/frame")
		b.ReportMetric(float64(maxWAL)/(1<<20), "max_wal_MiB")
		b.ReportMetric(firstRate, "first_tenth_events/s")
		b.ReportMetric(lastRate, "last_tenth_events/s")
		b.ReportMetric(lastRate/firstRate, "last/first")
	}
}
