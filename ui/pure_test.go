package ui

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"mimichat/content"
	"mimichat/session"
)

// holdWriteLock takes the store file's write lock from another connection,
// as a second mimichat process (a headless send) would, and releases it
// after d. Every write of the session waits for it meanwhile.
func holdWriteLock(t *testing.T, path string, d time.Duration) <-chan struct{} {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		time.Sleep(d)
		c.ExecContext(ctx, "COMMIT")
		c.Close()
		db.Close()
		close(released)
	}()
	t.Cleanup(func() { <-released })
	return released
}

// runCmd runs what Update returned as Bubble Tea would (batches in
// parallel) and returns the messages it produced, within timeout.
func runCmd(t *testing.T, cmd tea.Cmd, timeout time.Duration) []tea.Msg {
	t.Helper()
	if cmd == nil {
		return nil
	}
	done := make(chan []tea.Msg, 1)
	go func() {
		var run func(c tea.Cmd) []tea.Msg
		run = func(c tea.Cmd) []tea.Msg {
			if c == nil {
				return nil
			}
			msg := c()
			if b, ok := msg.(tea.BatchMsg); ok {
				var out []tea.Msg
				for _, c := range b {
					out = append(out, run(c)...)
				}
				return out
			}
			if msg == nil {
				return nil
			}
			return []tea.Msg{msg}
		}
		done <- run(cmd)
	}()
	select {
	case msgs := <-done:
		return msgs
	case <-time.After(timeout):
		t.Fatalf("the command did not finish in %v", timeout)
		return nil
	}
}

// TestUpdateNeverWaitsForTheStore: while another process holds the store's
// write lock for half a second, Update returns at once for a send (the
// message shows as pending in that very frame), for a burst of incoming
// messages (delivery and read receipts) and for scrolling into history;
// the writes happen afterwards, in the commands.
func TestUpdateNeverWaitsForTheStore(t *testing.T) {
	const n, lock, quick = 300, 500 * time.Millisecond, 100 * time.Millisecond
	s := cachedSession(t, n)
	m := benchModel(t, s, 200)
	r := m.current()
	steps := []struct {
		name  string
		msg   func() tea.Msg
		check func(t *testing.T)
	}{
		{"send", func() tea.Msg {
			m.comp.setValue("hello while the disk is busy")
			return keyMsg("enter")
		}, func(t *testing.T) {
			if !strings.Contains(m.render(), "hello while the disk is busy") || len(r.pending) != 1 {
				t.Errorf("the message is not on screen at once (%d pending)", len(r.pending))
			}
		}},
		{"incoming burst", func() tea.Msg {
			// as the session does: cached first, then delivered
			more := synthEntries(t, n+20)[n:]
			room, _, err := s.Store().Room(benchRoom)
			if err == nil {
				_, err = s.Store().Commit(room, more)
			}
			if err != nil {
				t.Fatal(err)
			}
			return eventsMsg{evs: []session.Event{session.EntriesEvent{Room: benchRoom, Entries: more}}, closed: true}
		}, func(t *testing.T) {
			if r.last != n+20 {
				t.Errorf("room at seq %d, want %d", r.last, n+20)
			}
		}},
		{"scroll into history", func() tea.Msg {
			return tea.KeyPressMsg{Code: tea.KeyHome, Mod: tea.ModCtrl}
		}, func(t *testing.T) {
			if !r.loading {
				t.Error("scrolling to the top did not start loading older history")
			}
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			msg := st.msg()
			released := holdWriteLock(t, s.Store().Path(), lock)
			start := time.Now()
			_, cmd := m.Update(msg)
			cmds := []tea.Cmd{cmd}
			if d := time.Since(start); d > quick {
				t.Errorf("Update took %v with the store locked for %v", d, lock)
			}
			st.check(t)
			for len(cmds) > 0 { // what the program would do next, message by message
				outs := runCmd(t, cmds[0], 20*time.Second)
				cmds = cmds[1:]
				for _, out := range outs {
					if sm, ok := out.(storedMsg); ok {
						t.Errorf("a write failed: %v", sm.err)
					}
					if _, ok := out.(eventsMsg); !ok {
						_, next := m.Update(out)
						cmds = append(cmds, next)
					}
				}
			}
			<-released
		})
	}
	// Everything reached the outbox: the message, and receipts.
	items, err := s.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	var texts, reports int
	for _, it := range items {
		if strings.Contains(string(it.Raw), "hello while the disk is busy") {
			texts++
		} else {
			reports++
		}
	}
	if texts != 1 || reports < 2 {
		t.Errorf("outbox has %d messages and %d receipts, want 1 and at least 2 (delivered, read)", texts, reports)
	}
	if r.loading || r.first >= n-200+1 {
		t.Errorf("older history did not come in: loading %v, first seq %d", r.loading, r.first)
	}
}

// TestHistoryCatchUpOffTheEventLoop: entries that arrive while an older
// page is being loaded are applied to the rebuilt timeline by a command
// (it reads the cache), not by Update; the swap happens after.
func TestHistoryCatchUpOffTheEventLoop(t *testing.T) {
	const n = 300
	s := cachedSession(t, n)
	m := benchModel(t, s, 200)
	r := m.current()
	page := runCmd(t, m.loadOlder(r), 10*time.Second)
	if len(page) != 1 {
		t.Fatalf("loading older history gave %v", page)
	}
	more := synthEntries(t, n+20)[n:]
	room, _, err := s.Store().Room(benchRoom)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store().Commit(room, more); err != nil {
		t.Fatal(err)
	}
	m.Update(eventsMsg{evs: []session.Event{session.EntriesEvent{Room: benchRoom, Entries: more}}, closed: true})
	oldTL := r.tl
	_, cmd := m.Update(page[0])
	if r.first != n-200+1 || cmd == nil {
		t.Fatalf("the page was swapped in before catching up (first seq %d, command %v)", r.first, cmd != nil)
	}
	caught := runCmd(t, cmd, 10*time.Second)
	if len(caught) != 1 {
		t.Fatalf("catching up gave %v", caught)
	}
	if hm, ok := caught[0].(historyMsg); !ok || hm.last != n+20 {
		t.Fatalf("catching up gave %+v", caught[0])
	}
	if _, cmd := m.Update(caught[0]); cmd != nil {
		for _, msg := range runCmd(t, cmd, 10*time.Second) {
			if _, ahead := msg.(prefetchMsg); !ahead { // rendering ahead (ui/prefetch.go) is no page
				t.Errorf("a caught-up page asked for more: %T", msg)
			}
		}
	}
	if r.first != 1 || r.loading || r.tl.Len() == 0 {
		t.Errorf("after the swap: first seq %d, loading %v", r.first, r.loading)
	}
	for _, e := range more {
		if _, before := oldTL.Index(e.ID); before {
			if _, after := r.tl.Index(e.ID); !after {
				t.Errorf("entry %d, shown before the swap, is not in the swapped timeline", e.Seq)
			}
		}
	}
}

// TestUnsavedMessageRetries: a message whose outbox write failed says so
// on its row, and /retry queues it again.
func TestUnsavedMessageRetries(t *testing.T) {
	s := cachedSession(t, 10)
	m := benchModel(t, s, 10)
	r := m.current()
	m.comp.setValue("will it save")
	_, cmd := m.Update(keyMsg("enter"))
	if len(r.pending) != 1 {
		t.Fatalf("%d pending rows", len(r.pending))
	}
	runCmd(t, cmd, 10*time.Second)
	m.Update(storedMsg{room: r.id, id: r.pending[0].item.ID, err: errors.New("disk I/O error")})
	if txt := ansi.Strip(m.render()); !strings.Contains(txt, "not saved: disk I/O error") {
		t.Fatalf("the failed write is not on the message's row:\n%s", txt)
	}
	m.comp.setValue("/retry")
	_, cmd = m.Update(keyMsg("enter"))
	for _, out := range runCmd(t, cmd, 10*time.Second) {
		if sm, ok := out.(storedMsg); ok {
			t.Fatalf("retry failed: %v", sm.err)
		}
	}
	if p := r.pending[0]; p.unsaved || p.item.State != session.Pending {
		t.Errorf("after /retry: unsaved %v, state %v", p.unsaved, p.item.State)
	}
	// the message once; beside it only the read receipt for the cached
	// messages of others (the scan for unread rows no longer stops at the
	// user's own newest row, ui/update.go markSeen)
	items, err := s.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	saved := 0
	for _, it := range items {
		if strings.Contains(string(it.Raw), "will it save") {
			saved++
			continue
		}
		if msg, err := content.Decode(it.Raw); err != nil || msg.Body.ContentType != content.StatusMediaType {
			t.Errorf("outbox holds another message than a receipt: %v %+v", err, msg)
		}
	}
	if saved != 1 {
		t.Errorf("outbox after the retry holds the message %d times", saved)
	}
}

// dumpState writes everything reachable from v, following pointers, maps
// and slices (maps in key order, each pointer once), into b: two dumps are
// equal when no field anywhere changed. The session (its own goroutines
// change it) and the HTTP client are left out; a func is only nil or not.
func dumpState(b *strings.Builder, v reflect.Value, seen map[uintptr]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		switch v.Type() {
		case reflect.TypeFor[*session.Session](), reflect.TypeFor[*http.Client]():
			b.WriteString(v.Type().String())
			return
		}
		if seen[v.Pointer()] {
			fmt.Fprintf(b, "&%x", v.Pointer())
			return
		}
		seen[v.Pointer()] = true
		b.WriteString("&")
		dumpState(b, v.Elem(), seen)
	case reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		b.WriteString(v.Elem().Type().String())
		dumpState(b, v.Elem(), seen)
	case reflect.Struct:
		b.WriteString("{")
		for i := range v.NumField() {
			b.WriteString(v.Type().Field(i).Name + ":")
			dumpState(b, v.Field(i), seen)
			b.WriteString(" ")
		}
		b.WriteString("}")
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			b.WriteString("nil")
			return
		}
		fmt.Fprintf(b, "[%d:", v.Len())
		for i := range v.Len() {
			dumpState(b, v.Index(i), seen)
			b.WriteString(",")
		}
		b.WriteString("]")
	case reflect.Map:
		// values in key order, so a pointer shared by two values is
		// expanded at the same place in every dump
		type entry struct {
			key string
			val reflect.Value
		}
		var es []entry
		for it := v.MapRange(); it.Next(); {
			var kb strings.Builder
			dumpState(&kb, it.Key(), map[uintptr]bool{})
			es = append(es, entry{kb.String(), it.Value()})
		}
		slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.key, b.key) })
		b.WriteString("map[")
		for _, e := range es {
			b.WriteString(e.key + "=")
			dumpState(b, e.val, seen)
			b.WriteString(",")
		}
		b.WriteString("]")
	case reflect.Func:
		fmt.Fprintf(b, "func(nil=%v)", v.IsNil())
	case reflect.Chan:
		fmt.Fprintf(b, "chan(%d)", v.Len())
	case reflect.UnsafePointer:
		fmt.Fprintf(b, "%x", v.Pointer())
	default:
		fmt.Fprintf(b, "%v", v)
	}
}

func modelState(m *Model) string {
	var b strings.Builder
	dumpState(&b, reflect.ValueOf(m), map[uintptr]bool{})
	return b.String()
}

// TestViewChangesNothing: in every state the screens test goes through
// (the room, selection, a dialog, an open thread, a narrow terminal, a
// countdown running), View returns the same frame twice and leaves every
// field reachable from the model as it was; the frame is the one Update
// composed.
func TestViewChangesNothing(t *testing.T) {
	s := cachedSession(t, 100)
	m := benchModel(t, s, 100)
	r := m.current()
	steps := []struct {
		name string
		msgs []tea.Msg
	}{
		{"resized", []tea.Msg{tea.WindowSizeMsg{Width: 160, Height: 48}}},
		{"typing", []tea.Msg{keyMsg("h"), keyMsg("i")}},
		{"selection", []tea.Msg{keyMsg("alt+s"), keyMsg("up"), keyMsg("up")}},
		{"dialog", []tea.Msg{keyMsg("ctrl+k")}},
		{"dialog closed", []tea.Msg{keyMsg("esc")}},
		{"thread", []tea.Msg{keyMsg("esc"), keyMsg("alt+s"), keyMsg("t")}},
		{"narrow", []tea.Msg{tea.WindowSizeMsg{Width: 80, Height: 24}}},
		{"scrolled up", []tea.Msg{keyMsg("esc"), keyMsg("esc"), tea.KeyPressMsg{Code: tea.KeyPgUp}}},
		{"clock ticks", []tea.Msg{tickMsg(time.Now())}},
	}
	for _, st := range steps {
		for _, msg := range st.msgs {
			m.Update(msg)
		}
		if st.name == "thread" && r.thread == "" {
			t.Error("the thread step did not open a thread")
		}
		before := modelState(m)
		v1 := m.View()
		v2 := m.View()
		after := modelState(m)
		if v1.Content != v2.Content || v1.Content != m.frame || v1.Content == "" {
			t.Errorf("%s: View is not the frame Update composed, or differs between calls", st.name)
		}
		if before != after {
			i := 0
			for i < len(before) && i < len(after) && before[i] == after[i] {
				i++
			}
			t.Errorf("%s: View changed the model; first difference at byte %d: …%s… became …%s…", st.name,
				i, before[max(0, i-120):min(len(before), i+80)], after[max(0, i-120):min(len(after), i+80)])
		}
	}
}
