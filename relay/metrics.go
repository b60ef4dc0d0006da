package relay

import (
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mimichat/proto"
	"mimichat/relay/store/jetstream"
)

// metrics are the relay's counters. The hot paths bump atomics; the
// Prometheus registry reads them at scrape time, so nothing is locked per
// event. Commit sizes and latencies are histograms, observed once per
// batch by the writer.
type metrics struct {
	frames, delivered, replayed, slowKills atomic.Int64
	submits                                atomic.Int64 // submit frames accepted for the writer
	rateLimited                            atomic.Int64 // rate_limited refusals
	storeErrors                            atomic.Int64 // failed commits and reads
	commits, committed                     atomic.Int64 // transactions, requests in them
	commitNanos                            atomic.Int64
	staleEpoch, badCommit                  atomic.Int64 // encrypted rooms' refusals

	batchSize     prometheus.Histogram // requests per commit
	commitSeconds prometheus.Histogram // one commit, gathering excluded
}

func newMetrics() metrics {
	return metrics{
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mimichat_relay_commit_batch_requests",
			Help: "Requests per group commit.", Buckets: prometheus.ExponentialBuckets(1, 2, 11)}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mimichat_relay_commit_seconds",
			Help: "Time to apply and store one group commit.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
	}
}

// observeCommit records one commit of n requests that took d.
func (m *metrics) observeCommit(n int, d time.Duration) {
	m.commitNanos.Add(int64(d))
	m.commits.Add(1)
	m.committed.Add(int64(n))
	m.batchSize.Observe(float64(n))
	m.commitSeconds.Observe(d.Seconds())
}

// refusedMLS counts an encrypted room's refusal by its code.
func (m *metrics) refusedMLS(code proto.Code) {
	switch code {
	case proto.CodeStaleEpoch:
		m.staleEpoch.Add(1)
	case proto.CodeBadCommit:
		m.badCommit.Add(1)
	}
}

// registry exposes s's metrics in the Prometheus text format.
func (s *Server) registry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	counter := func(name, help string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mimichat_relay_connections", Help: "Live authenticated client connections."},
			func() float64 { return float64(s.connections()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mimichat_relay_tail_cache_bytes", Help: "Memory held by all rooms' tail caches."},
			func() float64 { return float64(s.hub.tails.bytes()) }),
		counter("mimichat_relay_frames_total", "Client frames decoded.", &s.metrics.frames),
		counter("mimichat_relay_submits_total", "Message submits handed to the writer.", &s.metrics.submits),
		counter("mimichat_relay_deliveries_total", "Live events written to subscribers.", &s.metrics.delivered),
		counter("mimichat_relay_replayed_total", "Stored events written to subscribers catching up.", &s.metrics.replayed),
		counter("mimichat_relay_commits_total", "Group commits.", &s.metrics.commits),
		counter("mimichat_relay_store_errors_total", "Failed commits and failed reads of the store.", &s.metrics.storeErrors),
		counter("mimichat_relay_rate_limited_total", "Requests and connections refused with rate_limited.", &s.metrics.rateLimited),
		counter("mimichat_relay_stale_epoch_total", "Encrypted rooms' handshakes and messages refused stale_epoch.", &s.metrics.staleEpoch),
		counter("mimichat_relay_bad_commit_total", "Encrypted rooms' handshakes refused bad_commit.", &s.metrics.badCommit),
		counter("mimichat_relay_slow_disconnects_total", "Connections closed because their send queue was full.", &s.metrics.slowKills),
		s.metrics.batchSize, s.metrics.commitSeconds,
	)
	if js, ok := s.db.(*jetstream.Store); ok && s.leaders != nil {
		node := "" // connected to an external NATS: never the leader
		if srv := js.Server(); srv != nil {
			node = srv.Name()
		}
		reg.MustRegister(newClusterCollector(js, node, s.leaders))
	}
	return reg
}

// serveMetrics serves GET /metrics on its own listener, so the operator
// decides who reaches it (loopback unless --insecure).
func (s *Server) serveMetrics() error {
	if s.cfg.MetricsListen == "" {
		return nil
	}
	if !s.cfg.Insecure && !isLoopback(s.cfg.MetricsListen) {
		return fmt.Errorf("relay: refusing metrics on non-loopback %s without --insecure", s.cfg.MetricsListen)
	}
	ln, err := net.Listen("tcp", s.cfg.MetricsListen)
	if err != nil {
		return fmt.Errorf("relay: metrics listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry(), promhttp.HandlerOpts{}))
	s.metricsLn = ln
	s.metricsHTTP = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go s.metricsHTTP.Serve(ln)
	return nil
}

// MetricsAddr is the address /metrics is served on ("" if it is not).
func (s *Server) MetricsAddr() string {
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}
