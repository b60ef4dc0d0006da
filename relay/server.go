package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"mimichat/internal/flock"
	"mimichat/proto"
	"mimichat/relay/store"
	"mimichat/relay/store/jetstream"
	"mimichat/relay/store/sqlite"
)

// Config configures a relay. Zero fields take the defaults noted.
type Config struct {
	Listen   string // address; default 127.0.0.1:7878
	Data     string // data directory (required)
	Domain   string // URI domain; fixed by the first start, default "localhost"
	TLSCert  string // PEM files; both or neither
	TLSKey   string
	Insecure bool   // allow plain ws on a non-loopback address
	Sync     string // SyncFull (default) or SyncNormal

	// Init allows a missing or empty relay.db in a data directory that
	// holds other files (a new relay is always allowed in an empty one).
	Init bool
	// Check is how the database is checked at start: CheckAuto (default:
	// quick_check of the whole file up to AutoCheckMax; above it the
	// incremental check at start and quick_check in the background, see
	// docs/relay.md), CheckQuick (quick_check of the whole file, any size)
	// or CheckOff.
	Check string
	// CheckFullMax is the largest database CheckAuto checks whole at start;
	// default AutoCheckMax; < 0 never (always incremental).
	CheckFullMax int64
	// CheckEvery repeats the background check of CheckAuto on a large
	// database; default 24 h; < 0 only after start.
	CheckEvery time.Duration
	// CheckBudget bounds the time the incremental check at start spends
	// reading the logs' unchecked tails; default sqlite.DefaultTailBudget.
	CheckBudget time.Duration

	// Store, if set, is the storage backend, used instead of the SQLite
	// database in Data (which still holds the attachment blobs). The relay
	// owns it from Start on and closes it at Shutdown.
	Store store.Store

	// Cluster, if set (and Store is not), makes this relay a node of a
	// cluster on NATS JetStream (docs/cluster.md).
	Cluster *ClusterConfig

	MaxFrame int // default proto.DefaultMaxFrame
	// MaxVersion is the newest protocol version served, default (and at
	// most) proto.Version; a lower one makes the relay act as an older
	// release, as clients meet during a rolling upgrade.
	MaxVersion uint64
	// MaxHandshakeFrame bounds a version 5 create_room or room_op frame
	// carrying MLS handshakes; default proto.DefaultMaxHandshakeFrame.
	MaxHandshakeFrame int
	MaxContent        int     // default proto.DefaultMaxContent
	RatePerSec        float64 // submits per user per second; default 50; < 0 unlimited
	RateBurst         int     // default 100
	SignalRate        float64 // signals per connection per second; default 5
	SignalBurst       int     // default 20

	// MaxWelcomeFrame bounds the welcome_list and welcome_part frames the
	// relay sends; default and at most proto.MaxRelayFrame (what every
	// client reads), at least minWelcomeFrame.
	MaxWelcomeFrame int

	// Per-user read, ping and subscribe budgets, shared by all of a user's
	// connections; a rate < 0 is unlimited. Reads (history, room_info,
	// rooms) are charged the bytes they answer, at least ReadMinCost each.
	ReadBytesPerSec int64   // default DefaultReadBytesPerSec
	ReadBurst       int64   // default 2 × ReadBytesPerSec
	ReadMinCost     int     // default 4 KiB
	ReadConcurrency int     // reads in progress per user, over all connections; default 1
	PingRate        float64 // websocket pings answered per user per second; default 2
	PingBurst       int     // default 20
	SubscribeRate   float64 // subscribes per user per second; default 20
	SubscribeBurst  int     // default 1000 (a client resubscribes every room at once)

	MaxConnsPerUser int // live connections per user; default 16; < 0 unlimited
	MaxConns        int // live connections in all; default 10000; < 0 unlimited
	SendQueue       int // per-connection send queue for events, in frames; default 1024
	MaxInflight     int // requests per connection awaiting their answer; default 256

	// WALReserve, if positive, is the size the SQLite WAL file is kept
	// at, so commits overwrite it instead of growing it
	// (sqlite.Options.WALReserve); default none: on the machine measured
	// it made each fdatasync faster but not the paced p99
	// (docs/performance.md, "Paced latency").
	WALReserve int64

	// TailCacheBytes bounds the memory of all rooms' tail caches together
	// (least recently used rooms are dropped and reload from the store);
	// default DefaultTailCacheBytes; < 0 unlimited.
	TailCacheBytes int64

	MaxBlob   int64 // largest attachment blob, bytes; default DefaultMaxBlob
	BlobQuota int64 // bytes a user may upload per 24 h; default DefaultBlobQuota; < 0 unlimited

	MaxBatch int // requests per commit; default 512
	// BatchWindow is an extra wait to fill a batch; default none: a batch
	// is what queued while the last commit ran, so a lone (paced) request
	// is committed at once instead of waiting for company.
	BatchWindow time.Duration

	ErrorBudget int           // errors allowed per ErrorWindow before disconnect; default 20
	ErrorWindow time.Duration // default 10s

	PingInterval time.Duration // default 30s
	ReadTimeout  time.Duration // no frame or pong for this long ends the connection; default 75s
	WriteTimeout time.Duration // default 10s
	TokenRecheck time.Duration // how often live connections' tokens are checked again; default 1s

	Retain      time.Duration // events older than this are deleted (each room keeps its last); 0 keeps for ever
	RetainBlobs time.Duration // blobs older than this are deleted; 0 keeps for ever
	SweepEvery  time.Duration // how often retention runs; default 10 min
	ExpireEvery time.Duration // how often rooms' message expiry policies are enforced; default 1 min

	Logger *slog.Logger // default slog.Default()

	// MetricsListen, if set, is the address of a second listener serving
	// GET /metrics in the Prometheus text format; loopback unless Insecure.
	MetricsListen string

	// blobFileLimit (tests): a full disk after this many bytes of a blob file.
	blobFileLimit int64
}

// DefaultReadBytesPerSec is the bytes of history, room state and room
// lists each user may read per second, over all their connections.
const DefaultReadBytesPerSec = 1 << 20

// Blob store defaults.
const (
	DefaultMaxBlob   = 25 << 20
	DefaultBlobQuota = 1 << 30
)

func (c *Config) defaults() error {
	if c.Data == "" {
		return errors.New("relay: no data directory")
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:7878"
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("relay: --tls-cert and --tls-key go together")
	}
	set := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setD := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	setF := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	if c.Sync == "" {
		c.Sync = SyncFull
	}
	if c.MaxVersion == 0 || c.MaxVersion > proto.Version {
		c.MaxVersion = proto.Version
	}
	set(&c.MaxContent, proto.DefaultMaxContent)
	set(&c.MaxFrame, c.MaxContent+4<<10)
	set(&c.MaxHandshakeFrame, proto.DefaultMaxHandshakeFrame)
	set(&c.MaxWelcomeFrame, proto.MaxRelayFrame)
	c.MaxWelcomeFrame = min(max(c.MaxWelcomeFrame, minWelcomeFrame), proto.MaxRelayFrame)
	setF(&c.RatePerSec, 50)
	set(&c.RateBurst, 100)
	setF(&c.SignalRate, 5)
	set(&c.SignalBurst, 20)
	if c.ReadBytesPerSec == 0 {
		c.ReadBytesPerSec = DefaultReadBytesPerSec
	}
	if c.ReadBurst == 0 {
		c.ReadBurst = 2 * c.ReadBytesPerSec
	}
	set(&c.ReadMinCost, 4<<10)
	set(&c.ReadConcurrency, 1)
	setF(&c.PingRate, 2)
	set(&c.PingBurst, 20)
	setF(&c.SubscribeRate, 20)
	set(&c.SubscribeBurst, 1000)
	set(&c.MaxConnsPerUser, 16)
	set(&c.MaxConns, 10000)
	set(&c.SendQueue, 1024)
	if c.TailCacheBytes == 0 {
		c.TailCacheBytes = DefaultTailCacheBytes
	}
	if c.TailCacheBytes > 0 && c.TailCacheBytes < minTailCacheBytes {
		c.TailCacheBytes = minTailCacheBytes // one room's tail must fit
	}
	set(&c.MaxInflight, 256)
	if c.MaxBlob <= 0 {
		c.MaxBlob = DefaultMaxBlob
	}
	if c.BlobQuota == 0 {
		c.BlobQuota = DefaultBlobQuota
	}
	set(&c.MaxBatch, 512)
	set(&c.ErrorBudget, 20)
	setD(&c.ErrorWindow, 10*time.Second)
	setD(&c.PingInterval, 30*time.Second)
	setD(&c.ReadTimeout, 75*time.Second)
	setD(&c.WriteTimeout, 10*time.Second)
	setD(&c.TokenRecheck, time.Second)
	setD(&c.SweepEvery, 10*time.Minute)
	setD(&c.ExpireEvery, time.Minute)
	setD(&c.CheckEvery, 24*time.Hour)
	if c.CheckFullMax == 0 {
		c.CheckFullMax = AutoCheckMax
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Server is a running relay.
type Server struct {
	cfg     Config
	db      store.Store
	leaders *leaderWatch // a cluster node's count of leader elections
	hub     *hub
	blobs   *blobStore
	limits  *limiter
	log     *slog.Logger
	ln      net.Listener
	http    *http.Server
	up      websocket.Upgrader
	metrics metrics

	metricsLn   net.Listener // nil unless Config.MetricsListen
	metricsHTTP *http.Server

	mu         sync.Mutex
	conns      map[*conn]struct{}
	connTokens map[*conn][]byte // the hash of the token each connection authenticated with
	userConns  map[string]int   // live connections per user, for MaxConnsPerUser
	closing    bool
	connWG     sync.WaitGroup
	dispDone   chan struct{}
	stopOnce   sync.Once
	lock       *flock.Lock   // the data directory's, released after the store is closed
	stopWatch  chan struct{} // closed at Shutdown: stops watchTokens and sweep
	watchDone  chan struct{}
	sweepDone  chan struct{}
}

// Start opens the store, loads the rooms, starts the writer and dispatcher
// and begins listening. Stop it with Shutdown.
func Start(cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := cfg.listenAllowed(); err != nil {
		return nil, err
	}
	// The lock comes first: nothing in the directory is touched before it.
	lock, err := lockData(cfg.Data)
	if err != nil {
		return nil, err
	}
	db := cfg.Store
	if db == nil && cfg.Cluster != nil {
		t0 := time.Now()
		js, err := openCluster(&cfg)
		if err != nil {
			lock.Release()
			return nil, err
		}
		db = js
		cfg.Logger.Info("cluster store opened", "node", cfg.Cluster.Node, "took_ms", time.Since(t0).Milliseconds())
	}
	if db == nil {
		mode, err := cfg.checkMode()
		if err != nil {
			lock.Release()
			return nil, err
		}
		t0 := time.Now()
		log, dir := cfg.Logger, cfg.Data
		sq, err := openSQLite(cfg.Data, cfg.Sync, cfg.Init, sqlite.Options{Check: mode, CheckEvery: cfg.CheckEvery,
			TailBudget: cfg.CheckBudget, WALReserve: cfg.WALReserve, OnDamage: func(err error) {
				log.Error("relay database is damaged: writes are refused until it is repaired. "+repairAdvice(dir), "err", err)
			}})
		if err != nil {
			lock.Release()
			return nil, err
		}
		db = sq
		rep := sq.StartCheck()
		cfg.Logger.Info("relay database opened", "check", checkModeName(mode), "took_ms", time.Since(t0).Milliseconds(),
			"check_ms", rep.Took.Milliseconds(), "tables_checked", rep.Tables, "tail_rooms", rep.Rooms,
			"tail_rooms_left", rep.RoomsLeft, "tail_events", rep.TailEvents, "tail_bytes", rep.TailBytes)
	}
	s, err := start(cfg, db)
	if err != nil {
		db.Close()
		lock.Release()
		return nil, err
	}
	s.lock = lock
	return s, nil
}

func start(cfg Config, db store.Store) (*Server, error) {
	ctx := context.Background()
	domain, err := claimDomain(ctx, db, cfg.Domain)
	if err != nil {
		return nil, err
	}
	rooms, err := loadRooms(ctx, db)
	if err != nil {
		return nil, err
	}
	blobs, err := openBlobs(cfg.Data, db, cfg.MaxBlob, cfg.BlobQuota)
	if err != nil {
		return nil, err
	}
	blobs.fileLimit = cfg.blobFileLimit
	if js, ok := db.(*jetstream.Store); ok {
		// A cluster keeps blob bytes in its replicated bucket, so that any
		// node serves any blob, also after the uploading node is gone. A
		// bucket that cannot be created now is created on first use.
		blobs.cluster, blobs.log = js, cfg.Logger
		if _, err := blobs.bucket(ctx); err != nil {
			cfg.Logger.Warn("cluster blob bucket not available yet; uploads are refused (retryable) until it is", "err", err)
		}
	}
	s := &Server{cfg: cfg, db: db, blobs: blobs, log: cfg.Logger, conns: map[*conn]struct{}{},
		connTokens: map[*conn][]byte{}, stopWatch: make(chan struct{}), watchDone: make(chan struct{}),
		sweepDone: make(chan struct{}), dispDone: make(chan struct{}), userConns: map[string]int{}}
	s.limits = newLimiter(&s.cfg)
	s.metrics = newMetrics()
	s.hub = &hub{cfg: &s.cfg, metrics: &s.metrics, tails: newTailCache(int(cfg.TailCacheBytes)), db: db, domain: domain, log: cfg.Logger, rooms: rooms,
		in: make(chan *request, 4*cfg.MaxBatch), out: make(chan []outcome, 4)}
	if js, ok := db.(*jetstream.Store); ok {
		if s.hub.cl, err = newClusterLink(js.Conn(), s.hub); err != nil {
			return nil, err
		}
		if s.leaders, err = watchLeaders(js.Conn()); err != nil {
			return nil, err
		}
		if err := s.listenRevocations(js.Conn()); err != nil {
			return nil, err
		}
	}
	s.up = websocket.Upgrader{ReadBufferSize: 16 << 10, WriteBufferSize: 16 << 10,
		CheckOrigin: func(*http.Request) bool { return true }} // token auth, not cookies: origin is irrelevant
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("relay: listen: %w", err)
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("relay: TLS key pair: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	s.ln = corkListener{ln}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /v1", s.serveWS)
	mux.HandleFunc("POST /v1/blobs", s.upload)
	mux.HandleFunc("GET /v1/blobs/{id}", s.download)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)}
	if err := s.serveMetrics(); err != nil {
		ln.Close()
		return nil, err
	}
	go s.hub.runWriter()
	go s.hub.runDispatcher(s.dispDone)
	go s.http.Serve(s.ln)
	go s.watchTokens()
	go s.sweep()
	s.log.Info("relay listening", "addr", ln.Addr().String(), "domain", domain, "data", cfg.Data, "tls", cfg.TLSCert != "", "sync", cfg.Sync, "rooms", len(rooms))
	return s, nil
}

// Addr is the address the relay listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Domain is the relay's URI domain.
func (s *Server) Domain() string { return s.hub.domain }

// Store is the relay's storage as its operator sees it (user management
// while running).
func (s *Server) Store() *Store { return &Store{db: s.db} }

// listenAllowed refuses plain ws beyond loopback unless asked to.
func (c *Config) listenAllowed() error {
	if c.TLSCert == "" && !c.Insecure && !isLoopback(c.Listen) {
		return fmt.Errorf("relay: refusing plain ws on non-loopback %s; give --tls-cert/--tls-key or --insecure", c.Listen)
	}
	if c.MetricsListen != "" && !c.Insecure && !isLoopback(c.MetricsListen) {
		return fmt.Errorf("relay: refusing metrics on non-loopback %s without --insecure", c.MetricsListen)
	}
	return nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closing, n := s.closing, len(s.conns)
	s.mu.Unlock()
	if closing {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "ok\nconnections %d\n", n)
}

// Shutdown stops accepting, tells every client the relay is stopping, waits
// (until ctx ends) for their connections to close, then lets the writer
// commit what it holds and closes the database. Everything acked is stored.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		conns := make([]*conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		s.http.Close() // stops the listener; hijacked websockets are ours to close
		if s.metricsHTTP != nil {
			s.metricsHTTP.Close()
		}
		close(s.stopWatch)
		<-s.watchDone
		<-s.sweepDone
		for _, c := range conns {
			c.fatal(proto.CodeShuttingDown, "the relay is stopping; reconnect later")
		}
		done := make(chan struct{})
		go func() { s.connWG.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			for _, c := range conns {
				c.kill(websocket.CloseGoingAway, "relay stopping")
			}
			<-done
		}
		if s.hub.cl != nil {
			s.hub.cl.close() // no more sync markers
		}
		close(s.hub.in) // no reader is left to send on it
		<-s.dispDone
		err = s.db.Close()
		s.lock.Release()
		s.log.Info("relay stopped")
	})
	return err
}

// Serve runs a relay until ctx is cancelled, then shuts it down gracefully.
// ready, if not nil, is called with the listening address.
func Serve(ctx context.Context, cfg Config, ready func(addr string)) error {
	s, err := Start(cfg)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(s.Addr())
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Shutdown(sctx)
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// connections is the number of live client connections.
func (s *Server) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
