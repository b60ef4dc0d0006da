package ui

// Saves of UI state run as tea.Cmds, which Bubble Tea runs in goroutines:
// two in flight may finish in either order. These tests run the commands of
// several Updates newest first (the order that lost data) and restart the
// model on the same cache.

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/session"
)

// runNewestFirst runs the commands of several Updates, the last Update's
// first (each batch depth first), as goroutines finishing in that order
// would; a refusal (a failed save) fails the test.
func runNewestFirst(t *testing.T, cmds []tea.Cmd) {
	t.Helper()
	var run func(tea.Cmd)
	run = func(c tea.Cmd) {
		if c == nil {
			return
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			for _, c := range msg {
				run(c)
			}
		case refusalMsg:
			t.Fatalf("a save failed: %s", msg)
		}
	}
	for i := len(cmds) - 1; i >= 0; i-- {
		run(cmds[i])
	}
}

// waitRoom waits until s lists room and returns what it knows of it.
func waitRoom(t *testing.T, s *session.Session, room string) session.Room {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, info := range s.Rooms() {
			if info.ID == room {
				return info
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listed", room)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// roomTitles is the room list of m, top to bottom.
func roomTitles(m *Model) string {
	var ts []string
	for _, r := range m.rooms {
		ts = append(ts, r.title())
	}
	return strings.Join(ts, ",")
}

// roomEvents is what the event pump hands Update for rooms listed; closed
// so that Update does not ask for the next events (a command that would
// wait on the session's channel).
func roomEvents(infos ...session.Room) eventsMsg {
	evs := make([]session.Event, len(infos))
	for i, info := range infos {
		evs[i] = session.RoomEvent{Room: info}
	}
	return eventsMsg{evs: evs, closed: true}
}

// TestRoomOrderSavesNewestWins: rooms joined one after the other each save
// the list's order; when the older saves finish last, a restart still lists
// the rooms where they were (Zeta before Alpha, in the order they came), not
// by name as rooms the saved order does not know.
func TestRoomOrderSavesNewestWins(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	base := openRoom(t, owner, "base", "Base", you)
	waitRoom(t, you, base)
	m, err := New(Options{Session: you, Notify: "off", NoTick: true})
	if err != nil {
		t.Fatal(err)
	}
	var cmds []tea.Cmd
	update := func(msg tea.Msg) {
		_, cmd := m.Update(msg)
		cmds = append(cmds, cmd)
	}
	update(roomEvents(waitRoom(t, you, base))) // the first run's order: Base
	update(roomEvents(waitRoom(t, you, openRoom(t, owner, "zeta", "Zeta", you))))
	update(roomEvents(waitRoom(t, you, openRoom(t, owner, "alpha", "Alpha", you))))
	if got := roomTitles(m); got != "Base,Zeta,Alpha" {
		t.Fatalf("list before the restart: %s", got)
	}
	runNewestFirst(t, cmds)

	m2, err := New(Options{Session: you, Notify: "off", NoTick: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := roomTitles(m2); got != "Base,Zeta,Alpha" {
		v, _ := you.Store().Meta(roomOrderKey)
		t.Fatalf("after a restart the list is %s, want Base,Zeta,Alpha (saved order %q)", got, v)
	}
}

// TestNotifyLevelSavesNewestWins: "m" twice on the room list (all, then
// none) saves twice; the older save finishing last leaves none.
func TestNotifyLevelSavesNewestWins(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	room := openRoom(t, owner, "base", "Base", you)
	waitRoom(t, you, room)
	m, err := New(Options{Session: you, Notify: "off", NoTick: true, Width: 100, Height: 24})
	if err != nil {
		t.Fatal(err)
	}
	var cmds []tea.Cmd
	for _, k := range []string{"alt+r", "m", "m"} {
		_, cmd := m.Update(keyMsg(k))
		cmds = append(cmds, cmd)
	}
	if lv := m.level(m.byID[room]); lv != levelNone {
		t.Fatalf("level before the restart: %q", lv)
	}
	runNewestFirst(t, cmds)
	m2, err := New(Options{Session: you, Notify: "off", NoTick: true})
	if err != nil {
		t.Fatal(err)
	}
	if lv := m2.level(m2.byID[room]); lv != levelNone {
		t.Fatalf("after a restart the level is %q, want none", lv)
	}
}

// TestSaveOnExitWritesUnsavedState: a quit before the save commands ran
// (Bubble Tea does not wait for them) loses neither the room order nor a
// notification level: SaveOnExit writes them.
func TestSaveOnExitWritesUnsavedState(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	base := openRoom(t, owner, "base", "Base", you)
	waitRoom(t, you, base)
	m, err := New(Options{Session: you, Notify: "off", NoTick: true, Width: 100, Height: 24})
	if err != nil {
		t.Fatal(err)
	}
	// every command dropped, as a quit leaves them
	m.Update(roomEvents(waitRoom(t, you, base)))
	m.Update(roomEvents(waitRoom(t, you, openRoom(t, owner, "zeta", "Zeta", you))))
	m.Update(roomEvents(waitRoom(t, you, openRoom(t, owner, "alpha", "Alpha", you))))
	for _, k := range []string{"alt+r", "m"} {
		m.Update(keyMsg(k))
	}
	if err := m.SaveOnExit(); err != nil {
		t.Fatal(err)
	}
	m2, err := New(Options{Session: you, Notify: "off", NoTick: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := roomTitles(m2); got != "Base,Zeta,Alpha" {
		t.Fatalf("after a restart the list is %s, want Base,Zeta,Alpha", got)
	}
	if lv := m2.level(m2.byID[base]); lv != levelAll {
		t.Fatalf("after a restart Base's level is %q, want all", lv)
	}
}

// pumpUntil hands m the session's events, as the event pump does, until
// done; the commands each Update returned are appended to cmds.
func pumpUntil(t *testing.T, m *Model, s *session.Session, cmds *[]tea.Cmd, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !done() {
		got := make(chan tea.Msg, 1)
		go func() { got <- waitEvents(s.Events())() }()
		select {
		case msg := <-got:
			ev := msg.(eventsMsg)
			ev.closed = true // no command waiting for the next events
			_, cmd := m.Update(ev)
			*cmds = append(*cmds, cmd)
		case <-ctx.Done():
			t.Fatal("the events wanted did not come")
		}
	}
}

// TestReadMarkSavesNewestWins: the read position saved as messages arrive
// at the bottom of the room on screen. Saves finishing newest first leave
// the newest position (the cache keeps the highest seq), and when the quit
// came before the commands ran, SaveOnExit writes it.
func TestReadMarkSavesNewestWins(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	room := openRoom(t, owner, "base", "Base", you)
	sendAcked(t, owner, room, []string{"one", "two"})
	cachedMessage(t, you, room, "two")
	m, err := New(Options{Session: you, Room: room, Notify: "off", NoTick: true, Width: 100, Height: 24})
	if err != nil {
		t.Fatal(err)
	}
	saved := func() uint64 {
		marks, err := you.Store().ReadMarks()
		if err != nil {
			t.Fatal(err)
		}
		return marks[room].Seq
	}
	for round, texts := range [][]string{{"three", "four"}, {"five", "six"}} {
		var cmds []tea.Cmd
		_, cmd := m.Update(keyMsg("ctrl+l")) // any message: the room on screen is read
		cmds = append(cmds, cmd)
		sendAcked(t, owner, room, texts)
		cachedMessage(t, you, room, texts[1])
		cursor := waitRoom(t, you, room).Cursor
		pumpUntil(t, m, you, &cmds, func() bool { return m.byID[room].last >= cursor })
		if round == 0 {
			runNewestFirst(t, cmds)
		} else if err := m.SaveOnExit(); err != nil { // the commands never ran
			t.Fatal(err)
		}
		if got := saved(); got != cursor {
			t.Fatalf("round %d: saved read position %d, want %d (the newest)", round, got, cursor)
		}
	}
}

// TestMetaSaverNewestWins: three saves of one key finishing in every order
// leave the newest value; flush writes only what no command wrote.
func TestMetaSaverNewestWins(t *testing.T) {
	orders := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	for _, order := range orders {
		st, err := session.OpenStore(filepath.Join(t.TempDir(), "cache.db"))
		if err != nil {
			t.Fatal(err)
		}
		sv := newMetaSaver("ui.test", "test value")
		cmds := []tea.Cmd{sv.save(st, "v1"), sv.save(st, "v2"), sv.save(st, "v3")}
		for _, i := range order {
			if msg := cmds[i](); msg != nil {
				t.Fatalf("order %v: save %d: %v", order, i, msg)
			}
		}
		if v, _ := st.Meta("ui.test"); v != "v3" {
			t.Fatalf("order %v: saved %q, want v3", order, v)
		}
		// written by a command: flush leaves it; a value no command wrote:
		// flush writes it
		if err := st.SetMeta("ui.test", "changed elsewhere"); err != nil {
			t.Fatal(err)
		}
		if err := sv.flush(st); err != nil {
			t.Fatal(err)
		}
		if v, _ := st.Meta("ui.test"); v != "changed elsewhere" {
			t.Fatalf("order %v: flush wrote again what was saved: %q", order, v)
		}
		_ = sv.save(st, "v4") // its command never runs
		if err := sv.flush(st); err != nil {
			t.Fatal(err)
		}
		if v, _ := st.Meta("ui.test"); v != "v4" {
			t.Fatalf("order %v: after flush %q, want v4", order, v)
		}
		st.Close()
	}
}
