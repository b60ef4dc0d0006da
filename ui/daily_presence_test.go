package ui

// Members and presence after starting offline, joining later and
// connecting later (issue 14 #5 and #10).

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/proto"
	"mimichat/relay"
	"mimichat/session"
)

// presenceOf waits until the member pane lists name with mark (● online).
func presenceOf(t *testing.T, scr *screen, mark, name string) {
	t.Helper()
	re := regexp.MustCompile(`│` + regexp.QuoteMeta(mark) + ` ` + regexp.QuoteMeta(name) + `\b`)
	scr.waitFor(t, mark+" "+name, re.MatchString)
}

// TestPresenceLateConnectAndJoin: a client that connects after another
// sees it online (the other answers its presence), and a user who joins a
// room later shows online there at once.
func TestPresenceLateConnectAndJoin(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	openBob := rl.reopener("bob")
	bob := openBob()
	room := openRoom(t, owner, "plans", "Plans", bob)
	waitJoinCached(t, bob, room)
	bob.Close() // bob connects after the owner's client announced itself
	otm, _, oscr := startUI(t, owner, 140, 24, Options{Room: room})
	presenceOf(t, oscr, "●", "owner")
	oscr.waitMember(t, "bob")
	oscr.settle(200 * time.Millisecond)
	bob = openBob()
	btm, _, bscr := startUI(t, bob, 140, 24, Options{Room: room})
	presenceOf(t, bscr, "●", "bob")
	presenceOf(t, bscr, "●", "owner") // owner was online first
	presenceOf(t, oscr, "●", "bob")

	cafe := openRoom(t, owner, "cafe", "Cafe")
	typeText(btm, "/join "+cafe)
	key(btm, "esc")
	key(btm, "enter")
	bscr.waitText(t, "│Cafe")
	oscr.waitText(t, "bob joined")
	// owner's screen: open Cafe (listed after Plans) and see bob online there
	otm.Send(keyMsgMod('2'))
	oscr.waitFor(t, "owner in Cafe", func(s string) bool { return startsWithRoom(s, "Cafe") })
	presenceOf(t, oscr, "●", "bob")
}

// TestMembersAfterStartingOffline: the client starts with the relay down
// for longer than a member fetch waits; once the relay is back the member
// list fills and @-completion finds the members.
func TestMembersAfterStartingOffline(t *testing.T) {
	dir := t.TempDir()
	start := func(addr string) *relay.Server {
		srv, err := relay.Start(relay.Config{Listen: addr, Data: dir, Domain: testDomain, RatePerSec: -1,
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	srv := start("127.0.0.1:0")
	rl := &testRelay{t: t, srv: srv}
	owner := rl.session("owner")
	open := rl.reopenerOffline("you")
	you := open()
	if err := you.WaitOnline(context.Background()); err != nil {
		t.Fatal(err)
	}
	room := openRoom(t, owner, "plans", "Plans", you)
	waitJoinCached(t, you, room)
	you.Close()
	owner.Close()
	addr := srv.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	srv.Shutdown(ctx)
	cancel()

	you = open()
	tm, _, scr := startUI(t, you, 140, 24, Options{Room: room})
	scr.waitText(t, "│Plans", "offline")
	time.Sleep(16 * time.Second) // longer than a member fetch waits for the connection
	srv = start(addr)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	scr.waitText(t, "● online")
	scr.waitText(t, "Members 2")
	scr.waitMember(t, "owner")
	typeText(tm, "@ow")
	scr.waitText(t, "owner")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
	scr.waitText(t, "[@owner](mimi://test.example/u/owner)")
}

// waitJoinCached waits until s's cache holds its own join of room. In an
// end-to-end encrypted room the cache of an invited device starts at the
// Welcome (the invite), so a count of entries from the room's start says
// nothing; the join says the room is cached up to the user's membership.
func waitJoinCached(t *testing.T, s *session.Session, room string) {
	t.Helper()
	waitCache(t, s, room, func(es []session.Entry) string {
		return fmt.Sprintf("%d entries cached, none is %s's join", len(es), s.User())
	}, func(es []session.Entry) bool {
		return slices.ContainsFunc(es, func(e session.Entry) bool { return e.Kind == proto.KindJoin && e.Sender == s.User() })
	})
}
