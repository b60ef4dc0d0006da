package relay

import (
	"os"
	rtmetrics "runtime/metrics"
	"slices"
	"syscall"
	"testing"
	"time"

	"mimichat/relay/store/sqlite"
)

// phaseStats tells a slow phase of BenchmarkSubmitsStored from a fast one:
// where the writer's time went (lookup and apply, statements, fsync, WAL
// restart, idle between commits), the checkpoints that ran, the key merge,
// the GC and the process's I/O.
type phaseStats struct {
	start   time.Time
	ru      syscall.Rusage
	gc      []rtmetrics.Sample
	merge   sqlite.KeyMergeState
	hasKeys bool
	fsync   time.Duration // median of fsyncProbes appends and fdatasyncs of 4 KiB in the data directory before the phase
}

const fsyncProbes = 15

// probeFsync is the median time of an append of 4 KiB and its fdatasync in
// a file in dir: the disk's answer time just before a phase.
func probeFsync(dir string) time.Duration {
	f, err := os.CreateTemp(dir, "probe")
	if err != nil {
		return 0
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	var took []time.Duration
	for range fsyncProbes {
		t0 := time.Now()
		f.Write(buf)
		syscall.Fdatasync(int(f.Fd()))
		took = append(took, time.Since(t0))
	}
	slices.Sort(took)
	return took[len(took)/2]
}

var phaseGCMetrics = []string{"/gc/cycles/total:gc-cycles", "/cpu/classes/gc/total:cpu-seconds", "/gc/heap/goal:bytes"}

func readGC() []rtmetrics.Sample {
	s := make([]rtmetrics.Sample, len(phaseGCMetrics))
	for i, n := range phaseGCMetrics {
		s[i].Name = n
	}
	rtmetrics.Read(s)
	return s
}

func startPhase(s *Server, dir string) *phaseStats {
	fs := probeFsync(dir)
	p := &phaseStats{start: time.Now(), gc: readGC(), fsync: fs}
	syscall.Getrusage(syscall.RUSAGE_SELF, &p.ru)
	if st, ok := s.db.(*sqlite.Store); ok {
		p.merge, p.hasKeys = st.KeyMerge(), true
	}
	return p
}

func (p *phaseStats) log(b *testing.B, n int, s *Server, recs []commitRec, elapsed time.Duration) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	gc := readGC()
	var prep, stmts, fsync, restart, idle, slowest time.Duration
	for i, r := range recs {
		prep += r.appending.Sub(r.taken)
		stmts += r.store.Statements
		fsync += r.store.Commit
		restart += r.store.Restart
		if i > 0 {
			idle += r.taken.Sub(recs[i-1].stored)
		}
		slowest = max(slowest, r.stored.Sub(r.taken))
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.Logf("stored %d: wall %.0f ms, user %.0f ms, sys %.0f ms; writer: prepare %.0f, statements %.0f, fsync %.0f, restart %.0f, idle %.0f ms, slowest commit %.0f ms",
		n, ms(elapsed), ms(time.Duration(ru.Utime.Nano()-p.ru.Utime.Nano())), ms(time.Duration(ru.Stime.Nano()-p.ru.Stime.Nano())),
		ms(prep), ms(stmts), ms(fsync), ms(restart), ms(idle), ms(slowest))
	b.Logf("stored %d: fsync probe before %.2f ms; gc %d cycles, %.0f ms gc CPU, heap goal %d MB; minflt %d, majflt %d, blocks in %d out %d, ctx switches vol %d invol %d",
		n, ms(p.fsync), gc[0].Value.Uint64()-p.gc[0].Value.Uint64(), 1000*(gc[1].Value.Float64()-p.gc[1].Value.Float64()), gc[2].Value.Uint64()>>20,
		ru.Minflt-p.ru.Minflt, ru.Majflt-p.ru.Majflt, ru.Inblock-p.ru.Inblock, ru.Oublock-p.ru.Oublock, ru.Nvcsw-p.ru.Nvcsw, ru.Nivcsw-p.ru.Nivcsw)
	if !p.hasKeys {
		return
	}
	st := s.db.(*sqlite.Store)
	m := st.KeyMerge()
	var ckpt, ckptRestart int
	var ckptTook time.Duration
	for _, c := range st.Checkpoints() {
		if c.Start.After(p.start) {
			ckpt++
			ckptTook += c.Took
			if c.Kind == "restart" {
				ckptRestart++
			}
		}
	}
	b.Logf("stored %d: keys merged %d (tail at start %d open, %d frozen, %d merged; at end %d open, %d frozen, %d merged); checkpoints %d (%d restart) taking %.0f ms",
		n, m.Merged-p.merge.Merged, p.merge.Open, p.merge.Frozen, p.merge.At, m.Open, m.Frozen, m.At, ckpt, ckptRestart, ms(ckptTook))
}
