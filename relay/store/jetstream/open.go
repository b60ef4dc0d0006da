package jetstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults.
const (
	DefaultStream = "MIMI"
	// DuplicateWindow is how long the stream remembers a Nats-Msg-Id: longer
	// than any client's retry horizon (the client's outbox retries within
	// minutes); submission keys dedupe for ever beside it.
	DuplicateWindow = 10 * time.Minute
	// MaxBatch is the most messages one atomic batch may hold: a full relay
	// commit (512 requests, each an event, its key and perhaps a member)
	// plus room heads, with room to spare.
	MaxBatch = 20000
	// startTimeout bounds how long Open waits for the server, a cluster's
	// JetStream leader and the stream.
	startTimeout = 90 * time.Second
)

// Options say where the store's JetStream is.
type Options struct {
	// URL, if set, is an existing NATS server or cluster with JetStream to
	// connect to; nothing is embedded and Dir and the cluster fields are
	// ignored.
	URL string

	// Dir is the embedded server's JetStream directory (required without URL).
	Dir string
	// Name is this node's server name (default "mimichat").
	Name string
	// Listen is the embedded server's client address ("" = in-process
	// only; "127.0.0.1:0" picks a port). Other relays' --nats can point here.
	Listen string
	// ClusterListen is the route listener ("host:port"); with Peers it makes
	// this node one of a cluster.
	ClusterListen string
	// Peers are the other nodes' route addresses ("host:port" or
	// nats-route://host:port).
	Peers []string
	// ClusterAdvertise, if set, is the route address this node tells the
	// others about (gossip: a node connects to the peers its peers know);
	// by default the listener's. Behind NAT or a proxy, the address the
	// others reach it at.
	ClusterAdvertise string
	// ClusterName names the cluster (default "mimichat").
	ClusterName string

	// Stream is the stream's name (default DefaultStream).
	Stream string
	// Replicas is the stream's replication factor (default 1 alone, 3 in a
	// cluster: with ClusterListen or URL... set it explicitly for --nats).
	Replicas int
}

// Store is store.Store on a JetStream stream.
type Store struct {
	srv    *server.Server // nil when connected to an external NATS
	nc     *nats.Conn
	js     jetstream.JetStream
	stream string

	mu    sync.Mutex
	heads map[string]head // rooms' heads as this store last wrote or read them

	kpMu sync.Mutex // serialises this process's KeyPackage transactions
}

// Open starts the embedded server (or connects to opts.URL), creates or
// updates the stream, and returns the store.
func Open(opts Options) (*Store, error) {
	if opts.Stream == "" {
		opts.Stream = DefaultStream
	}
	s := &Store{stream: opts.Stream, heads: map[string]head{}}
	var err error
	clustered := opts.URL != "" || len(opts.Peers) > 0
	if opts.URL != "" {
		s.nc, err = nats.Connect(opts.URL, nats.Name("mimichat relay"), nats.MaxReconnects(-1))
		if err != nil {
			return nil, fmt.Errorf("jetstream store: connect to %s: %w", opts.URL, err)
		}
	} else {
		if s.srv, err = startServer(opts); err != nil {
			return nil, err
		}
		s.nc, err = nats.Connect("", nats.InProcessServer(s.srv), nats.Name("mimichat relay"), nats.MaxReconnects(-1))
		if err != nil {
			s.srv.Shutdown()
			return nil, fmt.Errorf("jetstream store: connect in process: %w", err)
		}
	}
	replicas := opts.Replicas
	if replicas == 0 {
		replicas = 1
		if clustered {
			replicas = 3
		}
	}
	if s.js, err = jetstream.New(s.nc); err != nil {
		s.Close()
		return nil, fmt.Errorf("jetstream store: %w", err)
	}
	if err := s.ensureStream(replicas); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// startServer runs the embedded NATS server with JetStream.
func startServer(opts Options) (*server.Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("jetstream store: no directory for the embedded server")
	}
	so := &server.Options{
		ServerName: opts.Name,
		JetStream:  true,
		StoreDir:   opts.Dir,
		SyncAlways: true, // sync_interval: always (doc.go)
		NoSigs:     true,
		NoLog:      true,
		DontListen: opts.Listen == "",
		JetStreamLimits: server.JSLimitOpts{
			MaxBatchSize: MaxBatch,
		},
	}
	if so.ServerName == "" {
		so.ServerName = "mimichat"
	}
	if opts.Listen == "" && opts.ClusterListen != "" {
		// Routes start only after the client listener: give it a loopback
		// port nobody needs to know.
		opts.Listen, so.DontListen = "127.0.0.1:0", false
	}
	if opts.Listen != "" {
		host, port, err := splitHostPort(opts.Listen, "listen")
		if err != nil {
			return nil, err
		}
		so.Host, so.Port = host, port
	}
	if opts.ClusterListen != "" {
		host, port, err := splitHostPort(opts.ClusterListen, "cluster-listen")
		if err != nil {
			return nil, err
		}
		so.Cluster = server.ClusterOpts{Name: opts.ClusterName, Host: host, Port: port, Advertise: opts.ClusterAdvertise}
		if so.Cluster.Name == "" {
			so.Cluster.Name = "mimichat"
		}
		for _, p := range opts.Peers {
			u, err := url.Parse(p)
			if err != nil || u.Host == "" {
				u, err = url.Parse("nats-route://" + p)
			}
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("jetstream store: cluster peer %q is not host:port", p)
			}
			so.Routes = append(so.Routes, u)
		}
	} else if len(opts.Peers) > 0 {
		return nil, errors.New("jetstream store: cluster peers need a cluster listen address")
	}
	setRaftTimings()
	srv, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("jetstream store: embedded server: %w", err)
	}
	fatal := &fatalLog{first: make(chan string, 1)}
	srv.SetLoggerV2(fatal, false, false, false)
	srv.Start()
	if err := waitReady(srv, fatal, startTimeout); err != nil {
		srv.Shutdown()
		return nil, err
	}
	return srv, nil
}

// waitReady waits until the server's listeners are up, or returns at once
// with the server's fatal error: a listener that cannot bind (a port in
// use) is only logged, and the server would otherwise wait the whole
// timeout and then not say why.
func waitReady(srv *server.Server, fatal *fatalLog, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !srv.ReadyForConnections(100 * time.Millisecond) {
		select {
		case msg := <-fatal.first:
			return fmt.Errorf("jetstream store: embedded server: %s", msg)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("jetstream store: embedded server not ready after %v", timeout)
		}
	}
	return nil
}

// fatalLog is the embedded server's logger: it keeps the first fatal
// message and drops the rest (the server runs with NoLog; its notices are
// not ours to print).
type fatalLog struct{ first chan string }

func (l *fatalLog) Fatalf(format string, v ...any) {
	select {
	case l.first <- fmt.Sprintf(format, v...):
	default:
	}
}
func (*fatalLog) Noticef(string, ...any) {}
func (*fatalLog) Warnf(string, ...any)   {}
func (*fatalLog) Errorf(string, ...any)  {}
func (*fatalLog) Debugf(string, ...any)  {}
func (*fatalLog) Tracef(string, ...any)  {}

func splitHostPort(addr, what string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("jetstream store: %s address %q: %w", what, addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("jetstream store: %s address %q: bad port", what, addr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// ensureStream creates or updates the stream, retrying while a cluster
// elects its JetStream leader.
func (s *Store) ensureStream(replicas int) error {
	cfg := jetstream.StreamConfig{
		Name:               s.stream,
		Subjects:           []string{"m.>"},
		Storage:            jetstream.FileStorage,
		Retention:          jetstream.LimitsPolicy,
		MaxMsgsPerSubject:  1, // every subject is a key; events and keys have one message each
		Replicas:           replicas,
		Duplicates:         DuplicateWindow,
		AllowDirect:        true,
		AllowAtomicPublish: true,
		DenyDelete:         false,
		Discard:            jetstream.DiscardOld,
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	var last error
	for {
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		// An existing stream is kept as it is (its replicas may have been
		// changed by the operator); a new one is created.
		_, err := s.js.Stream(actx, s.stream)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			if err = placeable(s.srv, replicas); err == nil { // meta.go
				_, err = s.js.CreateStream(actx, cfg)
			}
		}
		if err == nil {
			// A new stream elects its leader: wait until it answers a read.
			_, err = s.getLast(actx, subjDomain)
		}
		acancel()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("jetstream store: stream %s: %w", s.stream, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Server is the embedded NATS server, or nil when connected to an external
// one (cluster status reads it).
func (s *Store) Server() *server.Server { return s.srv }

// Conn is the store's NATS connection (the relay's cross-node fan-out
// shares it).
func (s *Store) Conn() *nats.Conn { return s.nc }

// Close flushes and closes the connection and shuts the embedded server
// down. Every acked write is already on disk (SyncAlways).
func (s *Store) Close() error {
	var err error
	if s.nc != nil {
		if ferr := s.nc.FlushTimeout(5 * time.Second); ferr != nil && !errors.Is(ferr, nats.ErrConnectionClosed) {
			err = fmt.Errorf("jetstream store: flush: %w", ferr)
		}
		s.nc.Close()
	}
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
	}
	return err
}
