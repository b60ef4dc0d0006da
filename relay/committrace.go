package relay

import (
	"sync"
	"sync/atomic"
	"time"

	"mimichat/relay/store/sqlite"
)

// commitTrace records the moments of every commit while it is set on the
// hub (BenchmarkLatencyAt1000 sets it), so a benchmark can say where its
// slowest deliveries waited: for the writer, in the store's statements or
// its fsync, or between the commit and the subscriber (issue 18).
type commitTrace struct {
	mu   sync.Mutex
	recs []commitRec
	done atomic.Int64 // batches the dispatcher has finished (its index into recs)
}

// commitRec is one commit. Its events are the seqs first..last of room
// (the benchmark's one room; a commit of several rooms records the last).
type commitRec struct {
	taken      time.Time // the writer took the batch's first request
	appending  time.Time // lookup and apply done: AppendBatch called
	stored     time.Time // AppendBatch returned: the batch is durable
	dispatched time.Time // the dispatcher took the batch
	fanned     time.Time // the dispatcher queued its last reply and event
	n          int       // requests
	room       string
	first      uint64
	last       uint64
	store      sqlite.CommitTimes // the SQLite store's split of AppendBatch
}

// lastCommitter is a store that reports how its last AppendBatch's time
// split (the SQLite store).
type lastCommitter interface{ LastCommit() sqlite.CommitTimes }

// add records a commit the writer finished.
func (t *commitTrace) add(r commitRec) {
	t.mu.Lock()
	t.recs = append(t.recs, r)
	t.mu.Unlock()
}

// dispatch records when the dispatcher took and finished its next batch
// (batches reach it in commit order, one per commit).
func (t *commitTrace) dispatch(took, finished time.Time) {
	i := int(t.done.Add(1) - 1)
	t.mu.Lock()
	if i < len(t.recs) {
		t.recs[i].dispatched, t.recs[i].fanned = took, finished
	}
	t.mu.Unlock()
}

// snapshot returns the commits recorded so far.
func (t *commitTrace) snapshot() []commitRec {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]commitRec(nil), t.recs...)
}
