package session

import (
	"net"
	"strings"
	"testing"
	"time"

	"mimichat/proto"
)

// TestConnErrorClassified: each way a connection fails against a real relay
// (or a closed port) gives Status a ConnError of the right class, whose
// Summary is the fixed words the UI shows.
func TestConnErrorClassified(t *testing.T) {
	r := startRelay(t)
	uri, tok := r.user("alice")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().String()
	ln.Close()
	cases := []struct {
		name    string
		relay   string
		token   string
		state   ConnState
		problem ConnProblem
		summary string
	}{
		{"nothing listens", "ws://" + closedPort + "/v1", tok, Offline, ProblemRefused, "connection refused"},
		{"wrong path", "ws://" + r.addr + "/v9", tok, Offline, ProblemHTTP, "bad handshake: HTTP 404"},
		{"TLS to a plain relay", "wss://" + r.addr + "/v1", tok, Offline, ProblemTLS, "TLS error: the server does not speak TLS"},
		{"bad token", r.url(), "mct_wrong", Stopped, ProblemAuth, "auth refused (auth_failed)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(Options{Relay: c.relay, User: uri, Token: c.token, DataDir: t.TempDir(),
				Backoff: Backoff{Initial: time.Hour, Max: time.Hour}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.Start()
			deadline := time.Now().Add(10 * time.Second)
			st := s.Status()
			for (st.State != c.state || st.Err == nil) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
				st = s.Status()
			}
			p := st.Problem()
			if st.State != c.state || p == nil {
				t.Fatalf("status %v %v, want %v with a ConnError", st.State, st.Err, c.state)
			}
			if p.Problem != c.problem || !strings.HasPrefix(p.Summary(), c.summary) {
				t.Errorf("problem %d %q, want %d %q (cause: %v)", p.Problem, p.Summary(), c.problem, c.summary, p.Err)
			}
			if !strings.Contains(st.Err.Error(), p.Summary()) {
				t.Errorf("Err %q does not say %q", st.Err, p.Summary())
			}
		})
	}
}

// TestConnErrorSummaryIsFixedText: a relay code that this build does not
// know (it is a string from the network) never reaches Summary.
func TestConnErrorSummaryIsFixedText(t *testing.T) {
	hostile := proto.Code("\x1b]52;c;AAAA\x07evil")
	for _, ce := range []*ConnError{
		relayConnError(&RelayError{Code: hostile, Reason: "\x1b[2J"}),
		lostError(&RelayError{Code: hostile}),
		{Problem: ProblemHTTP, HTTPStatus: 502},
	} {
		s := ce.Summary()
		if strings.ContainsAny(s, "\x1b\x07") || strings.Contains(s, "evil") {
			t.Errorf("Summary %q carries network text", s)
		}
	}
	if got := relayConnError(&RelayError{Code: proto.CodeAuthFailed}).Summary(); got != "auth refused (auth_failed)" {
		t.Errorf("auth_failed: %q", got)
	}
}
