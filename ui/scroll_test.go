package ui

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"mimichat/proto"
	"mimichat/session"
)

// TestScrollbackLoadsOlderHistory: a room with more history than the
// session backfills; paging up reaches the very first message, fetched
// from the relay page by page, while the UI keeps answering.
func TestScrollbackLoadsOlderHistory(t *testing.T) {
	rl := startRelay(t)
	peer := rl.session("peer")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	room := "mimi://" + testDomain + "/r/old"
	// Plaintext: a member joining an end-to-end encrypted room later cannot
	// decrypt what came before; this test is about paging.
	if _, err := peer.CreateRoom(ctx, session.CreateRoomOptions{Slug: "old", Name: "Old", Join: proto.JoinOpen, Plaintext: true}); err != nil {
		t.Fatal(err)
	}
	const n = 700
	for i := 0; i < n; i++ {
		m, _ := peer.Builder(room).Markdown("old message number " + strconv.Itoa(i))
		if _, err := peer.Send(room, m); err != nil {
			t.Fatal(err)
		}
	}
	for {
		items, err := peer.Outbox()
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, it := range items {
			if it.State != session.Acked {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d messages still pending", pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
	you := rl.session("you")
	if _, err := you.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	tm, _, scr := startUI(t, you, 100, 30, Options{Room: room})
	scr.waitText(t, "old message number 699")
	pgup := tea.KeyPressMsg{Code: tea.KeyPgUp}
	scr.waitFor(t, "the first message after paging up", func(s string) bool {
		if containsLine(s, "old message number 0\n") || containsLine(s, "old message number 0 ") {
			return true
		}
		tm.Send(pgup)
		return false
	})
}

func containsLine(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestMouseClickAndToggle: a click on the room list opens that room, a
// click on a message selects it, and F2 turns mouse capture off (clicks
// then do nothing, so the terminal's own selection works).
func TestMouseClickAndToggle(t *testing.T) {
	rl := startRelay(t)
	you := rl.session("you")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, slug := range []string{"alpha", "beta"} {
		if _, err := you.CreateRoom(ctx, session.CreateRoomOptions{Slug: slug, Name: "Room " + slug}); err != nil {
			t.Fatal(err)
		}
	}
	alpha := "mimi://" + testDomain + "/r/alpha"
	m, _ := you.Builder(alpha).Markdown("click me")
	you.Send(alpha, m)
	tm, _, scr := startUI(t, you, 100, 30, Options{Room: alpha})
	first := scr.waitText(t, "│Room alpha", "click me")
	if !strings.HasPrefix(first, "Rooms") {
		t.Fatal("no room list at 100 columns")
	}
	// The centre pane starts after the room list's border (read off the
	// screen: the model belongs to the program's goroutine).
	centerX := utf8.RuneCountInString(first[:strings.Index(first, "│")]) + 1
	tm.Send(tea.MouseClickMsg{X: 2, Y: 2, Button: tea.MouseLeft}) // second room row
	scr.waitFor(t, "room beta opened", func(s string) bool { return len(s) > 0 && startsWithRoom(s, "Room beta") })
	tm.Send(tea.MouseClickMsg{X: 2, Y: 1, Button: tea.MouseLeft})
	txt := scr.waitFor(t, "room alpha opened", func(s string) bool { return startsWithRoom(s, "Room alpha") })
	// click on the message line
	lines := splitLines(txt)
	y := -1
	for i, l := range lines {
		if containsLine(l, "click me") {
			y = i
		}
	}
	if y < 0 {
		t.Fatalf("message not on screen:\n%s", txt)
	}
	tm.Send(tea.MouseClickMsg{X: centerX + 10, Y: y, Button: tea.MouseLeft})
	scr.waitText(t, "▌")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyF2})
	scr.waitText(t, "[mouse off]")
	tm.Send(tea.MouseClickMsg{X: 2, Y: 2, Button: tea.MouseLeft})
	time.Sleep(200 * time.Millisecond)
	if !startsWithRoom(scr.text(), "Room alpha") {
		t.Fatal("a click switched rooms with mouse capture off")
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// startsWithRoom reports whether the header (first line, after the room
// list) names room.
func startsWithRoom(s, room string) bool {
	first := splitLines(s)[0]
	return containsLine(first, "│"+room)
}

// TestResizeReflows: the demo's screen at shrinking and growing sizes; every
// frame has exactly the window's lines, none wider than the window.
func TestResizeReflows(t *testing.T) {
	d, s := startDemo(t)
	tm, _, scr := startUI(t, s, 160, 48, Options{Room: d.Rooms[0], Names: d.Names})
	scr.waitText(t, "You joined")
	for _, sz := range [][2]int{{120, 40}, {80, 24}, {60, 20}, {40, 12}, {30, 8}, {20, 6}, {12, 4}, {160, 48}} {
		txt := resizeTo(t, tm, scr, sz[0], sz[1], func(s string) bool {
			if sz[0] < 20 || sz[1] < 6 {
				return strings.Contains(s, "too small") || strings.Contains(s, "mimichat:")
			}
			return strings.Count(s, "\n")+1 == sz[1] && !strings.Contains(s, "too small")
		})
		for i, l := range strings.Split(txt, "\n") {
			if w := ansi.StringWidth(l); w > sz[0] {
				t.Errorf("%dx%d: line %d is %d wide: %q", sz[0], sz[1], i, w, l)
			}
		}
	}
	scr.waitText(t, "Members", "You joined")
}

// resizeTo sends the window size until a frame satisfies cond. Bubble Tea's
// Run sends the initial size from a goroutine of its own, which can reach
// the model after the test's first resize when the first frame comes
// quickly; sending the size again makes that order irrelevant.
func resizeTo(t *testing.T, tm *teatest.TestModel, scr *screen, w, h int, cond func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		tm.Send(tea.WindowSizeMsg{Width: w, Height: h})
		for wait := time.Now().Add(500 * time.Millisecond); time.Now().Before(wait); {
			if txt := scr.text(); cond(txt) {
				return txt
			}
			time.Sleep(20 * time.Millisecond)
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for a frame at %s; screen:\n%s", fmtSize(w, h), scr.text())
		}
	}
}

// TestOfflineNeverBlocks: with the relay gone the status line says so, the
// UI keeps answering, and a sent message shows at once as pending.
func TestOfflineNeverBlocks(t *testing.T) {
	rl := startRelay(t)
	you := rl.session("you")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := you.CreateRoom(ctx, session.CreateRoomOptions{Slug: "solo", Name: "Solo"}); err != nil {
		t.Fatal(err)
	}
	tm, _, scr := startUI(t, you, 100, 30, Options{Room: "mimi://" + testDomain + "/r/solo"})
	scr.waitText(t, "│Solo", "● online")
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := rl.srv.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	// the relay's port is closed now: the status line says why
	scr.waitText(t, "◌ offline: connection refused · retrying in")
	start := time.Now()
	tm.Type("sent while offline")
	key(tm, "enter")
	scr.waitText(t, "sent while offline", "◌ sending")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("sending offline took %v to show", d)
	}
}
