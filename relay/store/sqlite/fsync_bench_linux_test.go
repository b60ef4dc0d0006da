package sqlite

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFdatasync is the disk under the WAL reserve (walreserve.go):
// a paced commit's write (41 KiB: five 8 KiB pages and their frame
// headers) and fdatasync every millisecond, appending to a growing file
// (a WAL without a reserve) or overwriting one already written (a
// reserved WAL); "+ckpt" adds what a checkpoint does beside the commits,
// 1 MiB appended to another file and fsynced every 500 ms. It reports the
// fdatasync's p50, p99 and maximum.
//
//	go test ./relay/store/sqlite -run '^$' -bench Fdatasync -benchtime 1000x -count 5
func BenchmarkFdatasync(b *testing.B) {
	for _, v := range []struct {
		name            string
		overwrite, ckpt bool
	}{{"append", false, false}, {"overwrite", true, false}, {"append+ckpt", false, true}, {"overwrite+ckpt", true, true}} {
		b.Run(v.name, func(b *testing.B) { benchFdatasync(b, v.overwrite, v.ckpt) })
	}
}

func benchFdatasync(b *testing.B, overwrite, ckpt bool) {
	const write = 41 << 10
	dir := b.TempDir()
	f, err := os.OpenFile(filepath.Join(dir, "wal"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, write)
	for i := range page {
		page[i] = byte(i)
	}
	if overwrite {
		if err := reserveWAL(filepath.Join(dir, "db"), int64(b.N+1)*write); err != nil {
			b.Fatal(err)
		}
		f.Close()
		if f, err = os.OpenFile(filepath.Join(dir, "db-wal"), os.O_RDWR, 0); err != nil {
			b.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if ckpt {
		g, err := os.OpenFile(filepath.Join(dir, "db"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		defer g.Close()
		wg.Go(func() {
			pages := make([]byte, 1<<20)
			t := time.NewTicker(500 * time.Millisecond)
			defer t.Stop()
			for off := int64(0); ; off += int64(len(pages)) {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				g.WriteAt(pages, off)
				g.Sync()
			}
		})
	}
	lat := make([]time.Duration, b.N)
	fd := int(f.Fd())
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Millisecond)))
		t0 := time.Now()
		if _, err := f.WriteAt(page, int64(i)*write); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(fd); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t0)
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
}
