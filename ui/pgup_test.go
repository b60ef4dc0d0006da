package ui

import (
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// mixedRoom is n entries of a room whose messages have mixed heights: one
// line, a wrapped paragraph, a list, a reply, now and then a message of
// 12 paragraphs and, every 97th, one of 50 (taller than a 160x48 pane);
// every 11th entry is a reaction (folded into its target, not a row).
// Each message's first line starts with its token "pNNNNN" (the entry's
// index); tokens returns the tokens of the rows, oldest first.
func mixedRoom(tb testing.TB, n int) (es []session.Entry, tokens []string) {
	tb.Helper()
	start := time.Date(2026, 2, 27, 8, 0, 0, 0, time.UTC) // three days: day separators on the way
	var last content.MessageID
	for i := 0; i < n; i++ {
		sender := benchUsers[(i/3+i%2)%len(benchUsers)]
		b := &content.Builder{Sender: sender, Room: benchRoom}
		tok := fmt.Sprintf("p%05d", i)
		var m *content.Message
		var err error
		switch {
		case i%11 == 10 && !last.IsZero():
			m, err = b.Reaction(last, "👍")
		case i%97 == 50:
			m, err = b.Markdown(tok + " tall\n\n" + strings.Repeat("a paragraph of a very tall message\n\n", 49))
		case i%13 == 5:
			m, err = b.Markdown(tok + " long\n\n" + strings.Repeat("another paragraph\n\n", 11))
		case i%7 == 3 && !last.IsZero():
			m, err = b.Reply(last, content.MarkdownPart(tok+" replying to that"))
		case i%5 == 1:
			m, err = b.Markdown(tok + " " + strings.Repeat("a sentence that wraps on narrow panes, ", 1+i%4))
		case i%5 == 2:
			m, err = b.Markdown(tok + " a list:\n\n- one\n- two\n- three")
		default:
			m, err = b.Markdown(tok + " ok")
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
		es = append(es, session.Entry{Room: benchRoom, Seq: uint64(i + 1), Time: start.Add(time.Duration(i) * 37 * time.Second),
			Sender: sender, Kind: proto.KindMessage, ID: id, Raw: raw})
		if m.Body.Disposition != content.Reaction {
			last = id
			tokens = append(tokens, tok)
		}
	}
	return es, tokens
}

var pgupToken = regexp.MustCompile(`\bp\d{5}\b`)

// walkFrames are the frame times of one walk: key frames (wall, process
// CPU, thread CPU) and the idle frames that rendered ahead.
type walkFrames struct {
	wall, cpu, thread []time.Duration
	idleWall, idleCPU []time.Duration
	idleThread        []time.Duration
}

// pgupWalkFrames pages up from the newest message to the first (every row
// loaded) and checks that each message comes on screen exactly once, in
// order, none skipped: after every frame the messages seen so far are the
// newest ones without a gap, and one that left the screen never comes back.
// It returns each key frame's wall, process CPU and thread CPU time (the
// key's Update, which composes the frame). With ahead it delivers between
// key presses the prefetch messages the model asks for (ui/prefetch.go),
// as Bubble Tea would, and returns their frames' times as the idle ones;
// without, every row is rendered in the key frame that shows it (the
// behaviour before ui/prefetch.go), for a same-run comparison.
func pgupWalkFrames(tb testing.TB, m *Model, tokens []string, ahead bool) (f walkFrames) {
	tb.Helper()
	pos := make(map[string]int, len(tokens))
	for i, t := range tokens {
		pos[t] = i
	}
	low := len(tokens) // the oldest token seen: tokens[low:] are all seen
	gone := map[string]bool{}
	var on map[string]bool
	look := func(frame string) {
		now := map[string]bool{}
		var shown []string // the frame's lines but reply quotes (they name the parent)
		for _, l := range strings.Split(frame, "\n") {
			if !strings.Contains(l, "↩") {
				shown = append(shown, l)
			}
		}
		for _, t := range pgupToken.FindAllString(strings.Join(shown, "\n"), -1) {
			if now[t] {
				tb.Fatalf("%s shows twice in one frame:\n%s", t, frame)
			}
			if gone[t] {
				tb.Fatalf("%s came back on screen after it left it:\n%s", t, frame)
			}
			now[t] = true
		}
		for t := range on {
			if !now[t] {
				gone[t] = true
			}
		}
		on = now
		for t := range now {
			low = min(low, pos[t])
		}
		for i := low; i < len(tokens); i++ {
			if !now[tokens[i]] && !gone[tokens[i]] {
				tb.Fatalf("%s was skipped: %s, older, is on screen\n%s", tokens[i], tokens[low], frame)
			}
		}
	}
	runtime.LockOSThread() // threadCPU is this goroutine's
	defer runtime.UnlockOSThread()
	timed := func(msg tea.Msg, wall, cpu, thread *[]time.Duration) {
		c0, _ := processCPU()
		th0, _ := threadCPU()
		t0 := time.Now()
		m.Update(msg)
		*wall = append(*wall, time.Since(t0))
		th1, _ := threadCPU()
		c1, _ := processCPU()
		*cpu = append(*cpu, c1-c0)
		*thread = append(*thread, th1-th0)
	}
	idle := func() {
		// what the prefetch Cmd returns: prefetchMsg for the view it was asked for
		for n := 0; ahead && m.pre.asked != (prefetchKey{}); n++ {
			if n > 1000 {
				tb.Fatal("prefetching never ends")
			}
			timed(prefetchMsg{m.pre.asked}, &f.idleWall, &f.idleCPU, &f.idleThread)
		}
	}
	m.render()
	look(m.render())
	idle()
	for steps := 0; low > 0; steps++ {
		if steps > 4*len(tokens) {
			tb.Fatalf("no progress: %d of %d messages seen", len(tokens)-low, len(tokens))
		}
		timed(keyMsg("pgup"), &f.wall, &f.cpu, &f.thread)
		look(m.frame)
		idle()
	}
	if seen := len(tokens) - low; seen != len(tokens) || len(gone)+len(on) != len(tokens) {
		tb.Fatalf("%d of %d messages seen (%d left the screen, %d on it)", seen, len(tokens), len(gone), len(on))
	}
	return f
}

// walkModel is a model at w x h showing every entry of a cached room of
// mixed heights, at the newest message, in layout.
func walkModel(tb testing.TB, s *session.Session, n, w, h int, layout string) *Model {
	tb.Helper()
	m, err := New(Options{Session: s, Theme: "dark", History: n, NoTick: true, Notify: "off", Layout: layout,
		Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		tb.Fatal(err)
	}
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// TestPgUpWalk10000: PgUp from the newest of 10,000 messages of mixed
// heights to the first, at 160x48 and 80x24 in both layouts: every message
// is seen exactly once going up, none skipped (pgupWalk counts them). The
// slowest frame is logged (BenchmarkPgUpWalk10000 reports the figures).
func TestPgUpWalk10000(t *testing.T) {
	const n = 10_000
	es, tokens := mixedRoom(t, n)
	s := cachedEntries(t, es)
	for _, c := range []struct {
		w, h   int
		layout string
	}{{160, 48, "cozy"}, {160, 48, "compact"}, {80, 24, "cozy"}, {80, 24, "compact"}} {
		t.Run(fmtSize(c.w, c.h)+"-"+c.layout, func(t *testing.T) {
			m := walkModel(t, s, n, c.w, c.h, c.layout)
			f := pgupWalkFrames(t, m, tokens, true)
			for _, d := range [][]time.Duration{f.wall, f.cpu, f.thread, f.idleWall, f.idleCPU, f.idleThread} {
				slices.Sort(d)
			}
			q := func(d []time.Duration, p int) time.Duration {
				if len(d) == 0 {
					return 0
				}
				return d[min(len(d)-1, len(d)*p/100)]
			}
			t.Logf("%d key frames: wall median %v, p99 %v, max %v; process CPU median %v, p99 %v, max %v; thread CPU median %v, max %v",
				len(f.wall), q(f.wall, 50), q(f.wall, 99), q(f.wall, 100), q(f.cpu, 50), q(f.cpu, 99), q(f.cpu, 100), q(f.thread, 50), q(f.thread, 100))
			t.Logf("%d idle frames (rendering ahead): wall median %v, max %v; process CPU median %v, max %v; thread CPU median %v, max %v",
				len(f.idleWall), q(f.idleWall, 50), q(f.idleWall, 100), q(f.idleCPU, 50), q(f.idleCPU, 100), q(f.idleThread, 50), q(f.idleThread, 100))
		})
	}
}

// BenchmarkPgUpWalk10000: one walk per iteration (a fresh model: rows are
// rendered as they come on screen, or ahead of it) up through 10,000
// messages of mixed heights at 160x48, cozy; reports the key frames'
// median and slowest wall, process CPU and thread CPU times and the
// slowest idle (rendering-ahead) frame. render-ahead delivers the
// prefetch messages between key presses as Bubble Tea does; none does
// not (every row rendered in the key frame that shows it, as before).
func BenchmarkPgUpWalk10000(b *testing.B) {
	const n = 10_000
	es, tokens := mixedRoom(b, n)
	s := cachedEntries(b, es)
	for _, ahead := range []bool{true, false} {
		name := "render-ahead"
		if !ahead {
			name = "none"
		}
		b.Run(name, func(b *testing.B) {
			var all walkFrames
			for b.Loop() {
				b.StopTimer()
				m := walkModel(b, s, n, 160, 48, "cozy")
				b.StartTimer()
				f := pgupWalkFrames(b, m, tokens, ahead)
				all.wall, all.cpu, all.thread = append(all.wall, f.wall...), append(all.cpu, f.cpu...), append(all.thread, f.thread...)
				all.idleCPU, all.idleThread = append(all.idleCPU, f.idleCPU...), append(all.idleThread, f.idleThread...)
			}
			ms := func(d []time.Duration, p int) float64 {
				if len(d) == 0 {
					return 0
				}
				slices.Sort(d)
				return float64(d[min(len(d)-1, len(d)*p/100)].Microseconds()) / 1000
			}
			b.ReportMetric(ms(all.wall, 50), "median-frame-ms")
			b.ReportMetric(ms(all.wall, 100), "max-frame-ms")
			b.ReportMetric(ms(all.cpu, 50), "median-frame-cpu-ms")
			b.ReportMetric(ms(all.cpu, 100), "max-frame-cpu-ms")
			b.ReportMetric(ms(all.thread, 50), "median-frame-thread-ms")
			b.ReportMetric(ms(all.thread, 100), "max-frame-thread-ms")
			b.ReportMetric(ms(all.idleThread, 100), "max-idle-thread-ms")
			b.ReportMetric(float64(len(tokens)), "messages")
		})
	}
}

// TestRenderAheadPgUp: with the prefetch messages delivered between key
// presses (as Bubble Tea does), a page up renders no row in its own frame:
// the rows of the page it shows were rendered ahead, at most one per idle
// frame. Without them (the behaviour before) page ups render rows.
func TestRenderAheadPgUp(t *testing.T) {
	const n = 400
	es, _ := mixedRoom(t, n)
	s := cachedEntries(t, es)
	for _, size := range []struct{ w, h int }{{160, 48}, {80, 24}} {
		t.Run(fmtSize(size.w, size.h), func(t *testing.T) {
			for _, ahead := range []bool{true, false} {
				m := walkModel(t, s, n, size.w, size.h, "cozy")
				idle := func() {
					for k := 0; ahead && m.pre.asked != (prefetchKey{}); k++ {
						if k > 1000 {
							t.Fatal("prefetching never ends")
						}
						miss := m.cache.Miss
						m.Update(prefetchMsg{m.pre.asked})
						if d := m.cache.Miss - miss; d > prefetchRows {
							t.Fatalf("an idle frame rendered %d rows, want at most %d", d, prefetchRows)
						}
					}
				}
				idle()
				rendered := 0
				for range 15 {
					miss := m.cache.Miss
					m.Update(keyMsg("pgup"))
					rendered += m.cache.Miss - miss
					idle()
				}
				if ahead && rendered != 0 {
					t.Errorf("page ups rendered %d rows in their own frames with rendering ahead, want 0", rendered)
				}
				if !ahead && rendered == 0 {
					t.Error("without rendering ahead page ups rendered nothing: the test shows nothing")
				}
			}
		})
	}
}
