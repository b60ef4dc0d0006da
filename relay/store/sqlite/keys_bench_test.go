package sqlite

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"mimichat/relay/store"
)

// BenchmarkStoredCommits: the store's part of BenchmarkSubmitsStored
// (relay), without the relay's network and encoding, so that what a large
// store adds to a commit shows with far less noise. It opens an empty store
// and one holding MIMICHAT_STORED_EVENTS (default 1,000,000) events of
// 1 KiB in one room, seeded in batches of 50,000 as the relay benchmark
// does (whatever merge state that leaves), and runs on each the relay's
// writer's work for 32,000 submits: commits of 500 keyed events of 1 KiB,
// each looked up first (Submitted) then appended (AppendBatch, SyncFull).
// It reports the process's CPU per commit and the wall time per commit of
// both, their ratios (empty / stored: 1 is no cost), and the open time of
// the large store. MIMICHAT_STORED_COMMITS (default 64) sets the commits
// per phase: 600 (300,000 submits) is a sustained load that runs the
// key merge at its catch-up rate (keys.go, mergeCatchUp) at 1 M events,
// where the default burst merges next to nothing. MIMICHAT_STORED_PROFILE=FILE profiles the large store's
// commits of run N into FILE.N and the empty store's into FILE.N.empty.
//
//	go test -run '^$' -bench StoredCommits -benchtime 1x -timeout 0 ./relay/store/sqlite/
func BenchmarkStoredCommits(b *testing.B) {
	stored := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("MIMICHAT_STORED_EVENTS")); err == nil && v > 0 {
		stored = v
	}
	commits := 64
	if v, err := strconv.Atoi(os.Getenv("MIMICHAT_STORED_COMMITS")); err == nil && v > 0 {
		commits = v
	}
	template := seededStore(b, stored)
	for b.Loop() {
		emptyCPU, emptyWall, _, emptyWrote := storedCommits(b, "", commits)
		cpu, wall, open, wrote := storedCommits(b, template, commits)
		b.ReportMetric(emptyCPU, "empty_cpu_us/commit")
		b.ReportMetric(cpu, "stored_cpu_us/commit")
		b.ReportMetric(emptyCPU/cpu, "cpu_empty/stored")
		b.ReportMetric(emptyWall/wall, "wall_empty/stored")
		b.ReportMetric(open, "stored_open_ms")
		// Bytes the process had written to storage (WAL and checkpoints)
		// per commit: what the larger store adds to the disk's work, the
		// same at any load.
		b.ReportMetric(emptyWrote, "empty_write_kib/commit")
		b.ReportMetric(wrote, "stored_write_kib/commit")
	}
}

const storedRoom = "mimi://example.com/r/stored"

// seeded is the seeded store's template, kept for the -count runs of one
// process (removed by TestMain).
var seeded struct {
	dir    string
	events int
}

// seededStore returns a directory holding a store of n events in
// storedRoom, seeded once per process.
func seededStore(b *testing.B, n int) string {
	if seeded.dir != "" && seeded.events == n {
		return seeded.dir
	}
	dir, err := os.MkdirTemp("", "stored-commits-")
	if err != nil {
		b.Fatal(err)
	}
	seeded.dir, seeded.events = dir, n
	s, err := Open(dir, SyncFull)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.AppendBatch(ctx, store.Batch{Rooms: []store.Room{{URI: storedRoom, History: "shared", JoinPolicy: "open", Receipts: "on"}}}); err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 1024)
	rand.Read(body)
	const perTx = 50_000
	start := time.Now()
	for seq := uint64(0); seq < uint64(n); {
		var bt store.Batch
		for range min(perTx, uint64(n)-seq) {
			seq++
			copy(body, fmt.Sprintf("seed %d ", seq))
			key := store.SubmitKey(body)
			bt.Events = append(bt.Events, store.Event{Room: storedRoom, Seq: seq, TS: int64(seq), Key: key[:], Frame: body})
		}
		if err := s.AppendBatch(ctx, bt); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d events in %v", n, time.Since(start).Round(time.Millisecond))
	return dir
}

// profiles counts the profiles storedCommits wrote (MIMICHAT_STORED_PROFILE).
var profiles int

// storedCommits copies template (a fresh store if "") into a new
// directory, opens it and runs commits of 500 new keyed events of
// 1 KiB, each batch looked up first; it returns the process's CPU
// microseconds and the wall microseconds per commit, and the open's
// milliseconds.
func storedCommits(b *testing.B, template string, commits int) (cpuPerCommit, wallPerCommit, openMs, writeKiBPerCommit float64) {
	b.StopTimer()
	defer b.StartTimer()
	dir := b.TempDir()
	ctx := context.Background()
	if template != "" {
		for _, name := range []string{File, File + "-wal"} {
			if err := copyFile(filepath.Join(template, name), filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
				b.Fatal(err)
			}
		}
	}
	t0 := time.Now()
	s, err := Open(dir, SyncFull)
	if err != nil {
		b.Fatal(err)
	}
	openMs = float64(time.Since(t0).Microseconds()) / 1000
	defer s.Close()
	head, err := s.Head(ctx, storedRoom)
	if err != nil {
		b.Fatal(err)
	}
	if template == "" {
		if err := s.AppendBatch(ctx, store.Batch{Rooms: []store.Room{{URI: storedRoom, History: "shared", JoinPolicy: "open", Receipts: "on"}}}); err != nil {
			b.Fatal(err)
		}
	}
	const perCommit = 500
	batches := make([]store.Batch, commits)
	keys := make([][][]byte, commits)
	seq := head.Seq
	for i := range batches {
		for range perCommit {
			seq++
			body := make([]byte, 1024)
			rand.Read(body)
			key := store.SubmitKey(body)
			keys[i] = append(keys[i], key[:])
			batches[i].Events = append(batches[i].Events, store.Event{Room: storedRoom, Seq: seq, TS: int64(seq), Key: key[:], Frame: body})
		}
	}
	if path := os.Getenv("MIMICHAT_STORED_PROFILE"); path != "" {
		profiles++
		path += "." + strconv.Itoa((profiles+1)/2)
		if template == "" {
			path += ".empty"
		}
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	start, cpu0, wrote0 := time.Now(), cpuTime(), writeBytes()
	for i := range batches {
		if _, err := s.Submitted(ctx, storedRoom, keys[i]); err != nil {
			b.Fatal(err)
		}
		if err := s.AppendBatch(ctx, batches[i]); err != nil {
			b.Fatal(err)
		}
	}
	wall, cpu, wrote := time.Since(start), cpuTime()-cpu0, writeBytes()-wrote0
	b.Logf("stored %d: %d keys merged in %d commits of %d; tail %d open, %d frozen, %d of them merged",
		head.Seq, s.keys.merged, commits, perCommit, len(s.keys.open), len(s.keys.frozen), s.keys.at)
	return float64(cpu.Microseconds()) / float64(commits), float64(wall.Microseconds()) / float64(commits), openMs,
		float64(wrote) / 1024 / float64(commits)
}

// writeBytes is the bytes this process has caused to be written to
// storage (write_bytes in /proc/self/io; 0 where it is missing).
func writeBytes() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	// Synced, so that the copy's writeback does not run beside the commits.
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
