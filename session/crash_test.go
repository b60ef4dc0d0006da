package session

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/proto"
)

// The crash test re-executes this test binary as a client process: with
// helperEnv set, TestMain runs sendAndHang instead of the tests.
const helperEnv = "MIMICHAT_SESSION_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "send" {
		os.Exit(sendAndHang())
	}
	os.Exit(m.Run())
}

// sendAndHang puts COUNT messages in the outbox, says so on stdout, starts
// the session and waits to be killed (at most a minute).
func sendAndHang() int {
	n, _ := strconv.Atoi(os.Getenv("HELPER_COUNT"))
	s, err := Open(Options{Relay: os.Getenv("HELPER_RELAY"), User: os.Getenv("HELPER_USER"),
		Token: os.Getenv("HELPER_TOKEN"), DataDir: os.Getenv("HELPER_DIR")})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	room := os.Getenv("HELPER_ROOM")
	for i := range n {
		m, err := s.Builder(room).Markdown(fmt.Sprintf("%s %d", os.Getenv("HELPER_PREFIX"), i))
		if err == nil {
			_, err = s.Send(room, m)
		}
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
	}
	s.Start()
	fmt.Println("queued", n)
	time.Sleep(time.Minute)
	return 2
}

// runKilledClient runs the helper, waits until it has queued its messages
// (and, if linger > 0, a little longer), then SIGKILLs it.
func runKilledClient(t *testing.T, r *testRelay, dir, room, prefix string, n int, linger time.Duration) {
	t.Helper()
	uri, tok := r.user("alice")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=send", "HELPER_COUNT="+strconv.Itoa(n), "HELPER_RELAY="+r.url(),
		"HELPER_USER="+uri, "HELPER_TOKEN="+tok, "HELPER_DIR="+dir, "HELPER_ROOM="+room, "HELPER_PREFIX="+prefix)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "queued") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q, %v", line, err)
	}
	time.Sleep(linger)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper did not die by SIGKILL: %v", err)
	}
}

// pendingIn counts the pending outbox items in the store of dir.
func pendingIn(t *testing.T, dir string) int {
	t.Helper()
	st, err := OpenStore(dir + "/" + StoreFile)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pending, err := st.Outbox(Pending)
	if err != nil {
		t.Fatal(err)
	}
	return len(pending)
}

func TestKilledClientDeliversOutboxExactlyOnce(t *testing.T) {
	r := startRelay(t)
	dir := t.TempDir()
	alice, bob := r.client("alice", dir), r.client("bob", "")
	cb := collect(bob)
	online(t, alice)
	online(t, bob)
	room := newRoom(t, alice, bob)
	alice.Close() // the helper process takes over alice's data dir

	const n = 25
	// 1. Relay down: the client dies with every message unacked.
	r.stop()
	runKilledClient(t, r, dir, room, "offline", n, 0)
	if p := pendingIn(t, dir); p != n {
		t.Fatalf("after a kill with the relay down the outbox holds %d pending, want all %d", p, n)
	}
	r.start()
	// 2. Relay up: the client dies while submitting; some acks may have
	// reached the relay's log but not the client's outbox. How many are
	// still pending depends on the machine's speed, so it is only logged.
	runKilledClient(t, r, dir, room, "inflight", n, 30*time.Millisecond)
	t.Logf("%d messages pending after two SIGKILLs", pendingIn(t, dir))

	// 3. Restart the client: everything is delivered, each exactly once.
	again := r.client("alice", dir)
	ca := collect(again)
	online(t, again)
	ca.waitFor(t, "outbox drained", 15*time.Second, func() bool {
		items, err := again.Outbox()
		if err != nil {
			return false
		}
		acked := 0
		for _, it := range items {
			if it.State == Acked {
				acked++
			}
		}
		return acked == 2*n
	})
	cb.waitFor(t, "bob has all", 10*time.Second, func() bool { return len(messages(cb.entries[room])) >= 2*n })
	time.Sleep(200 * time.Millisecond) // let any duplicate arrive, if one were coming
	cb.mu.Lock()
	defer cb.mu.Unlock()
	counts := map[string]int{}
	for _, e := range messages(cb.entries[room]) {
		counts[textOf(t, e)]++
	}
	for _, prefix := range []string{"offline", "inflight"} {
		for i := range n {
			if c := counts[fmt.Sprintf("%s %d", prefix, i)]; c != 1 {
				t.Errorf("%q delivered %d times", fmt.Sprintf("%s %d", prefix, i), c)
			}
		}
	}
	if len(counts) != 2*n {
		t.Errorf("bob saw %d distinct messages, want %d", len(counts), 2*n)
	}
}

func TestLostAckIsResolvedByTheRelaysDedup(t *testing.T) {
	r := startRelay(t)
	alice := r.client("alice", "")
	ca := collect(alice)
	online(t, alice)
	// The plaintext path: the submit below carries the content itself
	// (TestKilledClientDeliversOutboxExactlyOnce covers encrypted rooms).
	res, err := alice.CreateRoom(ctx10(t), CreateRoomOptions{Plaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	room := res.Room
	// The relay stores a message but the ack never reaches the outbox: send
	// the submit by hand on the live connection before the outbox row exists
	// in Pending state for the pump.
	m, err := alice.Builder(room).Markdown("once")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	alice.mu.Lock()
	c := alice.conn
	alice.mu.Unlock()
	ca.waitFor(t, "create", 5*time.Second, func() bool { return len(ca.entries[room]) > 0 })
	item := sendRawBehindPump(t, alice, ca, c, room, raw)
	ca.waitFor(t, "acked", 10*time.Second, func() bool { return ca.outbox[item.ID].State == Acked })
	time.Sleep(100 * time.Millisecond)
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if got := len(messages(ca.entries[room])); got != 1 {
		t.Fatalf("the message is in the log %d times", got)
	}
	if e := messages(ca.entries[room])[0]; e.Seq != ca.outbox[item.ID].Seq {
		t.Fatalf("dup ack seq %d, log seq %d", ca.outbox[item.ID].Seq, e.Seq)
	}
}

// sendRawBehindPump submits raw directly (as an earlier run that crashed
// before recording the ack would have), waits until the relay has stored
// it, then enqueues the same message: the pump's submit must get a dup ack
// with the original seq.
func sendRawBehindPump(t *testing.T, s *Session, col *collector, c *conn, room string, raw []byte) OutboxItem {
	t.Helper()
	id, err := content.ComputeID(s.User(), room, raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.send(&proto.Submit{RID: 999999, Room: room, ID: id[:], Content: raw}); err != nil {
		t.Fatal(err)
	}
	col.waitFor(t, "stored by the relay", 5*time.Second, func() bool { return len(messages(col.entries[room])) == 1 })
	it, err := s.SendRaw(room, raw)
	if err != nil {
		t.Fatal(err)
	}
	return it
}
