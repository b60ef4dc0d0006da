package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mimichat/owner"
)

// The process tests run `mimichat` as separate processes on one data
// directory: this test binary re-executed with MIMICHAT_CLI_PROCESS=1 runs
// Main on the arguments after "--", as the real binary would.
const processEnv = "MIMICHAT_CLI_PROCESS"

func TestMain(m *testing.M) {
	if os.Getenv(processEnv) == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Exit(Main(os.Args[i+1:]))
			}
		}
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// process prepares `mimichat CMD <user's flags> ARGS...` as a process.
func (e *clientEnv) process(user string, cmd []string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	full := append(append(append([]string{os.Args[0], "-test.run=^$", "--"}, cmd...), e.flags[user]...), args...)
	c := exec.Command(full[0], full[1:]...)
	c.Env = append(os.Environ(), processEnv+"=1")
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	return c, &out, &errb
}

// dataDir is the --data-dir of user's flags.
func (e *clientEnv) dataDir(user string) string {
	f := e.flags[user]
	for i := range f {
		if f[i] == "--data-dir" {
			return f[i+1]
		}
	}
	e.t.Fatal("no --data-dir")
	return ""
}

// sendProcesses runs n `mimichat send` processes at once; each must exit 0
// and print the message ID and seq. It returns the texts by ID.
func (e *clientEnv) sendProcesses(user, room string, n int, prefix string) map[string]string {
	e.t.Helper()
	var (
		mu   sync.Mutex
		sent = map[string]string{}
		wg   sync.WaitGroup
	)
	for i := range n {
		wg.Go(func() {
			text := fmt.Sprintf("%s %d", prefix, i)
			cmd, out, errb := e.process(user, []string{"send"}, "--room", room, text)
			start := time.Now()
			err := cmd.Run()
			f := strings.Fields(out.String())
			if err != nil || len(f) != 2 {
				e.t.Errorf("send %q: %v after %v\nstdout: %s\nstderr: %s", text, err, time.Since(start), out, errb)
				return
			}
			mu.Lock()
			sent[f[0]] = text
			mu.Unlock()
		})
	}
	wg.Wait()
	return sent
}

// waitForOwner waits until the data directory's owner answers.
func waitForOwner(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("unix", filepath.Join(dir, owner.SocketFile)); err == nil {
			c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: no owner answered within 10 s", dir)
}

// logCounts reads room's whole log with tail and counts each message ID.
func (e *clientEnv) logCounts(user, room string) map[string]int {
	e.t.Helper()
	var head uint64
	code, out, errs := e.run(user, []string{"rooms"}, "--json")
	if code != 0 {
		e.t.Fatalf("rooms: exit %d: %s", code, errs)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Room string
			Head uint64
		}
		if err := json.Unmarshal([]byte(l), &r); err == nil && r.Room == room {
			head = r.Head
		}
	}
	if head == 0 {
		e.t.Fatalf("room %s not listed", room)
	}
	code, out, errs = e.run(user, []string{"tail"}, "--room", room, "--since", "0", "--json", "--count", strconv.FormatUint(head, 10))
	if code != 0 {
		e.t.Fatalf("tail: exit %d: %s", code, errs)
	}
	counts := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var en entryLine
		if err := json.Unmarshal([]byte(l), &en); err != nil {
			e.t.Fatalf("%q: %v", l, err)
		}
		if en.ID != "" {
			counts[en.ID]++
		}
	}
	return counts
}

func assertOnce(t *testing.T, counts map[string]int, sent map[string]string, n int) {
	t.Helper()
	if len(sent) != n {
		t.Fatalf("%d sends printed an ID, want %d", len(sent), n)
	}
	for id, text := range sent {
		if counts[id] != 1 {
			t.Errorf("%q (%s) is in the log %d times, want once", text, id, counts[id])
		}
	}
	if len(counts) != n {
		t.Errorf("the log has %d messages, want %d", len(counts), n)
	}
}

// A `tail` process owns the data directory; six `send` processes started
// meanwhile go through it. The tail prints the six, each once, in seq order;
// every send exits 0 once.
func TestProcessesTailAndSixSends(t *testing.T) {
	env := newClientEnv(t, "alice")
	const room = "mimi://example.com/r/lobby"
	created := env.must("alice", []string{"room", "create"}, "lobby")
	tail, tailOut, tailErr := env.process("alice", []string{"tail"}, "--room", "lobby", "--since", created[1], "--json", "--count", "6", "--timeout", "30s")
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	defer tail.Process.Kill()
	waitForOwner(t, env.dataDir("alice"))
	sent := env.sendProcesses("alice", "lobby", 6, "while tailing")
	if err := tail.Wait(); err != nil {
		t.Fatalf("tail: %v\nstdout: %s\nstderr: %s", err, tailOut, tailErr)
	}
	seq, _ := strconv.ParseUint(created[1], 10, 64)
	printed := map[string]int{}
	sc := bufio.NewScanner(tailOut)
	for sc.Scan() {
		var en entryLine
		if err := json.Unmarshal(sc.Bytes(), &en); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		seq++
		if en.Seq != seq || sent[en.ID] != en.Text {
			t.Errorf("tail printed seq %d %q (%s): want seq %d and a sent message", en.Seq, en.Text, en.ID, seq)
		}
		printed[en.ID]++
	}
	assertOnce(t, printed, sent, 6)
	assertOnce(t, env.logCounts("alice", room), sent, 6)
}

// Ten rounds of six `send` processes at once, no other process running:
// one takes the lock in each round, the others go through it or after it.
// All exit 0; the 60 messages are stored once each.
func TestProcessesConcurrentSendsWithoutOwner(t *testing.T) {
	env := newClientEnv(t, "alice")
	const room = "mimi://example.com/r/lobby"
	env.must("alice", []string{"room", "create"}, "lobby")
	sent := map[string]string{}
	for round := range 10 {
		for id, text := range env.sendProcesses("alice", "lobby", 6, fmt.Sprintf("round %d", round)) {
			sent[id] = text
		}
	}
	assertOnce(t, env.logCounts("alice", room), sent, 60)
}

// A `tail` owning the data directory is killed with SIGKILL: its socket
// file stays; the next `send` takes the lock, replaces it and delivers once.
func TestProcessesKilledOwnerIsReplaced(t *testing.T) {
	env := newClientEnv(t, "alice")
	const room = "mimi://example.com/r/lobby"
	env.must("alice", []string{"room", "create"}, "lobby")
	tail, _, _ := env.process("alice", []string{"tail"}, "--room", "lobby", "--timeout", "0")
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	dir := env.dataDir("alice")
	waitForOwner(t, dir)
	if err := tail.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	tail.Wait()
	if _, err := os.Stat(filepath.Join(dir, owner.SocketFile)); err != nil {
		t.Fatalf("the killed owner's socket: %v", err)
	}
	sent := env.sendProcesses("alice", "lobby", 1, "after the kill")
	assertOnce(t, env.logCounts("alice", room), sent, 1)
}

// A `send` the relay refuses for good exits 1 with the reason and the
// outbox commands; the message is failed, not pending, and can be dropped.
func TestProcessesRefusalIsReportedFailed(t *testing.T) {
	env := newClientEnv(t, "alice", "bob")
	// Plaintext: bob's device knows nothing of the room, so it submits the
	// content as is (a plaintext room's not_member refusal).
	env.must("alice", []string{"room", "create"}, "--plaintext", "lobby")
	cmd, out, errb := env.process("bob", []string{"send"}, "--room", "mimi://example.com/r/lobby", "let me in")
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(errb.String(), "not_member") ||
		!strings.Contains(errb.String(), "failed") || !strings.Contains(errb.String(), "mimichat outbox retry") ||
		strings.Contains(errb.String(), "kept in the outbox") {
		t.Fatalf("send: %v\nstdout: %s\nstderr: %s", err, out, errb)
	}
	list := env.must("bob", []string{"outbox", "list"})
	if len(list) < 3 || list[1] != "failed" {
		t.Fatalf("outbox list: %v", list)
	}
	env.must("bob", []string{"outbox", "drop"}, list[0])
	if got := env.must("bob", []string{"outbox", "list", "--all"}); len(got) != 0 {
		t.Fatalf("outbox list after drop: %v", got)
	}
}
