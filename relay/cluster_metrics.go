package relay

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"mimichat/relay/store/jetstream"
)

// leaderElectedSubject is the JetStream advisory a stream's new leader
// publishes after each election (every node hears it).
const leaderElectedSubject = "$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED." + jetstream.DefaultStream

// leaderWatch counts the stream's leader elections since this node started.
type leaderWatch struct {
	elections atomic.Int64
	sb        *nats.Subscription
}

func watchLeaders(nc *nats.Conn) (*leaderWatch, error) {
	w := &leaderWatch{}
	sb, err := nc.Subscribe(leaderElectedSubject, func(*nats.Msg) { w.elections.Add(1) })
	if err != nil {
		return nil, fmt.Errorf("relay: cluster: watch leader elections: %w", err)
	}
	w.sb = sb
	return w, nil
}

// clusterCollector adds a cluster node's replication state to /metrics:
// read from the stream's leader at scrape time (bounded by 2 s; a scrape
// during an election shows no replica lines), and the leader elections
// this node heard.
type clusterCollector struct {
	js      *jetstream.Store
	node    string
	watch   *leaderWatch
	leader  *prometheus.Desc
	lag     *prometheus.Desc
	current *prometheus.Desc
	changes *prometheus.Desc
}

func newClusterCollector(js *jetstream.Store, node string, w *leaderWatch) *clusterCollector {
	return &clusterCollector{js: js, node: node, watch: w,
		leader: prometheus.NewDesc("mimichat_relay_cluster_leader",
			"1 if this node leads the relay's stream, 0 if another node does.", nil, nil),
		lag: prometheus.NewDesc("mimichat_relay_cluster_replica_lag_ops",
			"Operations a follower replica of the relay's stream is behind its leader, as the leader reports.", []string{"replica"}, nil),
		current: prometheus.NewDesc("mimichat_relay_cluster_replica_current",
			"1 if a follower replica is current with the leader.", []string{"replica"}, nil),
		changes: prometheus.NewDesc("mimichat_relay_cluster_leader_elections_total",
			"Leader elections of the relay's stream heard by this node since it started.", nil, nil),
	}
}

func (c *clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.leader
	ch <- c.lag
	ch <- c.current
	ch <- c.changes
}

func (c *clusterCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.changes, prometheus.CounterValue, float64(c.watch.elections.Load()))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.js.Status(ctx)
	if err != nil || st.Leader == "" {
		return
	}
	lead := 0.0
	if st.Leader == c.node {
		lead = 1
	}
	ch <- prometheus.MustNewConstMetric(c.leader, prometheus.GaugeValue, lead)
	for _, p := range st.Peers {
		cur := 0.0
		if p.Current && !p.Offline {
			cur = 1
		}
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(p.Lag), p.Name)
		ch <- prometheus.MustNewConstMetric(c.current, prometheus.GaugeValue, cur, p.Name)
	}
}
