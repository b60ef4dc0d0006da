package session

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/relay"
)

// testRelay is a real relay on 127.0.0.1, restartable on the same data
// directory and port.
type testRelay struct {
	t      testing.TB
	dir    string
	addr   string
	srv    *relay.Server
	mu     sync.Mutex
	tokens map[string]string // user URI -> token
	// dirTokens: each data directory's token (per-device tokens): the
	// user's own token for its first directory, an extra one after.
	dirTokens map[string]string
	firstDir  map[string]bool // user URI -> its token went to a directory
	logger    *slog.Logger    // nil: discard the relay's log
}

const testDomain = "example.com"

func startRelay(t testing.TB) *testRelay {
	t.Helper()
	return startRelayLogging(t, nil)
}

// startRelayLogging is startRelay with the relay's log going to logger.
func startRelayLogging(t testing.TB, logger *slog.Logger) *testRelay {
	t.Helper()
	r := &testRelay{t: t, dir: t.TempDir(), addr: "127.0.0.1:0", tokens: map[string]string{}, logger: logger,
		dirTokens: map[string]string{}, firstDir: map[string]bool{}}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *testRelay) start() {
	r.t.Helper()
	var (
		srv *relay.Server
		err error
	)
	logger := r.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// A restart reuses the port; the old listener may need a moment.
	for range 100 {
		srv, err = relay.Start(relay.Config{Listen: r.addr, Data: r.dir, Domain: testDomain,
			RatePerSec: -1, Logger: logger})
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("start relay: %v", err)
	}
	r.mu.Lock()
	r.srv, r.addr = srv, srv.Addr()
	r.mu.Unlock()
}

func (r *testRelay) stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		r.t.Errorf("relay shutdown: %v", err)
	}
}

func (r *testRelay) url() string { return "ws://" + r.addr + "/v1" }

// user creates (once) a relay user and returns its URI and token.
func (r *testRelay) user(name string) (string, string) {
	r.t.Helper()
	uri := "mimi://" + testDomain + "/u/" + name
	r.mu.Lock()
	defer r.mu.Unlock()
	if tok, ok := r.tokens[uri]; ok {
		return uri, tok
	}
	u, tok, err := r.srv.Store().AddUser(testDomain, name)
	if err != nil {
		r.t.Fatalf("add user %s: %v", name, err)
	}
	r.tokens[u.URI] = tok
	return u.URI, tok
}

// deviceToken returns user name's URI and the token of its device in dir:
// the user's own token for its first directory, an extra token (as
// `mimichat devices add` would give) for each further one.
func (r *testRelay) deviceToken(name, dir string) (string, string) {
	r.t.Helper()
	uri, tok := r.user(name)
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.dirTokens[dir]; ok {
		return uri, t
	}
	if r.firstDir[uri] {
		var err error
		if tok, _, err = r.srv.Store().AddDeviceToken(name); err != nil {
			r.t.Fatalf("a device token of %s: %v", name, err)
		}
	}
	r.firstDir[uri] = true
	r.dirTokens[dir] = tok
	return uri, tok
}

// client opens a session for name with its data in dir (a fresh temp dir
// when dir is "").
func (r *testRelay) client(name, dir string) *Session {
	r.t.Helper()
	if dir == "" {
		dir = r.t.TempDir()
	}
	uri, tok := r.deviceToken(name, dir)
	s, err := Open(Options{Relay: r.url(), User: uri, Token: tok, DataDir: dir,
		Backoff: Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}, RoomsPoll: 200 * time.Millisecond})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { s.Close() })
	return s
}

func online(t testing.TB, s *Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.Start()
	if err := s.WaitOnline(ctx); err != nil {
		t.Fatalf("%s: %v", s.User(), err)
	}
}

// collector drains a session's events and keeps what tests check: every
// entry per room, in delivery order, and the latest outbox state per ID.
type collector struct {
	mu      sync.Mutex
	entries map[string][]Entry
	outbox  map[content.MessageID]OutboxItem
	states  []ConnState
	errs    []error
	devices []DeviceEvent
	changed chan struct{}
	done    chan struct{}
}

func collect(s *Session) *collector {
	c := &collector{entries: map[string][]Entry{}, outbox: map[content.MessageID]OutboxItem{},
		changed: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for ev := range s.Events() {
			c.mu.Lock()
			switch ev := ev.(type) {
			case EntriesEvent:
				c.entries[ev.Room] = append(c.entries[ev.Room], ev.Entries...)
			case OutboxEvent:
				c.outbox[ev.Item.ID] = ev.Item
			case StateEvent:
				c.states = append(c.states, ev.State)
			case ErrorEvent:
				c.errs = append(c.errs, ev.Err)
			case DeviceEvent:
				c.devices = append(c.devices, ev)
			}
			c.mu.Unlock()
			select {
			case c.changed <- struct{}{}:
			default:
			}
		}
	}()
	return c
}

// waitFor polls cond (under the collector's lock) until it holds or the
// deadline passes.
func (c *collector) waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ok := cond()
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-c.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline.C:
			c.mu.Lock()
			defer c.mu.Unlock()
			t.Fatalf("timed out after %v waiting for %s (errors: %v)", d, what, c.errs)
		}
	}
}

// checkRun fails unless room's delivered entries are exactly seq from..to,
// in order, each once.
func (c *collector) checkRun(t testing.TB, room string, from, to uint64) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	checkSeqs(t, c.entries[room], from, to)
}

func checkSeqs(t testing.TB, es []Entry, from, to uint64) {
	t.Helper()
	if uint64(len(es)) != to-from+1 {
		t.Fatalf("got %d entries, want %d (seq %d..%d); first %v", len(es), to-from+1, from, to, seqs(es[:min(len(es), 10)]))
	}
	for i, e := range es {
		if e.Seq != from+uint64(i) {
			t.Fatalf("entry %d has seq %d, want %d (gap or duplicate)", i, e.Seq, from+uint64(i))
		}
	}
}

func (c *collector) lastSeq(room string) uint64 {
	es := c.entries[room]
	if len(es) == 0 {
		return 0
	}
	return es[len(es)-1].Seq
}

// newRoom has owner create a room and the others join it; it returns the
// room URI once every member is subscribed.
func newRoom(t testing.TB, owner *Session, members ...*Session) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := owner.CreateRoom(ctx, CreateRoomOptions{Name: "Test room"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if _, err := owner.Invite(ctx, res.Room, m.User()); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Join(ctx, res.Room); err != nil {
			t.Fatalf("%s joins: %v", m.User(), err)
		}
	}
	return res.Room
}

func sendText(t testing.TB, s *Session, room, text string) OutboxItem {
	t.Helper()
	m, err := s.Builder(room).Markdown(text)
	if err != nil {
		t.Fatal(err)
	}
	it, err := s.Send(room, m)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func textOf(t testing.TB, e Entry) string {
	t.Helper()
	m, err := content.Decode(e.Raw)
	if err != nil {
		t.Fatalf("seq %d: %v", e.Seq, err)
	}
	return content.PlainText(m)
}

func messages(es []Entry) []Entry {
	var out []Entry
	for _, e := range es {
		if e.Kind == proto.KindMessage {
			out = append(out, e)
		}
	}
	return out
}
