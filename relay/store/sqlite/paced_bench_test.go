package sqlite

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"mimichat/relay/store"
)

// BenchmarkPacedCommits: the store's part of issue 18's paced latency. One
// sender queues an event every millisecond (1,000/s, small frames) and a
// committer, like the relay's writer, stores whatever has queued in one
// AppendBatch (SyncFull) as soon as the last one returned; p50 and p99 of
// queued → durable over every event, with the WAL checkpointer as it runs
// in the relay (ckpt=100ms, checkpointEvery), with the period it had
// before (ckpt=500ms) and without one (ckpt=off, the cost of the
// checkpoints by difference). cpu-us/commit is the process's CPU (the
// committer's lookup, statements and commit, the sender) per commit.
//
//	go test -run '^$' -bench PacedCommits -benchtime 2000x -count 5 ./relay/store/sqlite/
func BenchmarkPacedCommits(b *testing.B) {
	for _, v := range []struct {
		name  string
		every time.Duration
	}{{"ckpt=100ms", 0}, {"ckpt=500ms", 500 * time.Millisecond}, {"ckpt=off", time.Hour}} {
		b.Run(v.name, func(b *testing.B) {
			benchPacedCommits(b, Options{Sync: SyncFull, Create: true, checkpointEvery: v.every})
		})
	}
}

func benchPacedCommits(b *testing.B, o Options) {
	s, err := OpenWith(b.TempDir(), o)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const room = "mimi://example.com/r/paced"
	if err := s.AppendBatch(ctx, store.Batch{Rooms: []store.Room{{URI: room, History: "shared", JoinPolicy: "open", Receipts: "on"}}}); err != nil {
		b.Fatal(err)
	}
	pacedCommits(b, s, room, 0)
}

// pacedCommits runs BenchmarkPacedCommits' measure on s: b.N events of
// room after seq, one queued every millisecond, each batch looked up and
// appended as soon as the last one returned. It reports the metrics
// BenchmarkPacedCommits documents, and merged-keys: the keys the key merge
// (keys.go) moved to the index meanwhile.
func pacedCommits(b *testing.B, s *Store, room string, seq uint64) {
	ctx := context.Background()
	merged0 := s.keys.merged
	frame := make([]byte, 300)
	for i := range frame {
		frame[i] = byte('a' + i%26)
	}
	queued := make(chan time.Time, b.N)
	type paced struct{ at, durable time.Time }
	var evs []paced
	var commits []time.Duration
	done := make(chan error, 1)
	go func() {
		for n := 0; n < b.N; {
			at := []time.Time{<-queued}
		drain:
			for {
				select {
				case t := <-queued:
					at = append(at, t)
				default:
					break drain
				}
			}
			var bt store.Batch
			var keys [][]byte
			for range at {
				seq++
				key := store.SubmitKey(fmt.Appendf(nil, "paced %d", seq))
				keys = append(keys, key[:])
				bt.Events = append(bt.Events, store.Event{Room: room, Seq: seq, TS: int64(seq), Key: key[:], Frame: frame})
			}
			t0 := time.Now()
			// The relay's writer looks the batch's keys up first (dedupe).
			if _, err := s.Submitted(ctx, room, keys); err != nil {
				done <- err
				return
			}
			if err := s.AppendBatch(ctx, bt); err != nil {
				done <- err
				return
			}
			now := time.Now()
			commits = append(commits, now.Sub(t0))
			for _, t := range at {
				evs = append(evs, paced{t, now})
			}
			n += len(at)
		}
		done <- nil
	}()
	b.ResetTimer()
	cpu0, wrote0 := cpuTime(), writeBytes()
	restarts0, busy0 := s.walRestarts.Load(), s.walRestartsBusy.Load()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Millisecond)))
		queued <- time.Now()
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu, wrote := cpuTime()-cpu0, writeBytes()-wrote0
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(commits)), "cpu-us/commit")
	// What the process had written to storage (the WAL, and the
	// checkpoints' copies into the database) per commit.
	b.ReportMetric(float64(wrote)/1024/float64(len(commits)), "write-kib/commit")
	b.ReportMetric(float64(s.walRestarts.Load()-restarts0), "wal-restarts")
	// RESTARTs that could not finish (a reader or the writer busy): each
	// held the next commit for up to restartWait, and is tried again.
	b.ReportMetric(float64(s.walRestartsBusy.Load()-busy0), "wal-restarts-busy")
	// The WAL file's size after the run: its largest log since it was
	// last cut back (journal_size_limit), whether the writer restarted it
	// (wal-restarts) or SQLite did at a commit that found it all copied.
	if fi, err := os.Stat(s.path + "-wal"); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "wal-file-mib")
	}
	lat := make([]time.Duration, len(evs))
	for i, e := range evs {
		lat[i] = e.durable.Sub(e.at)
	}
	slices.Sort(lat)
	slices.Sort(commits)
	// Of the events at or above p99, the share that waited while a
	// checkpoint ran (against the share of all events, by chance).
	p99 := lat[len(lat)*99/100]
	ckpts := s.Checkpoints()
	overlaps := func(e paced, kind string) bool {
		for _, c := range ckpts {
			if c.Kind == kind && c.Start.Before(e.durable) && c.Start.Add(c.Took).After(e.at) {
				return true
			}
		}
		return false
	}
	for _, kind := range []string{"passive", "restart"} {
		tail, inTail, inAll := 0, 0, 0
		for _, e := range evs {
			in := overlaps(e, kind)
			if in {
				inAll++
			}
			if e.durable.Sub(e.at) >= p99 {
				tail++
				if in {
					inTail++
				}
			}
		}
		b.ReportMetric(100*float64(inTail)/float64(tail), "tail-"+kind+"-%")
		b.ReportMetric(100*float64(inAll)/float64(len(evs)), "all-"+kind+"-%")
	}
	var worst time.Duration
	for _, c := range ckpts {
		if c.Kind == "restart" {
			worst = max(worst, c.Took)
		}
	}
	b.ReportMetric(ms(worst), "restart-max-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(commits[len(commits)*99/100].Microseconds())/1000, "commit-p99-ms")
	b.ReportMetric(float64(b.N)/float64(len(commits)), "events/commit")
	b.ReportMetric(float64(s.keys.merged-merged0), "merged-keys")
}

// BenchmarkPacedCommitsStored: BenchmarkPacedCommits' pace on a store
// holding MIMICHAT_STORED_EVENTS (default 1,000,000) events of 1 KiB
// (BenchmarkStoredCommits' seeded store), beside an empty one in the same
// run. A relay that has run for a while is what outside testers measure,
// and there every paced commit may also carry a step of the key merge
// (keys.go: mergeStepMin keys into the index, random leaves of a large
// B-tree) for a share of the time that grows with the submit rate. empty:
// a new store; stored: the seeded store with no merge running (a merge the
// seeding left is finished first); stored-merging: the seeded store with
// keyed events appended until a merge starts, so the whole measure runs
// beside it (merged-keys says how far it got).
//
//	go test -run '^$' -bench PacedCommitsStored -benchtime 2000x -count 5 -timeout 0 ./relay/store/sqlite/
func BenchmarkPacedCommitsStored(b *testing.B) {
	stored := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("MIMICHAT_STORED_EVENTS")); err == nil && v > 0 {
		stored = v
	}
	template := seededStore(b, stored)
	for _, v := range []struct {
		name     string
		template string
		merging  bool
	}{{"empty", "", false}, {"stored", template, false}, {"stored-merging", template, true}} {
		b.Run(v.name, func(b *testing.B) {
			s, seq := openStoredCopy(b, v.template)
			defer s.Close()
			if err := settleMerge(s, seq, v.merging); err != nil {
				b.Fatal(err)
			}
			head, err := s.Head(context.Background(), storedRoom)
			if err != nil {
				b.Fatal(err)
			}
			pacedCommits(b, s, storedRoom, head.Seq)
		})
	}
}

// openStoredCopy opens a copy of template (a new store with storedRoom if
// "") and returns it with the room's last seq.
func openStoredCopy(b *testing.B, template string) (*Store, uint64) {
	b.Helper()
	dir := b.TempDir()
	for _, name := range []string{File, File + "-wal"} {
		if template == "" {
			break
		}
		if err := copyFile(filepath.Join(template, name), filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
	}
	s, err := Open(dir, SyncFull)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if template == "" {
		if err := s.AppendBatch(ctx, store.Batch{Rooms: []store.Room{{URI: storedRoom, History: "shared", JoinPolicy: "open", Receipts: "on"}}}); err != nil {
			s.Close()
			b.Fatal(err)
		}
	}
	head, err := s.Head(ctx, storedRoom)
	if err != nil {
		s.Close()
		b.Fatal(err)
	}
	return s, head.Seq
}

// settleMerge appends keyed events to storedRoom after seq until the key
// merge is running (merging) or not: commits of 500 events start one,
// commits of one event finish one (mergeStepMin keys each). It gives up
// after 10,000 commits.
func settleMerge(s *Store, seq uint64, merging bool) error {
	ctx := context.Background()
	body := make([]byte, 1024)
	for i := 0; (s.keys.frozen != nil) != merging; i++ {
		if i == 10_000 {
			return fmt.Errorf("the key merge still %s after %d commits", map[bool]string{true: "idle", false: "running"}[merging], i)
		}
		var bt store.Batch
		for range map[bool]int{true: 500, false: 1}[merging] {
			seq++
			rand.Read(body)
			key := store.SubmitKey(body)
			bt.Events = append(bt.Events, store.Event{Room: storedRoom, Seq: seq, TS: int64(seq), Key: key[:], Frame: body})
		}
		if err := s.AppendBatch(ctx, bt); err != nil {
			return err
		}
	}
	return nil
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCommitOne: a paced message's commit, back to back: the writer's
// lookup (Submitted) and an AppendBatch of one event (SyncFull), b.N
// times. cpu-us/commit (this process's CPU) is what the load of a shared
// machine disturbs least; ns/op is mostly the fsync.
//
//	go test -run '^$' -bench CommitOne -benchtime 2000x -count 5 ./relay/store/sqlite/
func BenchmarkCommitOne(b *testing.B) {
	s, err := OpenWith(b.TempDir(), Options{Sync: SyncFull, Create: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const room = "mimi://example.com/r/one"
	if err := s.AppendBatch(ctx, store.Batch{Rooms: []store.Room{{URI: room, History: "shared", JoinPolicy: "open", Receipts: "on"}}}); err != nil {
		b.Fatal(err)
	}
	frame := make([]byte, 300)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		seq := uint64(i + 1)
		key := store.SubmitKey(fmt.Appendf(nil, "one %d", seq))
		if _, err := s.Submitted(ctx, room, [][]byte{key[:]}); err != nil {
			b.Fatal(err)
		}
		if err := s.AppendBatch(ctx, store.Batch{Events: []store.Event{{Room: room, Seq: seq, TS: int64(seq), Key: key[:], Frame: frame}}}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/commit")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
