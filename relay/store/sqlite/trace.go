package sqlite

import (
	"sync"
	"time"
)

// CommitTimes splits the last AppendBatch's time (issue 18's paced
// latency): the statements, the COMMIT (with SyncFull its WAL fsync), and
// the WAL restart that may follow it on the writer's connection. Only the
// writer calls AppendBatch, so it reads them right after.
type CommitTimes struct {
	Statements, Commit, Restart time.Duration
}

// LastCommit returns the last AppendBatch's CommitTimes.
func (s *Store) LastCommit() CommitTimes { return s.lastCommit }

// CheckpointRun is one checkpoint of the WAL: when it ran, how long it took
// and which kind (PASSIVE by the checkpointer, RESTART by the writer).
type CheckpointRun struct {
	Start time.Time
	Took  time.Duration
	Kind  string
}

// checkpointLog keeps the last checkpointLogSize checkpoint runs, so a
// benchmark can tell whether a slow commit ran beside one.
type checkpointLog struct {
	mu   sync.Mutex
	runs []CheckpointRun
	next int
}

const checkpointLogSize = 256

func (l *checkpointLog) add(r CheckpointRun) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.runs) < checkpointLogSize {
		l.runs = append(l.runs, r)
		return
	}
	l.runs[l.next] = r
	l.next = (l.next + 1) % checkpointLogSize
}

// Checkpoints returns the last checkpoint runs, oldest first.
func (s *Store) Checkpoints() []CheckpointRun {
	l := &s.ckptLog
	l.mu.Lock()
	defer l.mu.Unlock()
	return append(append([]CheckpointRun(nil), l.runs[l.next:]...), l.runs[:l.next]...)
}

// KeyMergeState is the key merge's progress (keys.go), for benchmarks
// that must tell whether a merge ran while they measured.
type KeyMergeState struct {
	Merged       int64 // keys merged since open
	Open, Frozen int   // tail keys not frozen, frozen (0: no merge runs)
	At           int   // frozen keys merged so far
}

// KeyMerge returns the key merge's progress. Call it between commits.
func (s *Store) KeyMerge() KeyMergeState {
	t := &s.keys
	t.mu.Lock()
	defer t.mu.Unlock()
	return KeyMergeState{Merged: t.merged, Open: len(t.open), Frozen: len(t.frozen), At: t.at}
}
