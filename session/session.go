package session

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"mimichat/content"
)

// Options configure a session.
type Options struct {
	Relay   string // the relay's websocket URL (ws:// or wss://)
	User    string // the user's MIMI URI; message IDs are computed with it
	Token   string // bearer token for the hello frame; a data directory's own token file (TokenFile) comes first
	DataDir string // holds StoreFile; created if missing
	// StorePath overrides DataDir/StoreFile.
	StorePath string
	// Relays are more websocket URLs of the same relay: the other nodes of
	// a relay cluster (docs/cluster.md). When a dial fails the session
	// tries the next at once, and stays with the one that answered.
	Relays []string

	// Backoff paces reconnection. Zero fields take DefaultBackoff's.
	Backoff Backoff
	// Backfill is how many entries a room with no cache starts from (older
	// ones come by scrollback). Default 500.
	Backfill uint64
	// RoomsPoll is how often the room list is refreshed while online, to
	// see invitations and rooms joined elsewhere. Default 15 s.
	RoomsPoll time.Duration
	// ClientName is sent in hello, for the relay's logs.
	ClientName string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// ErrClosed is returned by calls on a closed session.
var ErrClosed = errors.New("session: closed")

// ErrOffline is returned by requests that need the relay while it is not
// reachable; Send never returns it (the outbox holds the message).
var ErrOffline = errors.New("session: not connected to the relay")

// Session is one user's client. All methods are safe for concurrent use.
type Session struct {
	opts  Options
	store *Store
	q     *eventQueue

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	kick   chan struct{} // wakes the reconnect loop (Reconnect)

	mu      sync.Mutex
	started bool
	status  Status
	rooms   map[string]*roomSync
	conn    *conn // the live connection, nil when not online
	relayAt int   // index into Relay, Relays... of the last connection
	nextRID uint64
	// listsAsked counts the room lists asked for (roomlist.go)
	listsAsked uint64
	// helloV is the protocol version to say hello with: proto.Version
	// (when 0), or lower once a relay refused it (dial)
	helloV uint64

	pumpWake chan struct{} // a new outbox item is waiting
	writer   *outboxWriter // stores SendQueued's messages in order

	device *device       // this client's MLS identity (device.go)
	token  deviceToken   // the token it says hello with (devicetoken.go)
	keys   *keyBundles   // private halves of its KeyPackages (keypackages.go)
	kpLow  chan struct{} // the relay said this device's KeyPackages run low

	// End-to-end encryption (e2ee.go), guarded by mu.
	groups     map[string]*roomGroup        // loaded MLS groups by room (nil: known to have none)
	encrypted  map[string]uint16            // encrypted rooms and their suites
	staleNeed  map[content.MessageID]uint64 // refused stale_epoch: re-encrypt at this epoch
	commitAt   map[string]bool              // rooms with an automatic commit scheduled
	rejoinMu   sync.Mutex                   // one external join at a time (mlsops.go joinExternal)
	rejoinWake chan struct{}                // a group fell out of step: rejoin it
}

// Open opens the store and loads the cached rooms. It does not touch the
// network: the cache can be shown at once, and Start connects.
func Open(opts Options) (*Session, error) {
	if opts.User == "" {
		return nil, errors.New("session: Options.User is required")
	}
	path := opts.StorePath
	if path == "" {
		if opts.DataDir == "" {
			return nil, errors.New("session: Options.DataDir or StorePath is required")
		}
		path = filepath.Join(opts.DataDir, StoreFile)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Backfill == 0 {
		opts.Backfill = 500
	}
	if opts.RoomsPoll <= 0 {
		opts.RoomsPoll = 15 * time.Second
	}
	opts.Backoff = opts.Backoff.withDefaults()
	st, err := OpenStore(path)
	if err != nil {
		return nil, err
	}
	if _, err := st.BindUser(opts.User); err != nil {
		st.Close()
		return nil, err
	}
	// The device's keys live beside the store, in the data directory.
	dev, err := loadDevice(filepath.Dir(path), opts.User)
	if err != nil {
		st.Close()
		return nil, err
	}
	keys, err := loadKeyBundles(filepath.Dir(path))
	if err != nil {
		st.Close()
		return nil, err
	}
	tok, err := loadDeviceToken(filepath.Dir(path), opts.Token)
	if err != nil {
		st.Close()
		return nil, err
	}
	rooms, err := st.Rooms()
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := st.PruneAcked(opts.Now().Add(-24 * time.Hour)); err != nil {
		st.Close()
		return nil, err
	}
	encrypted, err := st.EncryptedRooms()
	if err != nil {
		st.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		opts: opts, store: st, q: newEventQueue(), ctx: ctx, cancel: cancel,
		kick: make(chan struct{}, 1), pumpWake: make(chan struct{}, 1),
		rooms: make(map[string]*roomSync, len(rooms)), status: Status{State: Stopped},
		writer: newOutboxWriter(),
		device: dev, keys: keys, kpLow: make(chan struct{}, 1), token: tok,
		groups: map[string]*roomGroup{}, encrypted: encrypted, staleNeed: map[content.MessageID]uint64{},
		commitAt: map[string]bool{}, rejoinWake: make(chan struct{}, 1),
	}
	go s.writeLoop()
	for _, r := range rooms {
		s.rooms[r.ID] = &roomSync{Room: r}
	}
	return s, nil
}

// BindUser makes sure a store serves one user only: another user's history
// and outbox must never be sent with this user's token. A store of no one
// yet becomes user's. With user "" it binds nothing and returns the owner
// ("" for a store of no one), for the commands that work on the cache alone.
func (s *Store) BindUser(user string) (owner string, err error) {
	owner, err = s.Meta("user")
	if err != nil || user == "" || owner == user {
		return owner, err
	}
	if owner == "" {
		return user, s.SetMeta("user", user)
	}
	return owner, fmt.Errorf("session: store %s belongs to %s, not %s: give %s's client a data directory of its own "+
		"(the --data-dir flag or client.data_dir in the config file; with neither, each user gets a directory of "+
		"their own under $XDG_DATA_HOME/mimichat)", s.Path(), owner, user, user)
}

// Start connects in the background and keeps the connection up until Close.
// Calling it again does nothing.
func (s *Session) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.ctx.Err() != nil {
		return
	}
	s.started = true
	s.wg.Add(1)
	go s.connectLoop()
}

// Reconnect makes a waiting (Offline) or Stopped session try again now.
func (s *Session) Reconnect() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Close stops the session, closes the connection and the store. Messages
// still pending stay in the outbox for the next Open; queued ones
// (SendQueued) are written first.
func (s *Session) Close() error {
	s.closeWriter()
	s.cancel()
	s.mu.Lock()
	if c := s.conn; c != nil {
		c.close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.q.close()
	return s.store.Close()
}

// Events is the ordered stream of everything the consumer should see. It is
// closed by Close. Per room, EntriesEvents never repeat or skip a seq.
func (s *Session) Events() <-chan Event { return s.q.out }

// User is the session's user URI.
func (s *Session) User() string { return s.opts.User }

// Status is the current connection state.
func (s *Session) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *Session) setStatus(st Status) {
	s.mu.Lock()
	s.status = st
	s.mu.Unlock()
	s.q.push(StateEvent{st})
}

// WaitOnline blocks until the session is Online, or returns the reason it
// stopped, or ctx's error. Headless commands use it; a UI watches StateEvent.
func (s *Session) WaitOnline(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		st := s.Status()
		switch {
		case st.State == Online:
			return nil
		case st.State == Stopped && st.Err != nil:
			return st.Err
		case s.ctx.Err() != nil:
			return ErrClosed
		}
		select {
		case <-ctx.Done():
			if st.Err != nil {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), st.Err)
			}
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Rooms lists the known rooms (from the cache until the relay answers).
func (s *Session) Rooms() []Room {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Room, 0, len(s.rooms))
	for _, r := range s.rooms {
		out = append(out, r.Room)
	}
	sortRooms(out)
	return out
}

// Room returns one known room.
func (s *Session) Room(id string) (Room, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[id]
	if !ok {
		return Room{}, false
	}
	return r.Room, true
}

// Recent returns the last n cached entries of room, oldest first. It reads
// only the cache, so it works before and without a connection.
func (s *Session) Recent(room string, n int) ([]Entry, error) {
	return s.store.Recent(room, n)
}

// Outbox lists the sent messages not yet pruned, in send order.
func (s *Session) Outbox() ([]OutboxItem, error) { return s.store.Outbox() }

// Builder returns a content builder that stamps this user and room.
func (s *Session) Builder(room string) *content.Builder {
	return &content.Builder{Sender: s.opts.User, Room: room, Now: s.opts.Now}
}

// Store exposes the underlying store (read-mostly; for tools and tests).
func (s *Session) Store() *Store { return s.store }

func (s *Session) rid() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextRID++
	return s.nextRID
}
