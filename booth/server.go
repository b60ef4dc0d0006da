package booth

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"

	"mimichat/session"
	"mimichat/ui"
)

// Config configures a booth.
type Config struct {
	// Listen is the SSH listen address; "" is 127.0.0.1:2222. Port 0 picks
	// a free port (Addr tells which).
	Listen string
	// HostKey is the host key file, generated there on first use.
	HostKey string
	// AuthorizedKeys, when set, is an authorized_keys file: only its keys
	// may visit. "" lets anyone in.
	AuthorizedKeys string
	// MaxVisitors is how many visitors may be connected at once (default
	// 50); one more is refused with a friendly line.
	MaxVisitors int
	// ConnsPerMinute and ConnBurst bound the sessions one source address
	// may open (default 10 a minute, 5 at once).
	ConnsPerMinute, ConnBurst int
	// Input bounds each visitor's typing (zero: defaultInputRate).
	Input InputRate
	// Accounts lends each visitor an account.
	Accounts Accounts
	// UI is the client's look and keys; Session, Names, Room and Remote
	// are set per visitor.
	UI ui.Options
	// Setup bounds how long a visitor's session may take to come online
	// and join the rooms (default 20s).
	Setup time.Duration
	// Logger gets one line per visitor arriving, leaving or refused
	// (default: discard).
	Logger *slog.Logger
}

// DefaultListen is the booth's listen address when none is given:
// loopback, so nothing is exposed unless asked.
const DefaultListen = "127.0.0.1:2222"

// Booth is a running SSH booth.
type Booth struct {
	cfg     Config
	srv     *ssh.Server
	ln      net.Listener
	slots   chan struct{} // one per connected visitor
	conns   *connLimiter
	wg      sync.WaitGroup // visitors' handlers
	served  chan error
	closing atomic.Bool
	mu      sync.Mutex
	present map[*session.Session]present // connected visitors (presence.go)
}

// Start loads (or makes) the host key, reads the authorized keys, listens
// and serves visitors until Close.
func Start(cfg Config) (*Booth, error) {
	if cfg.Accounts == nil {
		return nil, errors.New("booth: no Accounts")
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.MaxVisitors <= 0 {
		cfg.MaxVisitors = 50
	}
	if cfg.ConnsPerMinute <= 0 {
		cfg.ConnsPerMinute = 10
	}
	if cfg.ConnBurst <= 0 {
		cfg.ConnBurst = 5
	}
	if cfg.Input == (InputRate{}) {
		cfg.Input = defaultInputRate
	}
	if cfg.Setup <= 0 {
		cfg.Setup = 20 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HostKey == "" {
		return nil, errors.New("booth: no host key path")
	}
	key, err := loadHostKey(cfg.HostKey)
	if err != nil {
		return nil, err
	}
	b := &Booth{cfg: cfg, slots: make(chan struct{}, cfg.MaxVisitors),
		conns: newConnLimiter(cfg.ConnsPerMinute, cfg.ConnBurst), served: make(chan error, 1),
		present: map[*session.Session]present{}}
	opts := []ssh.Option{
		wish.WithHostKeyPEM(key),
		wish.WithVersion("mimichat-booth"),
		func(s *ssh.Server) error {
			s.Handler = b.visit
			// A connection that never finishes its handshake does not hold
			// a socket for long.
			s.HandshakeTimeout = 10 * time.Second
			return nil
		},
	}
	if cfg.AuthorizedKeys != "" {
		allowed, err := loadAuthorizedKeys(cfg.AuthorizedKeys)
		if err != nil {
			return nil, err
		}
		opts = append(opts, wish.WithPublicKeyAuth(func(_ ssh.Context, k ssh.PublicKey) bool {
			return allowed[string(k.Marshal())]
		}))
	}
	srv, err := wish.NewServer(opts...)
	if err != nil {
		return nil, fmt.Errorf("booth: ssh server: %w", err)
	}
	b.srv = srv
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("booth: listen: %w", err)
	}
	b.ln = ln
	go func() { b.served <- srv.Serve(ln) }()
	return b, nil
}

// Addr is the address the booth listens on.
func (b *Booth) Addr() string { return b.ln.Addr().String() }

// Visitors is how many visitors are connected now.
func (b *Booth) Visitors() int { return len(b.slots) }

// Wait returns when the server stops serving (after Close, or on a
// listener error).
func (b *Booth) Wait() error {
	err := <-b.served
	b.served <- err
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops listening, ends every visitor's session and waits (up to
// ten seconds) for their clients to close.
func (b *Booth) Close() error {
	if b.closing.Swap(true) {
		return nil
	}
	err := b.srv.Close()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		return errors.New("booth: visitors' sessions did not close within 10s")
	}
	if errors.Is(err, ssh.ErrServerClosed) {
		err = nil
	}
	return err
}
