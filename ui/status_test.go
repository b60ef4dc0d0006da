package ui

import (
	"net"
	"testing"
	"time"

	"mimichat/session"
)

// TestStatusLineSaysWhyOffline: for each way a connection fails against a
// real relay (or a closed port), the status line names the reason in the
// session's fixed words, not only "reconnecting".
func TestStatusLineSaysWhyOffline(t *testing.T) {
	rl := startRelay(t)
	u, tok, err := rl.srv.Store().AddUser(testDomain, "you")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	cases := []struct{ name, relay, token, want string }{
		{"nothing listens", "ws://" + closed + "/v1", tok, "◌ offline: connection refused · retrying in"},
		{"wrong path", "ws://" + rl.srv.Addr() + "/nope", tok, "◌ offline: bad handshake: HTTP 404"},
		{"TLS to a plain relay", "wss://" + rl.srv.Addr() + "/v1", tok, "◌ offline: TLS error: the server does not speak TLS"},
		{"bad token", "ws://" + rl.srv.Addr() + "/v1", "mct_wrong", "○ offline: auth refused (auth_failed)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := session.Open(session.Options{Relay: c.relay, User: u.URI, Token: c.token, DataDir: t.TempDir(),
				Backoff: session.Backoff{Initial: 5 * time.Second, Max: 5 * time.Second}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			_, _, scr := startUI(t, s, 120, 30, Options{})
			scr.waitText(t, c.want)
		})
	}
}
