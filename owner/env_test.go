package owner

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/relay"
	"mimichat/session"
)

// testEnv is a real relay on 127.0.0.1 port 0 with users whose data
// directories the tests share between handles and processes.
type testEnv struct {
	t      *testing.T
	srv    *relay.Server
	tokens map[string]string // name -> token
	uris   map[string]string // name -> user URI
	// dirTokens: each data directory's token (per-device tokens: a
	// user's token is bound to its first device, later directories get
	// an extra one), guarded by mu.
	mu        sync.Mutex
	dirTokens map[string]string
	used      map[string]bool // name -> its own token went to a directory
}

func newEnv(t *testing.T, users ...string) *testEnv {
	t.Helper()
	srv, err := relay.Start(relay.Config{Listen: "127.0.0.1:0", Data: t.TempDir(), Domain: "example.com",
		RatePerSec: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	e := &testEnv{t: t, srv: srv, tokens: map[string]string{}, uris: map[string]string{},
		dirTokens: map[string]string{}, used: map[string]bool{}}
	for _, name := range users {
		u, tok, err := srv.Store().AddUser("example.com", name)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[name], e.uris[name] = tok, u.URI
	}
	return e
}

func (e *testEnv) relayURL() string { return "ws://" + e.srv.Addr() + "/v1" }

// token is the token of name's device in dir: the user's own for its first
// directory, an extra one (as `mimichat devices add` gives) after.
func (e *testEnv) token(name, dir string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if tok, ok := e.dirTokens[dir]; ok {
		return tok
	}
	tok := e.tokens[name]
	if e.used[name] {
		var err error
		if tok, _, err = e.srv.Store().AddDeviceToken(name); err != nil {
			e.t.Errorf("a device token of %s: %v", name, err)
		}
	}
	e.used[name] = true
	e.dirTokens[dir] = tok
	return tok
}

// options are a user's handle options on dir.
func (e *testEnv) options(name, dir, command string) Options {
	tok := e.token(name, dir)
	return Options{DataDir: dir, User: e.uris[name], Command: command, Grace: 2 * time.Second,
		Open: func() (*session.Session, error) {
			return session.Open(session.Options{Relay: e.relayURL(), User: e.uris[name], Token: tok,
				DataDir: dir, Backoff: session.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}})
		}}
}

// acquire returns a handle closed at the test's end.
func (e *testEnv) acquire(name, dir, command string) *Handle {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := Acquire(ctx, e.options(name, dir, command))
	if err != nil {
		e.t.Fatalf("acquire %s: %v", dir, err)
	}
	e.t.Cleanup(func() { h.Close() })
	return h
}

// createRoom makes name's room lobby and returns its URI and head.
func (e *testEnv) createRoom(name, dir string) (string, uint64) {
	e.t.Helper()
	h := e.acquire(name, dir, "test")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Plaintext: stored() counts the relay's copies from a fresh device, which
	// cannot decrypt (and so cannot name) messages of an encrypted room.
	res, err := h.CreateRoom(ctx, session.CreateRoomOptions{Slug: "lobby", Plaintext: true})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		e.t.Fatal(err)
	}
	return res.Room, res.Seq
}

// markdown encodes a message of name's in room.
func (e *testEnv) markdown(name, room, text string) []byte {
	e.t.Helper()
	m, err := (&content.Builder{Sender: e.uris[name], Room: room}).Markdown(text)
	if err != nil {
		e.t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		e.t.Fatal(err)
	}
	return raw
}

// stored reads room's whole log from the relay on a fresh data directory
// and counts each message ID.
func (e *testEnv) stored(name, room string) map[content.MessageID]int {
	e.t.Helper()
	h := e.acquire(name, e.t.TempDir(), "test")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rooms, err := h.Rooms(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var head uint64
	for _, r := range rooms {
		if r.Room == room {
			head = r.Head
		}
	}
	got := map[content.MessageID]int{}
	if head == 0 {
		return got
	}
	errDone := context.Canceled
	err = h.Tail(ctx, room, 0, func(en session.Entry) error {
		if en.IsMessage() {
			got[en.ID]++
		}
		if en.Seq >= head {
			return errDone
		}
		return nil
	})
	if err != errDone {
		e.t.Fatalf("read %s: %v", room, err)
	}
	h.Close()
	return got
}
