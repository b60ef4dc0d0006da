package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"mimichat/proto"
	"mimichat/relay"
	"mimichat/session"
)

// Domain is the demo relay's URI domain.
const Domain = "demo.mimi.example"

// Options configure a demo.
type Options struct {
	// Dir holds the relay's and the sessions' data; "" makes a temporary
	// directory that Close removes.
	Dir string
	// Pace scales the script's pauses (1 is the normal pace; tests use less).
	Pace float64
	// NoScript sets up rooms and history but runs no live script.
	NoScript bool
	// Logger for the relay (default: discard).
	Logger *slog.Logger
}

// Demo is a running demo.
type Demo struct {
	// User are the session options of the user's account (the UI opens it).
	User session.Options
	// Names maps each demo user's URI to a display name.
	Names map[string]string
	// Rooms are the demo rooms' URIs, in the order they were created.
	Rooms []string

	relay  *relay.Server
	peers  []*peer
	dir    string
	ownDir bool
	pace   float64
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type peer struct {
	name string
	uri  string
	s    *session.Session
	d    *Demo
	mu   sync.Mutex
	seen map[string][]session.Entry // room → recent entries
	st   *peerState
}

// Start starts the relay (with its blob store) and the peers, sets up the rooms
// with some history, joins the user to them, and starts the live script.
// It returns once the user's account can connect.
func Start(ctx context.Context, o Options) (*Demo, error) {
	d := &Demo{dir: o.Dir, pace: o.Pace, Names: map[string]string{}}
	if d.pace <= 0 {
		d.pace = 1
	}
	if d.dir == "" {
		dir, err := os.MkdirTemp("", "mimichat-demo-")
		if err != nil {
			return nil, fmt.Errorf("demo: temp dir: %w", err)
		}
		d.dir, d.ownDir = dir, true
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv, err := relay.Start(relay.Config{Listen: "127.0.0.1:0", Data: filepath.Join(d.dir, "relay"), Domain: Domain,
		RatePerSec: -1, Logger: logger})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: relay: %w", err)
	}
	d.relay = srv
	url := "ws://" + srv.Addr() + "/v1"
	mk := func(name string) (string, string, error) {
		u, tok, err := srv.Store().AddUser(Domain, name)
		if err != nil {
			return "", "", fmt.Errorf("demo: add user %s: %w", name, err)
		}
		return u.URI, tok, nil
	}
	youURI, youTok, err := mk("you")
	if err != nil {
		d.Close()
		return nil, err
	}
	d.Names[youURI] = "You"
	d.User = session.Options{Relay: url, User: youURI, Token: youTok, DataDir: filepath.Join(d.dir, "you"),
		ClientName: "mimichat-demo", Backoff: session.Backoff{Initial: 100 * time.Millisecond, Max: 2 * time.Second}}
	for _, n := range []string{"Alice", "Bob", "Carol"} {
		uri, tok, err := mk(lower(n))
		if err != nil {
			d.Close()
			return nil, err
		}
		s, err := session.Open(session.Options{Relay: url, User: uri, Token: tok, DataDir: filepath.Join(d.dir, lower(n)),
			ClientName: "mimichat-demo-peer", Backoff: session.Backoff{Initial: 50 * time.Millisecond, Max: time.Second},
			RoomsPoll: time.Second})
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("demo: peer %s: %w", n, err)
		}
		p := &peer{name: n, uri: uri, s: s, d: d, seen: map[string][]session.Entry{}}
		d.peers = append(d.peers, p)
		d.Names[uri] = n
		s.Start()
	}
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for _, p := range d.peers {
		if err := p.s.WaitOnline(sctx); err != nil {
			d.Close()
			return nil, fmt.Errorf("demo: peer %s: %w", p.name, err)
		}
		d.wg.Add(1)
		go p.drain()
	}
	// The rooms are end-to-end encrypted: inviting the user adds their
	// device, so it must have uploaded KeyPackages first (Online means done).
	you, err := session.Open(d.User)
	if err == nil {
		you.Start()
		err = you.WaitOnline(sctx)
		you.Close()
	}
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: the user's device: %w", err)
	}
	if err := d.setup(sctx, youURI); err != nil {
		d.Close()
		return nil, err
	}
	lctx, lcancel := context.WithCancel(context.Background())
	d.cancel = lcancel
	if !o.NoScript {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.live(lctx)
		}()
	}
	return d, nil
}

// Join joins the user's session to every demo room (the user was invited
// during setup). Call it once the session is started.
func (d *Demo) Join(ctx context.Context, s *session.Session) error {
	var errs []error
	for _, r := range d.Rooms {
		if _, err := s.Join(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("demo: join %s: %w", r, err))
		}
	}
	return errors.Join(errs...)
}

// Upload stores a sealed attachment in the demo relay's blob store with the
// user's token and returns its URL (the UI's /attach uses it); it is
// session.Session.Upload without needing the user's session.
func (d *Demo) Upload(ctx context.Context, filename string, ciphertext []byte) (string, error) {
	return session.UploadBlob(ctx, d.User.Relay, d.User.Token, ciphertext)
}

// Peer returns a peer's session by name ("Alice", "Bob", "Carol").
func (d *Demo) Peer(name string) *session.Session {
	for _, p := range d.peers {
		if p.name == name {
			return p.s
		}
	}
	return nil
}

// RelayAddr is the relay's loopback address.
func (d *Demo) RelayAddr() string { return d.relay.Addr() }

// Close stops the script, the peers and the relay, and
// removes a temporary directory.
func (d *Demo) Close() error {
	if d.cancel != nil {
		d.cancel()
	}
	for _, p := range d.peers {
		p.s.Close()
	}
	d.wg.Wait()
	var err error
	if d.relay != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = d.relay.Shutdown(ctx)
		cancel()
	}
	if d.ownDir {
		os.RemoveAll(d.dir)
	}
	return err
}

// drain keeps the peer's recent entries per room (the script replies and
// reacts to them) and answers the user's messages with receipts.
func (p *peer) drain() {
	defer p.d.wg.Done()
	for ev := range p.s.Events() {
		es, ok := ev.(session.EntriesEvent)
		if !ok {
			continue
		}
		p.mu.Lock()
		seen := append(p.seen[es.Room], es.Entries...)
		if len(seen) > 200 {
			seen = append([]session.Entry(nil), seen[len(seen)-200:]...)
		}
		p.seen[es.Room] = seen
		p.mu.Unlock()
		for _, e := range es.Entries {
			if e.Kind == proto.KindJoin && (!p.d.isPeer(e.Sender) || e.Target != "" && !p.d.isPeer(e.Target)) {
				p.s.Presence(es.Room, p.presence())
			}
		}
		p.onEntries(es)
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// presence is what the peer announces: Carol is away, the others online.
func (p *peer) presence() string {
	if p.name == "Carol" {
		return "away"
	}
	return "online"
}
