package ui

// Read state across restarts (issue 14 #4).

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"mimichat/session"
)

// reopener opens sessions of one user on one data directory, as restarts
// of the client would, and waits until they are online.
func (r *testRelay) reopener(name string) func() *session.Session {
	open := r.reopenerOffline(name)
	return func() *session.Session {
		r.t.Helper()
		s := open()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.WaitOnline(ctx); err != nil {
			r.t.Fatal(err)
		}
		return s
	}
}

// reopenerOffline is reopener without waiting for the connection.
func (r *testRelay) reopenerOffline(name string) func() *session.Session {
	r.t.Helper()
	u, tok, err := r.srv.Store().AddUser(testDomain, name)
	if err != nil {
		r.t.Fatal(err)
	}
	dir := r.t.TempDir()
	return func() *session.Session {
		r.t.Helper()
		s, err := session.Open(session.Options{Relay: "ws://" + r.srv.Addr() + "/v1", User: u.URI, Token: tok,
			DataDir: dir, Backoff: session.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
			RoomsPoll: 200 * time.Millisecond})
		if err != nil {
			r.t.Fatal(err)
		}
		r.t.Cleanup(func() { s.Close() })
		s.Start()
		return s
	}
}

// TestReadPositionSurvivesRestart: what was read before a restart is not
// unread after it; what arrived meanwhile is counted, and opening the room
// draws the "new messages" line above the first of it.
func TestReadPositionSurvivesRestart(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	open := rl.reopener("you")
	you := open()
	lobby := openRoom(t, owner, "lobby", "Lobby", you)
	plans := openRoom(t, owner, "plans", "Plans", you)
	var early, late []string
	for i := range 5 {
		early = append(early, fmt.Sprintf("early %d", i))
		late = append(late, fmt.Sprintf("late %d", i))
	}
	sendAcked(t, owner, plans, early)
	waitCached(t, you, plans, 5)
	tm, _, scr := startUI(t, you, 100, 24, Options{Room: plans})
	scr.waitText(t, "│Plans", "early 4")
	// read: saved in the cache
	deadline := time.Now().Add(10 * time.Second)
	for {
		marks, err := you.Store().ReadMarks()
		if err != nil {
			t.Fatal(err)
		}
		if mk := marks[plans]; mk.Seq > 0 {
			if es, _ := you.Store().After(plans, mk.Seq, 10); len(es) == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("read position not saved: %v", marks)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm.Quit()
	you.Close()

	sendAcked(t, owner, plans, late[:3])
	you = open()
	cachedMessage(t, you, plans, "late 2")
	tm, _, scr = startUI(t, you, 100, 24, Options{Room: lobby})
	badge := regexp.MustCompile(`\d Plans +(\d+)\s*│`)
	txt := scr.waitText(t, "│Lobby", "Plans")
	if mm := badge.FindStringSubmatch(txt); mm == nil || mm[1] != "3" {
		t.Fatalf("after a restart Plans shows unread %v, want 3 (the 3 sent meanwhile):\n%s", mm, txt)
	}
	tm.Send(keyMsgMod('2'))
	txt = scr.waitText(t, "│Plans", "late 2")
	lines := strings.Split(txt, "\n")
	line := -1
	for i, l := range lines {
		if strings.Contains(l, "new messages") {
			line = i
		}
	}
	if line < 0 || !strings.Contains(strings.Join(lines[line+1:line+3], "\n"), "late 0") ||
		strings.Contains(strings.Join(lines[line:], "\n"), "early 4") {
		t.Fatalf("no \"new messages\" line right above late 0:\n%s", txt)
	}
}
