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

// ioCalls is the process's read and write system calls so far (Linux's
// /proc/self/io syscr and syscw; zero elsewhere). Per message they say how
// well deliveries share writes and reads, whatever the machine's load
// makes of the wall-clock figures.
type ioCalls struct{ reads, writes int64 }

func readIOCalls() ioCalls {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return ioCalls{}
	}
	defer f.Close()
	var c ioCalls
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "syscr":
			c.reads = n
		case "syscw":
			c.writes = n
		}
	}
	return c
}

// reportIOCalls reports the read and write system calls per message since
// from (nothing where /proc/self/io is missing).
func reportIOCalls(b *testing.B, from ioCalls, msgs int) {
	to := readIOCalls()
	if to == (ioCalls{}) || msgs == 0 {
		return
	}
	b.ReportMetric(float64(to.reads-from.reads)/float64(msgs), "reads/msg")
	b.ReportMetric(float64(to.writes-from.writes)/float64(msgs), "writes/msg")
}
