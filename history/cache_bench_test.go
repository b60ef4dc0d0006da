package history_test

// Benchmarks of the whole import into the SQLite cache (history/cache), next
// to the format benchmarks so one command measures them all.

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"mimichat/history"
	"mimichat/history/cache"
	"mimichat/session"
)

// The whole import into the SQLite cache (one transaction), as `mimichat
// import` does it: the file streams into a room the cache does not hold.
func BenchmarkImportVConIntoStore100k(b *testing.B) { benchImportIntoStore(b, false) }

// The same file merged below a cached run (held in memory and written to
// low-n..low-1 at the commit), with every message checked against the cache.
func BenchmarkImportVConBelowRun100k(b *testing.B) { benchImportIntoStore(b, true) }

func benchImportIntoStore(b *testing.B, below bool) {
	items := history.Big(b)
	now := history.T0.Add(24 * time.Hour).UnixMilli()
	var buf bytes.Buffer
	if _, err := history.Export(&buf, history.Room{ID: history.RoomURI}, history.SliceSource(items), history.ExportOptions{Format: history.FormatVCon, Now: now}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		st := openStoreB(b)
		if below {
			if err := st.SaveRoom(session.Room{ID: history.RoomURI, Low: 1_000_000, Cursor: 999_999}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		peak := history.PeakHeap(func() {
			history.ReportCPU(b, func() {
				_, _, res, err := cache.ImportFile(st, bytes.NewReader(buf.Bytes()), "")
				if err != nil {
					b.Fatal(err)
				}
				if res.NewRoom == below || res.Imported < 90_000 {
					b.Fatalf("new room %v, imported %d", res.NewRoom, res.Imported)
				}
			})
		})
		b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
}

func openStoreB(b *testing.B) *session.Store {
	st, err := session.OpenStore(filepath.Join(b.TempDir(), "cache.db"))
	if err != nil {
		b.Fatal(err)
	}
	return st
}
