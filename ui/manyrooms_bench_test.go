package ui

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/internal/roomseed"
	"mimichat/relay"
	"mimichat/session"
)

// Benchmarks of a user in many rooms (issue 14 "A user in a thousand
// rooms"): the real session and UI against a real relay on 127.0.0.1, run in
// a process of its own (this test binary again, TestSeededRelayChild) so the
// heap figures are the client's alone. The relay's data directory is seeded
// through its bulk store path and the client's cache is synced once; both
// are kept for every -count of the same benchmark.
//
//	go test ./ui -run '^$' -bench 'ManyRooms1000$' -benchtime 1x -count 5
//	go test ./ui -run '^$' -bench 'ManyRooms10000$' -benchtime 1x -count 5 -timeout 60m

// manyRoomsSetup is a seeded relay child and a client cache synced with it.
type manyRoomsSetup struct {
	addr     string
	relayIn  io.WriteCloser // the relay child's standard input: it serves until this closes
	seed     roomseed.Seeded
	cacheDir string
	// freshOnline and freshCaught are what the first sync (an empty
	// cache) took: to Online, and until every room held its whole log.
	freshOnline, freshCaught time.Duration
}

var (
	manyRoomsMu     sync.Mutex
	manyRoomsByRoom = map[int]*manyRoomsSetup{}
)

// TestSeededRelayChild runs a relay on the data directory named by
// MIMICHAT_SEEDED_RELAY, prints its address and serves until its standard
// input closes. Without the variable it does nothing.
func TestSeededRelayChild(t *testing.T) {
	dir := os.Getenv("MIMICHAT_SEEDED_RELAY")
	if dir == "" {
		t.Skip("run by the many-rooms benchmarks")
	}
	srv, err := relay.Start(relay.Config{Listen: "127.0.0.1:0", Data: dir, Domain: "example.com", RatePerSec: -1,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("ADDR " + srv.Addr() + "\n")
	io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}

// setupManyRooms seeds (once per process and room count) a relay with
// rooms × messages, starts it in a child process and syncs a client cache.
func setupManyRooms(b *testing.B, rooms, messages int) *manyRoomsSetup {
	manyRoomsMu.Lock()
	defer manyRoomsMu.Unlock()
	if s, ok := manyRoomsByRoom[rooms]; ok {
		return s
	}
	base, err := os.MkdirTemp("", "mimichat-manyrooms-")
	if err != nil {
		b.Fatal(err)
	}
	relayDir := filepath.Join(base, "relay")
	t0 := time.Now()
	seed, err := roomseed.Seed(relayDir, roomseed.Options{Rooms: rooms, Messages: messages})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d rooms × %d messages in %v", rooms, messages, time.Since(t0).Round(time.Millisecond))
	cmd := exec.Command(os.Args[0], "-test.run=^TestSeededRelayChild$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), "MIMICHAT_SEEDED_RELAY="+relayDir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ADDR ")
	if err != nil || !ok {
		b.Fatalf("relay child: %q %v", line, err)
	}
	// stdin stays referenced (a collected pipe would close and stop the
	// child); it closes when this process exits.
	s := &manyRoomsSetup{addr: addr, relayIn: stdin, seed: seed, cacheDir: filepath.Join(base, "client")}

	// The first sync, from an empty cache.
	sess := s.open(b)
	go func() {
		for range sess.Events() {
		}
	}()
	t0 = time.Now()
	sess.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := sess.WaitOnline(ctx); err != nil {
		b.Fatal(err)
	}
	s.freshOnline = time.Since(t0)
	for !s.caughtUp(sess) {
		if ctx.Err() != nil {
			b.Fatal("the first sync did not finish in 10 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.freshCaught = time.Since(t0)
	sess.Close()
	b.Logf("first sync (empty cache): online after %v, every room's log cached after %v",
		s.freshOnline.Round(time.Millisecond), s.freshCaught.Round(time.Millisecond))
	manyRoomsByRoom[rooms] = s
	return s
}

func (s *manyRoomsSetup) open(b *testing.B) *session.Session {
	sess, err := session.Open(session.Options{Relay: "ws://" + s.addr + "/v1", User: s.seed.User, Token: s.seed.UserToken,
		DataDir: s.cacheDir})
	if err != nil {
		b.Fatal(err)
	}
	return sess
}

// caughtUp reports whether every seeded room's cache reached its head.
func (s *manyRoomsSetup) caughtUp(sess *session.Session) bool {
	n := 0
	for _, r := range sess.Rooms() {
		if r.Cursor >= s.seed.Head {
			n++
		}
	}
	return n == len(s.seed.Rooms)
}

// benchRuntime runs a model's commands and feeds their messages back, as
// Bubble Tea's loop does (without a terminal).
type benchRuntime struct {
	msgs chan tea.Msg
	done chan struct{}
}

func (rt *benchRuntime) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if batch, ok := msg.(tea.BatchMsg); ok {
			for _, c := range batch {
				rt.run(c)
			}
			return
		}
		if msg == nil {
			return
		}
		select {
		case rt.msgs <- msg:
		case <-rt.done:
		}
	}()
}

// benchManyRooms measures, per iteration, a start of the real UI on the
// synced cache: first frame (open the session, build the model, render
// 160x48), online (from the session's start to Online, with the UI handling
// every event and command meanwhile), and the live heap once settled.
func benchManyRooms(b *testing.B, rooms, messages int) {
	setup := setupManyRooms(b, rooms, messages)
	var first, online time.Duration
	var heap, rss uint64
	for b.Loop() {
		runtime.GC()
		t0 := time.Now()
		sess := setup.open(b)
		m := benchModel(b, sess, 0)
		frame := m.render()
		first = time.Since(t0)
		if !strings.Contains(frame, "Room ") {
			b.Fatalf("the first frame shows no room:\n%s", frame)
		}
		rt := &benchRuntime{msgs: make(chan tea.Msg, 64), done: make(chan struct{})}
		t0 = time.Now()
		rt.run(m.Init())
		online = 0
		quiet := time.NewTimer(time.Hour)
		deadline := time.After(5 * time.Minute)
	loop:
		for {
			select {
			case msg := <-rt.msgs:
				_, cmd := m.Update(msg)
				rt.run(cmd)
				if online == 0 && sess.Status().State == session.Online {
					online = time.Since(t0)
				}
				if online > 0 {
					quiet.Reset(500 * time.Millisecond)
				}
			case <-quiet.C:
				break loop
			case <-time.After(10 * time.Millisecond):
				if online == 0 && sess.Status().State == session.Online {
					online = time.Since(t0)
					quiet.Reset(500 * time.Millisecond)
				}
			case <-deadline:
				b.Fatal("not settled after 5 minutes")
			}
		}
		m.render()
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = ms.HeapInuse
		rss = uint64(vmRSS(b))
		runtime.KeepAlive(m)
		close(rt.done)
		sess.Close()
	}
	b.ReportMetric(float64(first.Microseconds())/1000, "ms/first-frame")
	b.ReportMetric(float64(online.Microseconds())/1000, "ms/online")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
	b.ReportMetric(float64(rss)/(1<<20), "RSS-MB")
	b.ReportMetric(float64(setup.freshOnline.Microseconds())/1000, "ms/fresh-online")
	b.ReportMetric(float64(setup.freshCaught.Microseconds())/1000, "ms/fresh-caught-up")
}

func BenchmarkManyRooms1000(b *testing.B)  { benchManyRooms(b, 1000, 100) }
func BenchmarkManyRooms10000(b *testing.B) { benchManyRooms(b, 10000, 100) }
