package owner

import (
	"bufio"
	"bytes"
	"context"
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

	"mimichat/content"
	"mimichat/session"
)

// The process tests run this test binary as separate processes on one data
// directory (MIMICHAT_OWNER_HELPER names what the process does), as a
// user's TUI, tail and scripts would be.
const helperEnv = "MIMICHAT_OWNER_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

// helper is a minimal headless client: "send" (TEXT to ROOM, prints the
// ID and seq), "tail" (COUNT entries after SINCE, one "SEQ ID" line each)
// "hold" (owns the directory, says so, waits to be killed) or "peer" (one
// raw request on the socket, see askAsPeer). Exit 1 for
// a refusal, 3 for a message left pending, 4 for any other error.
func helper(mode string) int {
	get := os.Getenv
	dir, user, room := get("H_DIR"), get("H_USER"), get("H_ROOM")
	if mode == "peer" {
		return askAsPeer(dir, user)
	}
	o := Options{DataDir: dir, User: user, Command: mode, Open: func() (*session.Session, error) {
		return session.Open(session.Options{Relay: get("H_RELAY"), User: user, Token: get("H_TOKEN"), DataDir: dir,
			Backoff: session.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}})
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := Acquire(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "acquire:", err)
		return 4
	}
	defer h.Close()
	switch mode {
	case "hold":
		fmt.Printf("owner %v\n", h.Owner())
		time.Sleep(time.Minute)
		return 4
	case "tail":
		since, _ := strconv.ParseInt(get("H_SINCE"), 10, 64)
		count, _ := strconv.Atoi(get("H_COUNT"))
		n := 0
		err := h.Tail(ctx, room, since, func(e session.Entry) error {
			fmt.Printf("%d %s\n", e.Seq, e.ID)
			if n++; n == count {
				return errStop
			}
			return nil
		})
		if err != errStop {
			fmt.Fprintln(os.Stderr, "tail:", err)
			return 4
		}
		return 0
	case "send":
		m, err := (&content.Builder{Sender: user, Room: room}).Markdown(get("H_TEXT"))
		if err != nil {
			return 4
		}
		raw, err := m.Encode()
		if err != nil {
			return 4
		}
		it, err := h.Send(ctx, room, raw)
		var (
			re *RefusedError
			pe *PendingError
		)
		switch {
		case err == nil:
			fmt.Printf("%s %d\n", it.ID, it.Seq)
			return 0
		case errors.As(err, &re):
			fmt.Fprintln(os.Stderr, err)
			return 1
		case errors.As(err, &pe):
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		fmt.Fprintln(os.Stderr, "send:", err)
		return 4
	}
	return 4
}

// helperCmd prepares a helper process of user on dir.
func (e *testEnv) helperCmd(mode, name, dir, room string, extra ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "H_DIR="+dir, "H_USER="+e.uris[name], "H_ROOM="+room,
		"H_RELAY="+e.relayURL(), "H_TOKEN="+e.token(name, dir))
	cmd.Env = append(cmd.Env, extra...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	return cmd, &out, &errb
}

// sendProcesses runs n concurrent send processes and returns the IDs they
// printed; each must exit 0.
func (e *testEnv) sendProcesses(name, dir, room string, n int, prefix string) []content.MessageID {
	e.t.Helper()
	var (
		mu  sync.Mutex
		ids []content.MessageID
		wg  sync.WaitGroup
	)
	for i := range n {
		wg.Go(func() {
			cmd, out, errb := e.helperCmd("send", name, dir, room, fmt.Sprintf("H_TEXT=%s %d", prefix, i))
			if err := cmd.Run(); err != nil {
				e.t.Errorf("send process %d: %v\nstdout: %s\nstderr: %s", i, err, out, errb)
				return
			}
			f := strings.Fields(out.String())
			id, err := content.ParseMessageID(f[0])
			if len(f) != 2 || err != nil {
				e.t.Errorf("send process %d printed %q", i, out)
				return
			}
			mu.Lock()
			ids = append(ids, id)
			mu.Unlock()
		})
	}
	wg.Wait()
	return ids
}

// waitOwned waits until dir's owner answers on the control socket.
func waitOwned(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("unix", filepath.Join(dir, SocketFile)); err == nil {
			c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: no owner answered within 10 s", dir)
}

// A tail process owns the directory; six send processes go through it.
// Every send exits 0 once, the tail prints the six, each once, in order.
func TestProcessesTailOwnerAndSixSends(t *testing.T) {
	env := newEnv(t, "alice")
	dir := t.TempDir()
	room, head := env.createRoom("alice", dir)
	tail, tailOut, tailErr := env.helperCmd("tail", "alice", dir, room, "H_SINCE="+strconv.FormatUint(head, 10), "H_COUNT=6")
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	defer tail.Process.Kill()
	waitOwned(t, dir)
	ids := env.sendProcesses("alice", dir, room, 6, "through the tail")
	if err := tail.Wait(); err != nil {
		t.Fatalf("tail: %v\nstdout: %s\nstderr: %s", err, tailOut, tailErr)
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id.String()] = true
	}
	sc := bufio.NewScanner(tailOut)
	seq := head
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		seq++
		if len(f) != 2 || f[0] != strconv.FormatUint(seq, 10) || !want[f[1]] {
			t.Errorf("tail line %q: want seq %d and one of the sent IDs", sc.Text(), seq)
		}
		delete(want, f[1])
	}
	if len(want) != 0 || seq != head+6 {
		t.Errorf("tail printed up to seq %d and missed %d of the sends", seq, len(want))
	}
	assertStoredOnce(t, env, room, ids, 6)
}

// Six send processes at once with no owner: one takes the lock, the others
// go through it or take over after it; all exit 0, each stored once.
func TestProcessesConcurrentSendsWithoutOwner(t *testing.T) {
	env := newEnv(t, "alice")
	dir := t.TempDir()
	room, _ := env.createRoom("alice", dir)
	var ids []content.MessageID
	for round := range 10 {
		ids = append(ids, env.sendProcesses("alice", dir, room, 6, fmt.Sprintf("round %d", round))...)
	}
	assertStoredOnce(t, env, room, ids, 60)
}

// An owner killed with SIGKILL leaves its socket file; the next command
// takes the lock, replaces the socket and delivers.
func TestProcessesKilledOwnerIsReplaced(t *testing.T) {
	env := newEnv(t, "alice")
	dir := t.TempDir()
	room, _ := env.createRoom("alice", dir)
	hold, _, _ := env.helperCmd("hold", "alice", dir, room)
	hold.Stdout = nil
	holdOut, err := hold.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(holdOut).ReadString('\n')
	if err != nil || line != "owner true\n" {
		hold.Process.Kill()
		t.Fatalf("the holding process printed %q (%v)", line, err)
	}
	waitOwned(t, dir)
	if err := hold.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	hold.Wait()
	if _, err := os.Stat(filepath.Join(dir, SocketFile)); err != nil {
		t.Fatalf("the killed owner's socket file: %v", err)
	}
	ids := env.sendProcesses("alice", dir, room, 1, "after the kill")
	assertStoredOnce(t, env, room, ids, 1)
}

// A permanent refusal exits with the refusal's status and reason; the
// message is Failed in the outbox, not pending.
func TestProcessesRefusalIsReportedFailed(t *testing.T) {
	env := newEnv(t, "alice", "bob")
	room, _ := env.createRoom("alice", t.TempDir())
	dir := t.TempDir()
	cmd, _, errb := env.helperCmd("send", "bob", dir, room, "H_TEXT=knock knock")
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(errb.String(), "not_member") {
		t.Fatalf("send: %v, stderr %q; want exit 1 naming not_member", err, errb)
	}
	h := env.acquire("bob", dir, "outbox")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	items, err := h.Outbox(ctx)
	if err != nil || len(items) != 1 || items[0].State != session.Failed {
		t.Fatalf("outbox after the refusal: %+v, %v", items, err)
	}
}

func assertStoredOnce(t *testing.T, env *testEnv, room string, ids []content.MessageID, n int) {
	t.Helper()
	if len(ids) != n {
		t.Fatalf("%d sends succeeded, want %d", len(ids), n)
	}
	stored := env.stored("alice", room)
	for _, id := range ids {
		if stored[id] != 1 {
			t.Errorf("message %s stored %d times, want once", id, stored[id])
		}
	}
	if len(stored) != n {
		t.Errorf("the relay has %d messages, want %d", len(stored), n)
	}
}

// The terminal client's case: a process that owns the directory with
// Own and reads the session's events itself (as the UI does) while six
// send processes go through its socket. Its event stream has each message
// once, in seq order, and no cache error; every send exits 0.
func TestProcessesSendsBesideAnEventReadingOwner(t *testing.T) {
	env := newEnv(t, "alice")
	dir := t.TempDir()
	room, head := env.createRoom("alice", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := Own(ctx, env.options("alice", dir, "chat"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	s := h.Session()
	s.Start()
	if err := s.WaitOnline(ctx); err != nil {
		t.Fatal(err)
	}
	seen := make(chan session.Entry, 64)
	problems := make(chan error, 64)
	go func() {
		for ev := range s.Events() {
			switch ev := ev.(type) {
			case session.EntriesEvent:
				for _, e := range ev.Entries {
					if e.Room == room {
						seen <- e
					}
				}
			case session.ErrorEvent:
				problems <- ev.Err
			}
		}
	}()
	ids := env.sendProcesses("alice", dir, room, 6, "beside the client")
	want := map[content.MessageID]bool{}
	for _, id := range ids {
		want[id] = true
	}
	last := head
	for len(want) > 0 {
		select {
		case e := <-seen:
			if e.Seq != last+1 || !want[e.ID] {
				t.Fatalf("event seq %d id %s: want seq %d and one of the sent IDs", e.Seq, e.ID, last+1)
			}
			delete(want, e.ID)
			last = e.Seq
		case err := <-problems:
			t.Fatalf("the owner's session reported: %v", err)
		case <-ctx.Done():
			t.Fatalf("the owner's events lack %d of the sends", len(want))
		}
	}
	assertStoredOnce(t, env, room, ids, 6)
}

// askAsPeer sends one outbox request straight to dir's socket and prints
// whether the owner answered or closed the connection.
func askAsPeer(dir, user string) int {
	c, err := net.Dial("unix", filepath.Join(dir, SocketFile))
	if err != nil {
		fmt.Println("dial:", err)
		return 4
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := writeMessage(c, Request{V: Version, Op: OpOutbox, User: user}); err != nil {
		fmt.Println("closed")
		return 0
	}
	var resp Response
	if err := readMessage(c, &resp); err != nil {
		fmt.Println("closed")
		return 0
	}
	fmt.Println("answered")
	return 0
}

// A process of another uid that reaches the socket (its mode loosened on
// purpose here) is refused by the SO_PEERCRED check; the same request of
// this uid is answered.
func TestPeerOfAnotherUIDIsRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("running a client as another uid needs root")
	}
	env := newEnv(t, "alice")
	base, err := os.MkdirTemp("", "mimichat-peer")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	bin := filepath.Join(base, "owner.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "data")
	env.acquire("alice", dir, "chat")
	for path, mode := range map[string]os.FileMode{base: 0o755, dir: 0o755, filepath.Join(dir, SocketFile): 0o666} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, other := range []bool{false, true} {
		cmd := exec.Command(bin, "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=peer", "H_DIR="+dir, "H_USER="+env.uris["alice"])
		want := "answered"
		if other {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			want = "closed"
		}
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("peer of another uid %v: %v, printed %q; want %q", other, err, out, want)
		}
	}
}
