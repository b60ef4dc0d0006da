package relay

import (
	"bufio"
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"mimichat/relay/store/sqlite"
)

// latencyDelivery is one event a LatencyAt1000 subscriber received.
type latencyDelivery struct {
	seq  uint64
	sent int64 // unix ns the sender wrote the submit
	at   int64 // unix ns the subscriber decoded the event
}

func (d latencyDelivery) latency() time.Duration { return time.Duration(d.at - d.sent) }

// latencyStages is where one delivery's time went, from the commit trace.
type latencyStages struct {
	queue    time.Duration // sent to the writer taking its batch: the reader, and the previous commit still running
	prepare  time.Duration // the writer's lookup and apply
	stmts    time.Duration // AppendBatch's statements
	fsync    time.Duration // AppendBatch's COMMIT (the WAL fsync with sync=full)
	restart  time.Duration // a WAL restart after the commit, on the writer's connection
	handoff  time.Duration // AppendBatch's return to the dispatcher taking the batch
	deliver  time.Duration // the dispatcher taking the batch to the subscriber decoding the event
	behind   time.Duration // of queue: the part the writer was busy with the previous commit
	inCkpt   bool          // a checkpoint ran at some moment between send and delivery
	commitOf int           // index of its commit
}

// reportLatencyTrace reports, from the commit trace of a LatencyAt1000 run,
// the commits' durations and the stages of the slowest 1 % of deliveries
// (those at or above p99) as benchmark metrics; with
// MIMICHAT_LATENCY_TRACE=1 it also logs the stage table for p50 and the
// tail, the commit-duration histogram and the checkpoints of the run.
func reportLatencyTrace(b *testing.B, recs []commitRec, ckpts []sqlite.CheckpointRun, dels []latencyDelivery) {
	if len(recs) == 0 || len(dels) == 0 {
		return
	}
	var commits []time.Duration
	reqs := 0
	for _, r := range recs {
		commits = append(commits, r.stored.Sub(r.appending))
		reqs += r.n
	}
	slices.Sort(commits)
	b.ReportMetric(float64(reqs)/float64(len(recs)), "reqs/commit")
	b.ReportMetric(ms(commits[len(commits)/2]), "commit-p50-ms")
	b.ReportMetric(ms(commits[len(commits)*99/100]), "commit-p99-ms")

	// Commits in seq order, for the lookup of a delivery's commit.
	byFirst := slices.Clone(recs)
	slices.SortFunc(byFirst, func(a, b commitRec) int { return cmp.Compare(a.first, b.first) })
	stagesOf := func(d latencyDelivery) (latencyStages, bool) {
		i, _ := slices.BinarySearchFunc(byFirst, d.seq, func(r commitRec, seq uint64) int {
			switch {
			case r.last < seq:
				return -1
			case r.first > seq:
				return 1
			}
			return 0
		})
		if i >= len(byFirst) || byFirst[i].first > d.seq || byFirst[i].last < d.seq {
			return latencyStages{}, false
		}
		r := byFirst[i]
		sent := time.Unix(0, d.sent)
		st := latencyStages{queue: r.taken.Sub(sent), prepare: r.appending.Sub(r.taken), stmts: r.store.Statements,
			fsync: r.store.Commit, restart: r.store.Restart, handoff: r.dispatched.Sub(r.stored), deliver: time.Unix(0, d.at).Sub(r.dispatched)}
		// The commit before it, if it was still running when this was sent.
		if i > 0 && byFirst[i-1].stored.After(sent) {
			st.behind = byFirst[i-1].stored.Sub(sent)
		}
		at := time.Unix(0, d.at)
		for _, c := range ckpts {
			if c.Start.Before(at) && c.Start.Add(c.Took).After(sent) {
				st.inCkpt = true
			}
		}
		st.commitOf = i
		return st, true
	}
	sorted := slices.Clone(dels)
	slices.SortFunc(sorted, func(a, b latencyDelivery) int { return cmp.Compare(a.latency(), b.latency()) })
	mean := func(group []latencyDelivery) (latencyStages, float64, int) {
		var sum latencyStages
		n, inCkpt := 0, 0
		for _, d := range group {
			st, ok := stagesOf(d)
			if !ok {
				continue
			}
			n++
			sum.queue += st.queue
			sum.prepare += st.prepare
			sum.stmts += st.stmts
			sum.fsync += st.fsync
			sum.restart += st.restart
			sum.handoff += st.handoff
			sum.deliver += st.deliver
			sum.behind += st.behind
			if st.inCkpt {
				inCkpt++
			}
		}
		if n == 0 {
			return sum, 0, 0
		}
		d := time.Duration(n)
		return latencyStages{queue: sum.queue / d, prepare: sum.prepare / d, stmts: sum.stmts / d, fsync: sum.fsync / d,
			restart: sum.restart / d, handoff: sum.handoff / d, deliver: sum.deliver / d, behind: sum.behind / d}, 100 * float64(inCkpt) / float64(n), n
	}
	tail, tailCkpt, _ := mean(sorted[len(sorted)*99/100:])
	b.ReportMetric(ms(tail.behind), "tail-behind-ms")
	b.ReportMetric(ms(tail.fsync), "tail-fsync-ms")
	b.ReportMetric(ms(tail.deliver), "tail-deliver-ms")
	b.ReportMetric(tailCkpt, "tail-ckpt-%")
	if os.Getenv("MIMICHAT_LATENCY_TRACE") == "" {
		return
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d commits, %.2f requests each\n", len(recs), float64(reqs)/float64(len(recs)))
	fmt.Fprintf(&sb, "%-22s %8s %8s %8s %8s %8s %8s %8s %8s %8s %7s\n", "deliveries", "latency", "queue", "behind", "prepare", "stmts", "fsync", "restart", "handoff", "deliver", "ckpt %")
	for _, g := range []struct {
		name     string
		from, to float64
	}{{"p45-p55", 0.45, 0.55}, {"p90-p99", 0.90, 0.99}, {"p99-p100 (tail)", 0.99, 1}} {
		group := sorted[int(float64(len(sorted))*g.from):int(float64(len(sorted))*g.to)]
		st, ck, n := mean(group)
		var lat time.Duration
		for _, d := range group {
			lat += d.latency()
		}
		lat /= time.Duration(max(1, len(group)))
		fmt.Fprintf(&sb, "%-22s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %7.0f\n", fmt.Sprintf("%s (%d)", g.name, n),
			ms(lat), ms(st.queue), ms(st.behind), ms(st.prepare), ms(st.stmts), ms(st.fsync), ms(st.restart), ms(st.handoff), ms(st.deliver), ck)
	}
	fmt.Fprintf(&sb, "AppendBatch ms: p50 %.2f p90 %.2f p99 %.2f max %.2f; histogram:", ms(commits[len(commits)/2]),
		ms(commits[len(commits)*9/10]), ms(commits[len(commits)*99/100]), ms(commits[len(commits)-1]))
	edges := []time.Duration{500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 8 * time.Millisecond, 16 * time.Millisecond, 32 * time.Millisecond}
	lo := time.Duration(0)
	for _, e := range append(edges, time.Hour) {
		n := 0
		for _, c := range commits {
			if c >= lo && c < e {
				n++
			}
		}
		fmt.Fprintf(&sb, " [%v,%v) %d", lo, e, n)
		lo = e
	}
	firstNS, lastNS := dels[0].sent, dels[0].at
	for _, d := range dels {
		firstNS, lastNS = min(firstNS, d.sent), max(lastNS, d.at)
	}
	first, last := time.Unix(0, firstNS), time.Unix(0, lastNS)
	sb.WriteString("\ncheckpoints during the run:")
	for _, c := range ckpts {
		if c.Start.After(first) && c.Start.Before(last) {
			fmt.Fprintf(&sb, " %s@%.0fms/%.2fms", c.Kind, ms(c.Start.Sub(first)), ms(c.Took))
		}
	}
	b.Log(sb.String())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// processStats is a process's CPU time and its read and write system calls
// so far (Linux's /proc/PID/stat and /proc/PID/io). Per message, the calls
// say how well deliveries share writes and reads, whatever the machine's
// load makes of the wall-clock figures.
type processStats struct {
	cpu           time.Duration
	reads, writes int64
	calls         bool // the system calls could be read
}

// selfUsage is this process's: relay, sender and subscribers where they run
// in one process.
func selfUsage() processStats {
	s := readProcIO("/proc/self/io")
	s.cpu = cpuTime()
	return s
}

// processUsage reads another process's (a relay started by startChild),
// its CPU time to the kernel's 10 ms tick.
func processUsage(pid int) func() processStats {
	return func() processStats {
		s := readProcIO(fmt.Sprintf("/proc/%d/io", pid))
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return s
		}
		// Fields after the command's closing parenthesis: state is the 3rd
		// field of the line, utime the 14th, stime the 15th, in ticks of
		// USER_HZ (100 on Linux).
		_, rest, _ := strings.Cut(string(b), ") ")
		f := strings.Fields(rest)
		if len(f) > 12 {
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			s.cpu = time.Duration(ut+st) * 10 * time.Millisecond
		}
		return s
	}
}

func readProcIO(path string) processStats {
	f, err := os.Open(path)
	if err != nil {
		return processStats{}
	}
	defer f.Close()
	var s processStats
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "syscr":
			s.reads, s.calls = n, true
		case "syscw":
			s.writes = n
		}
	}
	return s
}

// since is the usage from from to s.
func (s processStats) since(from processStats) processStats {
	return processStats{cpu: s.cpu - from.cpu, reads: s.reads - from.reads, writes: s.writes - from.writes,
		calls: s.calls && from.calls}
}

// report reports the usage per message: cpu-us/msg, and reads/msg and
// writes/msg where the calls could be read.
func (s processStats) report(b *testing.B, msgs int) {
	if msgs == 0 {
		return
	}
	b.ReportMetric(float64(s.cpu.Microseconds())/float64(msgs), "cpu-us/msg")
	if s.calls {
		b.ReportMetric(float64(s.reads)/float64(msgs), "reads/msg")
		b.ReportMetric(float64(s.writes)/float64(msgs), "writes/msg")
	}
}

// TestProcessUsage: processUsage reads a process's CPU time from
// /proc/PID/stat as getrusage reports it for the process itself (to the
// 10 ms tick), and its system calls as /proc/self/io does.
func TestProcessUsage(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); { // spin: CPU time to read
	}
	self, other := selfUsage(), processUsage(os.Getpid())()
	if d := self.cpu - other.cpu; other.cpu <= 0 || d < -20*time.Millisecond || d > 20*time.Millisecond {
		t.Errorf("CPU time from /proc/PID/stat %v, getrusage %v", other.cpu, self.cpu)
	}
	if !other.calls || other.reads < self.reads-100 || other.writes < self.writes-100 {
		t.Errorf("system calls from /proc/PID/io %+v, /proc/self/io %+v", other, self)
	}
}
