package ui

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// shortChat is n short one-line messages as a lively room has them: the
// sender changes after one to three messages (a fixed pattern, so every
// run is the same), 40 s apart; message i says "mNNN" and a few words.
func shortChat(tb testing.TB, n int) []session.Entry {
	tb.Helper()
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	runs := []int{2, 1, 3, 1, 2, 2, 1, 3}
	words := []string{"sounds good", "on my way", "which branch?", "main, I think", "lgtm", "pushed the fix", "ok!", "see you at 3"}
	es := make([]session.Entry, 0, n)
	sender, left, run := 0, runs[0], 0
	for i := 0; i < n; i++ {
		if left == 0 {
			sender, run = (sender+1)%len(benchUsers), run+1
			left = runs[run%len(runs)]
		}
		left--
		u := benchUsers[sender]
		b := &content.Builder{Sender: u, Room: benchRoom}
		m, err := b.Markdown(fmt.Sprintf("m%03d %s", i, words[i%len(words)]))
		if err != nil {
			tb.Fatal(err)
		}
		raw, err := m.Encode()
		if err != nil {
			tb.Fatal(err)
		}
		id, err := content.ComputeID(u, benchRoom, raw)
		if err != nil {
			tb.Fatal(err)
		}
		es = append(es, session.Entry{Room: benchRoom, Seq: uint64(i + 1), Time: start.Add(time.Duration(i) * 40 * time.Second),
			Sender: u, Kind: proto.KindMessage, ID: id, Raw: raw})
	}
	return es
}

var shortMsgRE = regexp.MustCompile(`\bm\d{3}\b`)

// oldShortMessages is how many of shortChat's messages a 80x24 screen
// showed whole before grouping (measured with this test on main at
// 0b07279: every message took a header line and a body line, 8 whole and
// the body line of a ninth).
const oldShortMessages = 8

// TestDensityShortMessages: at 80x24 both layouts show at least twice as
// many short messages as before (issue 14), each message once and whole.
func TestDensityShortMessages(t *testing.T) {
	s := cachedEntries(t, shortChat(t, 60))
	for _, layout := range []string{"cozy", "compact"} {
		t.Run(layout, func(t *testing.T) {
			m, err := New(Options{Session: s, Theme: "dark", History: 60, NoTick: true, Notify: "off", Layout: layout,
				Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
			if err != nil {
				t.Fatal(err)
			}
			m.w, m.h = 80, 24
			frame := m.render()
			seen := map[string]int{}
			for _, id := range shortMsgRE.FindAllString(frame, -1) {
				seen[id]++
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("%s shows %d times", id, n)
				}
			}
			// the newest messages, without a gap: m059 down to m059-len+1
			for i := 0; i < len(seen); i++ {
				if id := fmt.Sprintf("m%03d", 59-i); seen[id] == 0 {
					t.Errorf("%s is missing between the newest ones shown", id)
				}
			}
			whole := wholeRows(m)
			t.Logf("%s: %d short messages at 80x24, %d whole (before: %d whole)", layout, len(seen), whole, oldShortMessages)
			if whole < 2*oldShortMessages {
				t.Errorf("%s shows %d whole short messages at 80x24, want at least %d:\n%s", layout, whole, 2*oldShortMessages, frame)
			}
		})
	}
}

// wholeRows is how many rows the last frame showed with all their lines.
func wholeRows(m *Model) int {
	lines := map[int]int{}
	for _, row := range m.lay.tlRowAt {
		if row >= 0 {
			lines[row]++
		}
	}
	whole := 0
	m.measureRows(m.current(), func(rh rowHeights) {
		for row, n := range lines {
			if n == rh.height(row) {
				whole++
			}
		}
	})
	return whole
}
