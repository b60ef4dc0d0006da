package jetstream

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Status is the stream's replication as its leader reports it.
type Status struct {
	Stream   string
	Cluster  string
	Leader   string
	Replicas int
	Msgs     uint64
	Bytes    uint64
	Peers    []Peer // the replicas other than the leader
}

// Peer is one follower replica.
type Peer struct {
	Name    string
	Current bool
	Offline bool
	Lag     uint64        // operations behind the leader
	Active  time.Duration // since the leader last heard from it
}

// ReadStatus connects to url and reads the stream's (default
// DefaultStream) cluster state.
func ReadStatus(ctx context.Context, url, stream string) (Status, error) {
	if stream == "" {
		stream = DefaultStream
	}
	nc, err := nats.Connect(url, nats.Name("mimichat relay cluster status"), nats.Timeout(5*time.Second))
	if err != nil {
		return Status{}, fmt.Errorf("jetstream: connect to %s: %w", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return Status{}, fmt.Errorf("jetstream: %w", err)
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return Status{}, fmt.Errorf("jetstream: stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("jetstream: stream %s: %w", stream, err)
	}
	return statusOf(info), nil
}

func statusOf(info *jetstream.StreamInfo) Status {
	st := Status{Stream: info.Config.Name, Replicas: info.Config.Replicas, Msgs: info.State.Msgs, Bytes: info.State.Bytes}
	if c := info.Cluster; c != nil {
		st.Cluster, st.Leader = c.Name, c.Leader
		for _, p := range c.Replicas {
			st.Peers = append(st.Peers, Peer{Name: p.Name, Current: p.Current, Offline: p.Offline, Lag: p.Lag, Active: p.Active})
		}
	}
	return st
}

// Status reads this store's stream state.
func (s *Store) Status(ctx context.Context) (Status, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	st, err := s.js.Stream(ctx, s.stream)
	if err != nil {
		return Status{}, fmt.Errorf("jetstream: stream %s: %w", s.stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("jetstream: stream %s: %w", s.stream, err)
	}
	return statusOf(info), nil
}
