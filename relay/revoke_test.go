package relay

import (
	"errors"
	"testing"
	"time"

	"mimichat/proto"
)

// helloRefused dials with token and reports whether the relay refused it
// with auth_failed.
func helloRefused(t *testing.T, addr, token string) bool {
	t.Helper()
	c := &client{t: t, ws: dialRaw(t, addr), frames: make(chan proto.Frame, 16), closed: make(chan struct{})}
	t.Cleanup(func() { c.ws.Close() })
	go c.readLoop()
	c.send(&proto.Hello{V: proto.Version, Token: token, Client: "relay-test"})
	switch f := c.next(5 * time.Second).(type) {
	case *proto.ErrorFrame:
		return f.Code == proto.CodeAuthFailed && f.Fatal
	case *proto.Welcome:
		return false
	default:
		t.Fatalf("answer to hello: %T", f)
		return false
	}
}

// closedForToken waits for c's fatal auth_failed and the close.
func closedForToken(t *testing.T, c *client, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case f := <-c.frames:
			if ef, ok := f.(*proto.ErrorFrame); ok && ef.Fatal {
				if ef.Code != proto.CodeAuthFailed {
					t.Fatalf("%s closed with %s, want auth_failed", c.user, ef.Code)
				}
				if !c.waitClosed(5 * time.Second) {
					t.Fatalf("%s not closed after its fatal error", c.user)
				}
				return
			}
		case <-deadline:
			t.Fatalf("%s's live connection still open %v after its token was revoked", c.user, within)
		}
	}
}

// TestTokenRevokeRotateRemove: the operator's commands work on the
// database from another handle (as `mimichat relay user …` does from
// another process); the relay closes the affected live connections within
// its recheck interval and refuses the old tokens from then on, while
// other users stay connected.
func TestTokenRevokeRotateRemove(t *testing.T) {
	dir := t.TempDir()
	s := startRelay(t, Config{Data: dir, TokenRecheck: 50 * time.Millisecond})
	tokens := map[string]string{}
	for _, n := range []string{"alice", "bob", "carol", "dave"} {
		tokens[n] = addUser(t, s.Store(), n)
	}
	live := map[string]*client{}
	for n, tok := range tokens {
		live[n] = dial(t, s.Addr(), tok)
	}
	op, err := OpenStore(dir) // a second handle, like the CLI's
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()

	if err := op.RevokeToken("alice"); err != nil {
		t.Fatal(err)
	}
	newBob, err := op.RotateToken("bob")
	if err != nil || newBob == tokens["bob"] {
		t.Fatalf("RotateToken: %q, %v", newBob, err)
	}
	if err := op.RemoveUser("carol"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"alice", "bob", "carol"} {
		closedForToken(t, live[n], 5*time.Second)
		if !helloRefused(t, s.Addr(), tokens[n]) {
			t.Fatalf("%s's old token still accepted", n)
		}
	}
	if helloRefused(t, s.Addr(), newBob) {
		t.Fatal("bob's rotated token refused")
	}
	// dave was not touched: still connected and answered.
	live["dave"].createRoom("still-here", proto.CreateRoom{})

	for _, err := range []error{op.RevokeToken("nobody"), op.RemoveUser("carol"),
		func() error { _, err := op.RotateToken("nobody"); return err }()} {
		if !errors.Is(err, ErrNoSuchUser) {
			t.Fatalf("unknown user: %v, want ErrNoSuchUser", err)
		}
	}
}
