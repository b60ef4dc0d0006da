package relay

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay/store/sqlite"
)

// syncBuffer is a log destination the relay's goroutines may share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestInternalErrorsDoNotSpendTheErrorBudget: the relay's own storage
// failures are answered with internal but are not held against the client,
// which stays connected past its error budget and posts once storage works.
func TestInternalErrorsDoNotSpendTheErrorBudget(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(dir, sqlite.SyncFull)
	if err != nil {
		t.Fatal(err)
	}
	fs := &failingStore{Store: db}
	s := startRelay(t, Config{Data: dir, Store: fs, ErrorBudget: 3, RatePerSec: -1})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	room := alice.createRoom("r", proto.CreateRoom{})
	fs.failNext.Store(true)
	for i := 0; i < 10; i++ {
		m := message(t, alice.user, room, "lost")
		m.RID = alice.nextRID()
		alice.send(m)
		if ef := alice.expectError(proto.CodeInternal); ef.Fatal {
			t.Fatalf("failure %d: fatal %+v", i, ef)
		}
	}
	fs.failNext.Store(false)
	if ack := alice.post(room, "kept"); ack.Seq != 2 {
		t.Fatalf("after the failures: ack %+v, want seq 2", ack)
	}
}

// TestClosedForErrorsLogsOnce: a client that keeps sending bad frames after
// its error budget is spent gets one fatal error, is closed, and the relay
// logs the closing once, not once per further frame.
func TestClosedForErrorsLogsOnce(t *testing.T) {
	var logs syncBuffer
	s := startRelay(t, Config{ErrorBudget: 3, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	sent := 0
	for ; sent < 200; sent++ {
		if alice.trySendRaw([]byte{0xff}) != nil {
			break
		}
	}
	if !alice.waitClosed(5 * time.Second) {
		t.Fatal("connection still open")
	}
	fatals, errs := 0, 0
	for len(alice.frames) > 0 {
		if ef, ok := (<-alice.frames).(*proto.ErrorFrame); ok {
			errs++
			if ef.Fatal {
				fatals++
			}
		}
	}
	waitFor(t, func() bool { return s.connections() == 0 })
	if n := strings.Count(logs.String(), "closing connection"); n != 1 || fatals != 1 {
		t.Fatalf("after %d bad frames: %d error frames, %d fatal, %d closing log lines; want 1 fatal and 1 line\n%s",
			sent, errs, fatals, n, logs.String())
	}
	if errs != 3+2 {
		t.Fatalf("%d error frames; want 4 (one over the budget of 3) and then the fatal one", errs)
	}
}
