package session

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestDialTriesTheOtherRelays: with Relays (the nodes of a relay cluster),
// a dial that fails on one URL tries the next at once, in the same attempt:
// the first URL is a closed port and the backoff is 30 s, so only the
// second URL, tried without waiting, gets the session online in time.
func TestDialTriesTheOtherRelays(t *testing.T) {
	r := startRelay(t)
	uri, tok := r.user("alice")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "ws://" + ln.Addr().String() + "/v1"
	ln.Close() // nobody listens there: the dial is refused
	s, err := Open(Options{Relay: dead, Relays: []string{r.url()}, User: uri, Token: tok, DataDir: t.TempDir(),
		Backoff: Backoff{Initial: 30 * time.Second, Max: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Start()
	if err := s.WaitOnline(ctx); err != nil {
		t.Fatalf("not online through the second relay URL: %v (%+v)", err, s.Status())
	}
}
