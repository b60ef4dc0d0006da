package ui

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/render"
	"mimichat/session"
)

const benchRoom = "mimi://bench.example/r/big"

var benchUsers = []string{"mimi://bench.example/u/me", "mimi://bench.example/u/alice",
	"mimi://bench.example/u/bob", "mimi://bench.example/u/carol"}

// synthEntries makes n entries of a busy room: Markdown messages, a reply
// every 7th, a reaction every 5th, an edit every 50th, 30 s apart.
func synthEntries(tb testing.TB, n int) []session.Entry { return synthRoom(tb, n, false) }

// synthRoom is synthEntries; with threads, every third message also goes
// into one of 50 threads (the main timeline folds them away).
func synthRoom(tb testing.TB, n int, threads bool) []session.Entry {
	tb.Helper()
	start := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	es := make([]session.Entry, 0, n)
	var last []content.MessageID
	for i := 0; len(es) < n; i++ {
		sender := benchUsers[i%len(benchUsers)]
		b := &content.Builder{Sender: sender, Room: benchRoom}
		var m *content.Message
		var err error
		switch {
		case i%5 == 4 && len(last) > 0:
			m, err = b.Reaction(last[len(last)-1], []string{"👍", "🎉", "❤️"}[i%3])
		case i%7 == 6 && len(last) > 1:
			m, err = b.Reply(last[len(last)-2], content.MarkdownPart("replying to that, message "+strconv.Itoa(i)))
		case threads && i%3 == 2:
			m, err = b.Markdown(fmt.Sprintf("Thread message %d, said in a thread.", i), content.InTopic([]byte("t-"+strconv.Itoa(i%50))))
		default:
			m, err = b.Markdown(fmt.Sprintf("Message %d with **bold**, `code` and a longer sentence so that it wraps on narrower terminals now and then.", i))
		}
		if err != nil {
			tb.Fatal(err)
		}
		raw, err := m.Encode()
		if err != nil {
			tb.Fatal(err)
		}
		id, err := content.ComputeID(sender, benchRoom, raw)
		if err != nil {
			tb.Fatal(err)
		}
		es = append(es, session.Entry{Room: benchRoom, Seq: uint64(len(es) + 1), Time: start.Add(time.Duration(i) * 30 * time.Second),
			Sender: sender, Kind: proto.KindMessage, ID: id, Raw: raw})
		if m.Body.Disposition != content.Reaction {
			last = append(last, id)
			if len(last) > 8 {
				last = last[1:]
			}
		}
	}
	return es
}

// cachedSession is a session (never started: no network) whose store holds
// n entries of benchRoom.
func cachedSession(tb testing.TB, n int) *session.Session { return cachedRoom(tb, n, false) }

func cachedRoom(tb testing.TB, n int, threads bool) *session.Session {
	tb.Helper()
	return cachedEntries(tb, synthRoom(tb, n, threads))
}

// cachedEntries is a session (never started) whose store holds es, entries
// of benchRoom.
func cachedEntries(tb testing.TB, es []session.Entry) *session.Session {
	tb.Helper()
	dir := tb.TempDir()
	s, err := session.Open(session.Options{Relay: "ws://127.0.0.1:1/v1", User: benchUsers[0], Token: "x", DataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	room := session.Room{ID: benchRoom, Name: "Big room", Topic: "100k messages", Role: proto.RoleMember, State: "joined"}
	for len(es) > 0 {
		k := min(len(es), 5000)
		if room, err = s.Store().Commit(room, es[:k]); err != nil {
			tb.Fatal(err)
		}
		es = es[k:]
	}
	s.Close()
	s, err = session.Open(session.Options{Relay: "ws://127.0.0.1:1/v1", User: benchUsers[0], Token: "x", DataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func benchModel(tb testing.TB, s *session.Session, history int) *Model {
	tb.Helper()
	m, err := New(Options{Session: s, Theme: "dark", History: history, NoTick: true, Notify: "off",
		Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		tb.Fatal(err)
	}
	m.w, m.h = 160, 48
	return m
}

// benchFrame renders one steady 160x48 frame of a room with n messages.
func benchFrame(b *testing.B, n int) { benchFrameRoom(b, n, false) }

func benchFrameRoom(b *testing.B, n int, threads bool) { benchFrameOpts(b, n, threads, "cozy", true) }

// benchFrameOpts is benchFrameRoom in a layout, with or without the frame
// cache of the help line and the empty composer (ui/framecache.go).
func benchFrameOpts(b *testing.B, n int, threads bool, layout string, frameCache bool) {
	s := cachedRoom(b, n, threads)
	m := benchModel(b, s, n)
	var ok bool
	if m.layout, ok = render.ParseLayout(layout); !ok {
		b.Fatal(layout)
	}
	m.fc.off = !frameCache
	if got := m.current().tl.Len(); got < n*7/10 {
		b.Fatalf("timeline has %d rows for %d entries", got, n)
	}
	m.render()   // warm the cache
	runtime.GC() // steady state: the loading garbage is not the frame's
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.render()
	}
}

func BenchmarkFrame160x48Room100(b *testing.B)    { benchFrame(b, 100) }
func BenchmarkFrame160x48Room100000(b *testing.B) { benchFrame(b, 100_000) }

// The compact layout, and the frame without the help-line and composer
// cache (the cost issue 18 measured), in the same run as the above.
func BenchmarkFrame160x48Room100Compact(b *testing.B) { benchFrameOpts(b, 100, false, "compact", true) }
func BenchmarkFrame160x48Room100000Compact(b *testing.B) {
	benchFrameOpts(b, 100_000, false, "compact", true)
}
func BenchmarkFrame160x48Room100NoFrameCache(b *testing.B) {
	benchFrameOpts(b, 100, false, "cozy", false)
}
func BenchmarkFrame160x48Room100000NoFrameCache(b *testing.B) {
	benchFrameOpts(b, 100_000, false, "cozy", false)
}

// A room where a third of the messages are in threads: the main timeline
// folds them, through the incremental index.
func BenchmarkFrame160x48Threads100000(b *testing.B) { benchFrameRoom(b, 100_000, true) }

// BenchmarkNewMessageFrameThreads100000: one new message (a third of them
// thread replies) arrives in a 100k-message threaded room, then a frame:
// the main-timeline index examines only the new row.
func BenchmarkNewMessageFrameThreads100000(b *testing.B) {
	const n, extra = 100_000, 6000
	s := cachedRoom(b, n, true)
	m := benchModel(b, s, n)
	more := synthRoom(b, n+extra, true)[n:]
	r := m.current()
	m.render()
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if i == len(more) {
			b.StopTimer()
			b.Fatalf("more than %d iterations", extra)
		}
		r.applyEntries(more[i:i+1], m.me)
		i++
		m.render()
	}
}

// BenchmarkFirstFrame100kCached: open the session and its cache of 100,000
// entries, build the model (the newest page of history) and render the
// first frame, as `mimichat` does at start.
func BenchmarkFirstFrame100kCached(b *testing.B) {
	s := cachedSession(b, 100_000)
	dir := s.Store()
	_ = dir
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m := benchModel(b, s, 0)
		m.render()
	}
}

// BenchmarkFirstFrameFromProcessStart measures the start-up budget from
// process start (≤ 200 ms) on the path users run: each iteration starts
// the real mimichat binary on a 160x48 pseudo-terminal against a copy of a
// data directory with 100,000 cached entries and a relay on loopback; the
// clock runs from exec until the terminal has the whole first screen
// (startup_exec_linux_test.go). It reports the median, min and max of the
// wall time and of the child's CPU time up to that frame.
func BenchmarkFirstFrameFromProcessStart(b *testing.B) {
	bin := buildMimichat(b)
	f := newStartupFixture(b, 100_000, false)
	var st startupStats
	for b.Loop() {
		st.add(f.runStartup(b, bin, 160, 48))
	}
	st.report(b, "")
}

// BenchmarkMemory100kRoom loads a whole 100,000-message room into the model,
// renders it, and reports the process RSS and Go heap (budget 150 MB RSS).
func BenchmarkMemory100kRoom(b *testing.B) {
	s := cachedSession(b, 100_000)
	var rss int64
	var heap uint64
	for b.Loop() {
		runtime.GC()
		debug.FreeOSMemory()
		m := benchModel(b, s, 100_000)
		m.render()
		runtime.GC()
		debug.FreeOSMemory()
		rss = vmRSS(b)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = ms.HeapInuse
		runtime.KeepAlive(m)
	}
	b.ReportMetric(float64(rss)/(1<<20), "RSS-MB")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}

func vmRSS(t testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(v)
			n, _ := strconv.ParseInt(f[0], 10, 64)
			return n << 10
		}
	}
	t.Skip("no VmRSS")
	return 0
}

// BenchmarkMainRowsRebuild100000: what an edit of a threaded message costs
// the main-timeline index in a 100k-message threaded room (a full rebuild).
func BenchmarkMainRowsRebuild100000(b *testing.B) {
	s := cachedRoom(b, 100_000, true)
	m := benchModel(b, s, 100_000)
	r := m.current()
	r.syncMain()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.main.dirty = true
		r.syncMain()
	}
}

// BenchmarkSendToScreen: the user types a message and presses enter in a
// 100-message room; the clock runs until the frame shows it (pending). The
// session is never started (nothing goes to a relay). The outbox write the
// send started is waited for with the clock stopped, as it would be done
// before a person types the next message.
func BenchmarkSendToScreen(b *testing.B) {
	s := cachedSession(b, 100)
	m := benchModel(b, s, 100)
	var frame string
	m.opt.OnFrame = func(f string) { frame = f }
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	m.View()
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		i++
		text := "hello " + strconv.Itoa(i)
		m.comp.setValue(text)
		_, cmd := m.Update(keyMsg("enter"))
		m.View()
		if !strings.Contains(frame, text) {
			b.Fatalf("the frame does not show %q:\n%s", text, frame)
		}
		b.StopTimer()
		drainCmd(cmd)
		b.StartTimer()
	}
}

// drainCmd runs cmd and the commands of the batches it returns.
func drainCmd(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	if batch, ok := cmd().(tea.BatchMsg); ok {
		for _, c := range batch {
			drainCmd(c)
		}
	}
}
