package history

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mimichat/content"
)

// A 100,000-message room: 70% text (a fifth replies), 15% reactions, 10%
// edits, 5% deletes, from 50 users, with real -08 IDs.
func bigRoom(tb testing.TB, n int) []Item {
	r := &testRoom{t: tb}
	users := make([]string, 50)
	builders := make([]*content.Builder, 50)
	for i := range users {
		users[i] = fmt.Sprintf("mimi://example.com/u/user%02d", i)
		builders[i] = r.builder(users[i])
	}
	type live struct {
		id     content.MessageID
		author int
		msg    *content.Message
	}
	var recent []live
	for i := 0; len(r.items) < n; i++ {
		u := i % 50
		b := builders[u]
		k := i % 20
		switch {
		case k < 14 || len(recent) < 10:
			var m *content.Message
			if k < 3 && len(recent) > 0 {
				m = r.m(b.Reply(recent[i%len(recent)].id, content.MarkdownPart(fmt.Sprintf("reply %d to that", i))))
			} else {
				m = r.m(b.Markdown(fmt.Sprintf("message %d: the quick brown fox jumps over the lazy dog", i)))
			}
			id := r.send(users[u], m)
			recent = append(recent, live{id, u, m})
			if len(recent) > 1000 {
				recent = recent[1:]
			}
		case k < 17:
			r.send(users[u], r.m(b.Reaction(recent[i%len(recent)].id, "👍")))
		case k < 19:
			l := recent[i%len(recent)]
			r.send(users[l.author], r.m(builders[l.author].Edit(l.id, l.msg, content.MarkdownPart(fmt.Sprintf("edited %d", i)))))
		default:
			j := i % len(recent)
			l := recent[j]
			r.send(users[l.author], r.m(builders[l.author].Delete(l.id, l.msg)))
			recent = append(recent[:j], recent[j+1:]...)
		}
	}
	return r.items
}

var (
	bigOnce  sync.Once
	bigItems []Item
)

func big(tb testing.TB) []Item {
	bigOnce.Do(func() { bigItems = bigRoom(tb, 100_000) })
	return bigItems
}

// peakHeap samples the live heap (as of each GC's mark phase, so garbage
// is not counted) while fn runs, and returns its peak above the live heap
// before fn started: what the streaming itself keeps alive.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	fn()
	close(done)
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

// reportCPU runs fn and reports the process CPU time it took (cpu-s/op,
// where the OS tells it): comparable across runs on a busy machine, where
// ns/op also counts the time other processes had the cores.
func reportCPU(b *testing.B, fn func()) {
	start, ok := processCPU()
	fn()
	if end, ok2 := processCPU(); ok && ok2 {
		b.ReportMetric((end - start).Seconds(), "cpu-s/op")
	}
}

func benchExport(b *testing.B, f Format) {
	items := big(b)
	now := t0.Add(24 * time.Hour).UnixMilli()
	var size int64
	b.ResetTimer()
	for b.Loop() {
		var cw countWriter
		peak := peakHeap(func() {
			reportCPU(b, func() {
				if _, err := Export(&cw, Room{ID: roomURI}, SliceSource(items), ExportOptions{Format: f, Now: now}); err != nil {
					b.Fatal(err)
				}
			})
		})
		size = cw.n
		b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
	}
	b.ReportMetric(float64(size)/1e6, "file-MB")
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func benchImport(b *testing.B, f Format) {
	items := big(b)
	now := t0.Add(24 * time.Hour).UnixMilli()
	var buf bytes.Buffer
	if _, err := Export(&buf, Room{ID: roomURI}, SliceSource(items), ExportOptions{Format: f, Now: now}); err != nil {
		b.Fatal(err)
	}
	doc := buf.Bytes()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		peak := peakHeap(func() {
			reportCPU(b, func() {
				_, _, _, err := Read(bytes.NewReader(doc), func(*Item) error { n++; return nil })
				if err != nil {
					b.Fatal(err)
				}
			})
		})
		if n < 90_000 {
			b.Fatalf("imported %d items", n)
		}
		b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
	}
	b.ReportMetric(float64(len(doc))/1e6, "file-MB")
}

func BenchmarkExportVCon100k(b *testing.B) { benchExport(b, FormatVCon) }
func BenchmarkExportCPIM100k(b *testing.B) { benchExport(b, FormatCPIM) }
func BenchmarkImportVCon100k(b *testing.B) { benchImport(b, FormatVCon) }
func BenchmarkImportCPIM100k(b *testing.B) { benchImport(b, FormatCPIM) }
