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
