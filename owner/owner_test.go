package owner

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/session"
)

func TestLockIsExclusiveAndNamesItsHolder(t *testing.T) {
	dir := t.TempDir()
	lk, err := TryLock(dir, "tail")
	if err != nil {
		t.Fatal(err)
	}
	_, err = TryLock(dir, "send")
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: %v, want a LockedError", err)
	}
	if want := "pid " + strconv.Itoa(os.Getpid()) + ", mimichat tail"; le.Holder != want {
		t.Errorf("holder %q, want %q", le.Holder, want)
	}
	lk.Release()
	lk2, err := TryLock(dir, "send")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	lk2.Release()
}

func TestSendThroughTheOwner(t *testing.T) {
	env := newEnv(t, "alice")
	dir := t.TempDir()
	room, _ := env.createRoom("alice", dir)
	owner := env.acquire("alice", dir, "chat")
	client := env.acquire("alice", dir, "send")
	if !owner.Owner() || client.Owner() {
		t.Fatalf("owner %v, client %v: want the first handle to own the directory", owner.Owner(), client.Owner())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw := env.markdown("alice", room, "through the socket")
	it, err := client.Send(ctx, room, raw)
	if err != nil || it.State != session.Acked || it.Seq == 0 {
		t.Fatalf("send: %+v, %v", it, err)
	}
	// The same content again is the same message: answered from the outbox.
	again, err := client.Send(ctx, room, raw)
	if err != nil || again.Seq != it.Seq {
		t.Fatalf("send again: seq %d, %v; want %d", again.Seq, err, it.Seq)
	}
	if got, err := owner.Session().Store().OutboxItem(it.ID); err != nil || got.State != session.Acked {
		t.Fatalf("owner's outbox: %+v, %v", got, err)
	}
	// The ack comes before the relay's echo of the message, and the cache
	// takes entries only in seq order from the echo: the lookup finds the
	// message once the owner's subscription has delivered it.
	var e session.Entry
	var ok bool
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		e, ok, err = client.Lookup(ctx, room, it.ID)
		if err != nil || ok || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || !ok || e.Seq != it.Seq || string(e.Raw) != string(raw) {
		t.Fatalf("lookup: %+v %v %v", e, ok, err)
	}
	if n := env.stored("alice", room)[it.ID]; n != 1 {
		t.Fatalf("stored %d times, want once", n)
	}
}

// The first case in one process: a tail through the owner and six
// concurrent sends, each through its own handle.
func TestTailThroughTheOwnerSeesConcurrentSends(t *testing.T) {
	env := newEnv(t, "alice")
	dir := t.TempDir()
	room, head := env.createRoom("alice", dir)
	env.acquire("alice", dir, "chat")
	tailer := env.acquire("alice", dir, "tail")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	const n = 6
	got := make(chan session.Entry, 3*n)
	tailDone := make(chan error, 1)
	go func() {
		count := 0
		tailDone <- tailer.Tail(ctx, room, int64(head), func(e session.Entry) error {
			got <- e
			if count++; count == n {
				return errStop
			}
			return nil
		})
	}()
	ids := make(chan content.MessageID, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			h := env.acquire("alice", dir, "send")
			it, err := h.Send(ctx, room, env.markdown("alice", room, "m"+strconv.Itoa(i)))
			if err != nil {
				t.Errorf("send %d: %v", i, err)
				return
			}
			ids <- it.ID
		})
	}
	wg.Wait()
	close(ids)
	if err := <-tailDone; err != errStop {
		t.Fatalf("tail: %v", err)
	}
	close(got)
	want := map[content.MessageID]bool{}
	for id := range ids {
		want[id] = true
	}
	last := head
	for e := range got {
		if e.Seq != last+1 || !want[e.ID] {
			t.Errorf("tail entry seq %d id %s: want seq %d and one of the sent IDs", e.Seq, e.ID, last+1)
		}
		delete(want, e.ID)
		last = e.Seq
	}
	if len(want) != 0 {
		t.Errorf("tail missed %d messages", len(want))
	}
}

var errStop = errors.New("stop")

// An owner that exits hands the directory to whoever asks next: a tail
// through it takes over and goes on after its last entry.
func TestOwnerExitHandsOverATail(t *testing.T) {
	env := newEnv(t, "alice")
	dir := t.TempDir()
	room, head := env.createRoom("alice", dir)
	first := env.acquire("alice", dir, "send")
	tailer := env.acquire("alice", dir, "tail")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := make(chan uint64, 10)
	tailDone := make(chan error, 1)
	go func() {
		count := 0
		tailDone <- tailer.Tail(ctx, room, int64(head), func(e session.Entry) error {
			got <- e.Seq
			if count++; count == 2 {
				return errStop
			}
			return nil
		})
	}()
	if _, err := first.Send(ctx, room, env.markdown("alice", room, "before")); err != nil {
		t.Fatal(err)
	}
	if seq := <-got; seq != head+1 {
		t.Fatalf("first tail entry %d, want %d", seq, head+1)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second := env.acquire("alice", dir, "send")
	if _, err := second.Send(ctx, room, env.markdown("alice", room, "after")); err != nil {
		t.Fatal(err)
	}
	if err := <-tailDone; err != errStop {
		t.Fatalf("tail: %v", err)
	}
	if seq := <-got; seq != head+2 {
		t.Fatalf("second tail entry %d, want %d", seq, head+2)
	}
	if !tailer.Owner() && !second.Owner() {
		t.Fatal("neither the tail nor the second send owns the directory")
	}
}

func TestRefusalIsFailedNotPending(t *testing.T) {
	env := newEnv(t, "alice", "bob")
	room, _ := env.createRoom("alice", t.TempDir())
	for _, remote := range []bool{false, true} {
		t.Run(map[bool]string{false: "owner", true: "client"}[remote], func(t *testing.T) {
			dir := t.TempDir()
			// env closes handles at the parent test's end; close them at
			// this subtest's, before its TempDir is removed, or the owner's
			// session may still be writing there (its KeyPackage top-up).
			own := env.acquire("bob", dir, "send")
			t.Cleanup(func() { own.Close() })
			h := own
			if remote {
				h = env.acquire("bob", dir, "send")
				t.Cleanup(func() { h.Close() })
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := h.Send(ctx, room, env.markdown("bob", room, "let me in"))
			var re *RefusedError
			if !errors.As(err, &re) || re.Item.State != session.Failed || !strings.Contains(re.Item.Err, "not_member") {
				t.Fatalf("send: %v, want a RefusedError with not_member", err)
			}
			items, err := h.Outbox(ctx)
			if err != nil || len(items) != 1 || items[0].State != session.Failed {
				t.Fatalf("outbox: %+v, %v", items, err)
			}
			if _, err := h.Retry(ctx, re.Item.ID); !errors.As(err, &re) {
				t.Fatalf("retry: %v, want refused again", err)
			}
			if _, err := h.Drop(ctx, re.Item.ID); err != nil {
				t.Fatalf("drop: %v", err)
			}
			if _, err := h.Drop(ctx, re.Item.ID); !errors.Is(err, session.ErrNotInOutbox) {
				t.Fatalf("drop again: %v, want ErrNotInOutbox", err)
			}
		})
	}
}

func TestPendingIsReportedAndCannotBeDropped(t *testing.T) {
	env := newEnv(t, "alice")
	dir := t.TempDir()
	room, _ := env.createRoom("alice", dir)
	o := env.options("alice", dir, "chat")
	o.Open = func() (*session.Session, error) { // a relay that never answers
		return session.Open(session.Options{Relay: "ws://127.0.0.1:1/v1", User: env.uris["alice"], Token: "x", DataDir: dir})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	owner, err := Acquire(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	client := env.acquire("alice", dir, "send")
	short, cancelShort := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancelShort()
	_, err = client.Send(short, room, env.markdown("alice", room, "later"))
	var pe *PendingError
	if !errors.As(err, &pe) || pe.Item.State != session.Pending {
		t.Fatalf("send: %v, want a PendingError", err)
	}
	if _, err := client.Drop(ctx, pe.Item.ID); !errors.Is(err, ErrNotFailed) {
		t.Fatalf("drop pending: %v, want ErrNotFailed", err)
	}
}

func TestWrongUserIsRefused(t *testing.T) {
	env := newEnv(t, "alice", "bob")
	dir := t.TempDir()
	env.acquire("alice", dir, "chat")
	bob := env.acquire("bob", dir, "rooms")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := bob.Outbox(ctx); !errors.Is(err, ErrWrongUser) {
		t.Fatalf("bob's request to alice's owner: %v, want ErrWrongUser", err)
	}
}

func TestStaleSocketIsReplaced(t *testing.T) {
	env := newEnv(t, "alice")
	dir := t.TempDir()
	// What a SIGKILLed owner leaves: a socket file nobody listens on.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, SocketFile), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	h := env.acquire("alice", dir, "send")
	if !h.Owner() {
		t.Fatal("the first handle does not own the directory")
	}
	client := env.acquire("alice", dir, "send")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.Outbox(ctx); err != nil || client.Owner() {
		t.Fatalf("request through the new socket: %v (client owns: %v)", err, client.Owner())
	}
}

// A data directory too deep for a socket address still gets its control
// socket (reached through /proc/self/fd).
func TestDeepDataDirectoryServes(t *testing.T) {
	env := newEnv(t, "alice")
	dir := filepath.Join(t.TempDir(), strings.Repeat("deep-", 12), strings.Repeat("deeper-", 8))
	if n := len(filepath.Join(dir, SocketFile)); n <= maxSocketPath {
		t.Fatalf("socket path of %d bytes is not too long", n)
	}
	room, _ := env.createRoom("alice", dir)
	env.acquire("alice", dir, "chat")
	client := env.acquire("alice", dir, "send")
	if client.Owner() {
		t.Fatal("the second handle owns the directory")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if it, err := client.Send(ctx, room, env.markdown("alice", room, "from deep down")); err != nil || it.Seq == 0 {
		t.Fatalf("send through the socket: %+v, %v", it, err)
	}
}
