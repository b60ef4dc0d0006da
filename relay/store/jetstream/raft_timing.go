package jetstream

import (
	"sync"
	"time"
	_ "unsafe" // go:linkname
)

// The embedded server's Raft timings. nats-server keeps them in unexported
// package variables (server/raft.go, defaults: heartbeat 1 s, election
// timeout 4-9 s) with no option to set them, and with those defaults a
// stream whose leader is SIGKILLed accepts no write for 4-9 s, plus the
// time its clients take to notice: the failover measured 10-11 s, over the
// 5 s target (docs/cluster.md). They are set once, before any server
// starts, through go:linkname.
//
//go:linkname raftMinElectionTimeout github.com/nats-io/nats-server/v2/server.minElectionTimeout
var raftMinElectionTimeout time.Duration

//go:linkname raftMaxElectionTimeout github.com/nats-io/nats-server/v2/server.maxElectionTimeout
var raftMaxElectionTimeout time.Duration

//go:linkname raftHeartbeat github.com/nats-io/nats-server/v2/server.hbInterval
var raftHeartbeat time.Duration

//go:linkname raftLostQuorumInterval github.com/nats-io/nats-server/v2/server.lostQuorumInterval
var raftLostQuorumInterval time.Duration

//go:linkname raftLostQuorumCheck github.com/nats-io/nats-server/v2/server.lostQuorumCheck
var raftLostQuorumCheck time.Duration

// Raft timings of the embedded server (see above). A follower that hears
// no heartbeat for an election timeout campaigns; the leader that hears
// from no quorum for lostQuorum steps down. Election timeouts are kept
// well above the heartbeat (3-6 heartbeats) so that a loaded machine's
// pauses do not start needless elections.
const (
	RaftHeartbeat          = 500 * time.Millisecond
	RaftMinElectionTimeout = 1500 * time.Millisecond
	RaftMaxElectionTimeout = 3000 * time.Millisecond
	RaftLostQuorum         = 5 * time.Second
)

var raftTimingsOnce sync.Once

// setRaftTimings sets the embedded server's Raft timings once, before the
// first server starts (they are read by every Raft group it runs).
func setRaftTimings() {
	raftTimingsOnce.Do(func() {
		raftHeartbeat = RaftHeartbeat
		raftMinElectionTimeout = RaftMinElectionTimeout
		raftMaxElectionTimeout = RaftMaxElectionTimeout
		raftLostQuorumInterval = RaftLostQuorum
		raftLostQuorumCheck = RaftLostQuorum
	})
}
