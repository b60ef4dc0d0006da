package ui

import (
	"fmt"
	"regexp"
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

// pgupWalk pages up from the newest message to the first (every row loaded)
// and checks that each message comes on screen exactly once, in order,
// none skipped: after every frame the messages seen so far are the newest
// ones without a gap, and one that left the screen never comes back. It
// returns each frame's wall time and process CPU time (the key's Update,
// which composes the frame).
func pgupWalk(tb testing.TB, m *Model, tokens []string) (wall, cpu []time.Duration) {
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
	m.render()
	look(m.render())
	for steps := 0; low > 0; steps++ {
		if steps > 4*len(tokens) {
			tb.Fatalf("no progress: %d of %d messages seen", len(tokens)-low, len(tokens))
		}
		c0, _ := processCPU()
		t0 := time.Now()
		m.Update(keyMsg("pgup"))
		wall = append(wall, time.Since(t0))
		c1, _ := processCPU()
		cpu = append(cpu, c1-c0)
		look(m.frame)
	}
	if seen := len(tokens) - low; seen != len(tokens) || len(gone)+len(on) != len(tokens) {
		tb.Fatalf("%d of %d messages seen (%d left the screen, %d on it)", seen, len(tokens), len(gone), len(on))
	}
	return wall, cpu
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
			wall, cpu := pgupWalk(t, m, tokens)
			slices.Sort(wall)
			slices.Sort(cpu)
			t.Logf("%d frames: wall median %v, p99 %v, max %v; CPU median %v, p99 %v, max %v", len(wall),
				wall[len(wall)/2], wall[len(wall)*99/100], wall[len(wall)-1], cpu[len(cpu)/2], cpu[len(cpu)*99/100], cpu[len(cpu)-1])
		})
	}
}

// BenchmarkPgUpWalk10000: one walk per iteration (a fresh model: rows are
// rendered as they come on screen) up through 10,000 messages of mixed
// heights at 160x48, cozy; reports the frames' median and slowest wall and
// process CPU times.
func BenchmarkPgUpWalk10000(b *testing.B) {
	const n = 10_000
	es, tokens := mixedRoom(b, n)
	s := cachedEntries(b, es)
	var wall, cpu []time.Duration
	for b.Loop() {
		b.StopTimer()
		m := walkModel(b, s, n, 160, 48, "cozy")
		b.StartTimer()
		w, c := pgupWalk(b, m, tokens)
		wall, cpu = append(wall, w...), append(cpu, c...)
	}
	slices.Sort(wall)
	slices.Sort(cpu)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(wall[len(wall)/2]), "median-frame-ms")
	b.ReportMetric(ms(wall[len(wall)-1]), "max-frame-ms")
	b.ReportMetric(ms(cpu[len(cpu)/2]), "median-frame-cpu-ms")
	b.ReportMetric(ms(cpu[len(cpu)-1]), "max-frame-cpu-ms")
	b.ReportMetric(float64(len(tokens)), "messages")
}
