package relay

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"mimichat/relay/store/jetstream"
)

// logBuffer collects a relay's log lines (text handler) for a test.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the logged lines containing every one of words.
func (l *logBuffer) lines(words ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for line := range strings.SplitSeq(l.b.String(), "\n") {
		all := line != ""
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			out = append(out, line)
		}
	}
	return out
}

// TestClusterRecheckQuietWhileNoLeader: a node whose store answers nothing
// (its stream has no leader: here both other nodes shut down; the same
// holds while a stream elects a leader, or before a node that just started
// has heard it) fails its token rechecks for a while; those failures are
// logged at debug level, not as warnings, until they have lasted
// recheckQuiet. Each failed recheck used to log a warning ("recheck
// tokens … context deadline exceeded"). Node 1 then shuts down promptly.
func TestClusterRecheckQuietWhileNoLeader(t *testing.T) {
	var mu sync.Mutex
	byNode := map[string]*logBuffer{} // startCluster names the nodes n1, n2, n3
	nodes := startCluster(t, 3, func(c *Config) {
		mu.Lock()
		defer mu.Unlock()
		l := &logBuffer{}
		byNode[c.Cluster.Node] = l
		c.Logger = slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	logs := []*logBuffer{byNode["n1"], byNode["n2"], byNode["n3"]}
	tok := addUser(t, nodes[0].Store(), "alice")
	dial(t, nodes[0].Addr(), tok) // a live token on node 1
	for _, n := range nodes[1:] {
		if err := n.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	// If node 1 led the stream it answers for up to 5 s more, until it
	// steps down for want of a quorum; the rechecks fail from then on. A
	// warning would come recheckQuiet after the first failure, so two
	// failures seen leave no room for one.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && len(logs[0].lines("recheck tokens")) < 2 {
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(logs[0].lines("recheck tokens")); n < 2 {
		t.Fatalf("node 1 logged %d failed rechecks in 20 s with no leader; want 2 or more", n)
	}
	// The failures so far (under recheckQuiet) are quiet. Looked at before
	// the shutdown: a slow one (11 s on a loaded CI machine) keeps
	// rechecking, and failures that last recheckQuiet are rightly warned.
	for _, l := range logs {
		if w := l.lines("level=WARN", "recheck tokens"); len(w) > 0 {
			t.Fatalf("a recheck failure within %v logged as a warning: %s", recheckQuiet, w[0])
		}
	}
	// Without a quorum node 1 still shuts down at once: its retention
	// sweep, started with the node, no longer holds Shutdown for up to a
	// minute of store timeouts.
	start := time.Now()
	nodes[0].Shutdown(t.Context())
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("node 1, without a quorum, took %v to shut down", d)
	} else {
		t.Logf("node 1, without a quorum, shut down in %v", d.Round(time.Millisecond))
	}
}

// TestRecheckFailuresLog: failed token rechecks are logged at debug level
// for recheckQuiet, then as warnings each tick, and a success after a
// warning is logged once.
func TestRecheckFailuresLog(t *testing.T) {
	var buf logBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var f recheckFailures
	t0 := time.Now()
	fail := errors.New("context deadline exceeded")
	for _, step := range []struct {
		at    time.Duration
		err   error
		level string // of the line logged; "" none
	}{
		{0, nil, ""},
		{1 * time.Second, fail, "DEBUG"},
		{2 * time.Second, fail, "DEBUG"},
		{3 * time.Second, nil, ""}, // recovered before a warning: nothing to say
		{4 * time.Second, fail, "DEBUG"},
		{13 * time.Second, fail, "DEBUG"},
		{14 * time.Second, fail, "WARN"},
		{15 * time.Second, fail, "WARN"},
		{16 * time.Second, nil, "INFO"},
		{17 * time.Second, nil, ""},
	} {
		buf.mu.Lock()
		buf.b.Reset()
		buf.mu.Unlock()
		f.note(log, step.err, t0.Add(step.at))
		got := buf.lines("recheck tokens")
		switch {
		case step.level == "" && len(got) != 0:
			t.Fatalf("at %v: logged %q, want nothing", step.at, got)
		case step.level != "" && (len(got) != 1 || !strings.Contains(got[0], "level="+step.level)):
			t.Fatalf("at %v: logged %q, want one %s line", step.at, got, step.level)
		}
	}
}

// TestClusterRecheckManyTokens: a node's token recheck reads every live
// token's standing in a few requests to the store, not three to five per
// token (about a millisecond each on R3, so a node with more than about a
// thousand live tokens could not finish a recheck in its one-second tick),
// and still closes exactly the connection whose token was replaced
// through another node. 300 users are connected to node 2.
func TestClusterRecheckManyTokens(t *testing.T) {
	const users = 300
	nodes := startCluster(t, 3, func(c *Config) { c.TokenRecheck = time.Hour }) // only the test's recheck runs
	n2 := nodes[1]
	clients := make([]*client, users)
	for i := range users {
		clients[i] = dial(t, n2.Addr(), addUser(t, nodes[0].Store(), fmt.Sprintf("u%d", i)))
	}
	if _, err := nodes[0].Store().RotateToken("u7"); err != nil {
		t.Fatal(err)
	}
	nc := n2.db.(*jetstream.Store).Conn()
	before := nc.Stats().OutMsgs
	start := time.Now()
	if err := n2.recheckTokens(); err != nil {
		t.Fatal(err)
	}
	took, requests := time.Since(start), nc.Stats().OutMsgs-before
	t.Logf("recheck of %d live tokens: %d messages, %v", users, requests, took.Round(time.Millisecond))
	if !clients[7].waitClosed(5 * time.Second) {
		t.Fatal("the connection of u7, whose token was replaced through node 1, is still open after the recheck")
	}
	for i, c := range clients {
		if i != 7 && c.waitClosed(0) {
			t.Fatalf("u%d's connection closed by the recheck: %v", i, c.err)
		}
	}
	// One for the leader's last sequence, then rounds of multi_last
	// gets of 512 subjects; a lookup per token made 3 × users or more.
	if requests > 30 {
		t.Fatalf("the recheck of %d live tokens sent %d messages", users, requests)
	}
}
