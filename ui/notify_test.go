package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/session"
)

// roomListLine is the room list's line naming name (the left column).
func roomListLine(scr *screen, name string) string {
	for _, l := range strings.Split(scr.text(), "\n") {
		if left, _, ok := strings.Cut(l, "│"); ok && strings.Contains(left, name) {
			return left
		}
	}
	return ""
}

// TestNotifyLevels: a room muted from the room list ("m" cycles mentions →
// all → none) shows dimmed with ∅ and no unread count; a highlight word
// ([notify] highlight, whole words, any case) counts as a mention and
// shows as @1 even there; the level survives a restart (the cache's meta).
func TestNotifyLevels(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	alpha := openRoom(t, owner, "alpha", "Alpha", you)
	beta := openRoom(t, owner, "beta", "Beta", you)
	tm, _, scr := startUI(t, you, 100, 24, Options{Room: alpha, Highlight: []string{"Deploy"}})
	scr.waitFor(t, "both rooms listed", func(string) bool { return roomListLine(scr, "Beta") != "" && roomListLine(scr, "Alpha") != "" })

	key(tm, "alt+r") // the room list
	scr.waitText(t, "m notify: all/mentions/none")
	key(tm, "down") // Beta
	scr.waitFor(t, "Beta open", func(s string) bool { return strings.Contains(strings.SplitN(s, "\n", 2)[0], "│Beta") })
	tm.Type("m")
	scr.waitText(t, "notifications in Beta: all")
	tm.Type("m")
	scr.waitText(t, "notifications in Beta: none (muted")
	key(tm, "up") // back to Alpha
	key(tm, "esc")
	scr.waitFor(t, "Alpha open", func(s string) bool { return strings.Contains(strings.SplitN(s, "\n", 2)[0], "│Alpha") })
	scr.waitFor(t, "Beta muted", func(string) bool { return strings.HasSuffix(strings.TrimSpace(roomListLine(scr, "Beta")), "∅") })

	sendAcked(t, owner, beta, []string{"plain one", "redeployed, not a whole word", "plain two"})
	sendAcked(t, owner, alpha, []string{"in alpha"})
	scr.waitText(t, "in alpha")
	if l := roomListLine(scr, "Beta"); strings.ContainsAny(l, "0123456789@") && !strings.HasPrefix(strings.TrimSpace(l), "2 Beta") {
		t.Fatalf("a muted room shows a count: %q", l)
	}
	sendAcked(t, owner, beta, []string{"we DEPLOY at five"})
	scr.waitFor(t, "the highlight word counts as a mention", func(string) bool {
		return strings.HasSuffix(strings.TrimSpace(roomListLine(scr, "Beta")), "@1")
	})
	if l := roomListLine(scr, "Beta"); strings.Contains(l, "@1 ") {
		t.Fatalf("a muted room shows its unread count: %q", l)
	}

	// a restart keeps the level: a new model reads it from the cache (once
	// the tea.Cmd saving it ran)
	deadline := time.Now().Add(10 * time.Second)
	for v, _ := you.Store().Meta(notifyLevelsKey); v != "none "+beta; v, _ = you.Store().Meta(notifyLevelsKey) {
		if time.Now().After(deadline) {
			t.Fatalf("saved levels %q", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
	m2, err := New(Options{Session: you, Notify: "off", NoTick: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := m2.byID[beta]; r == nil || m2.level(r) != levelNone {
		t.Fatalf("after a restart Beta's level is not none")
	}
	if r := m2.byID[alpha]; r == nil || m2.level(r) != levelMentions {
		t.Fatalf("after a restart Alpha's level is not the default")
	}
}

// TestNotifyCommand: /notify shows and sets the level; a bad one is named.
func TestNotifyCommand(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	room := openRoom(t, owner, "plans", "Plans", you)
	tm, m, scr := startUI(t, you, 100, 24, Options{Room: room})
	scr.waitText(t, "Plans")
	for _, tc := range []struct{ cmd, want string }{
		{"/notify", "notifications in Plans: mentions"},
		{"/notify loud", "usage: /notify all|mentions|none"},
		{"/notify all", "notifications in Plans: all"},
		{"/notify none", "notifications in Plans: none"},
		{"/notify", "notifications in Plans: none"},
	} {
		typeText(tm, tc.cmd)
		key(tm, "esc")
		key(tm, "enter")
		scr.waitText(t, tc.want)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, _ := m.s.Store().Meta(notifyLevelsKey)
		if v == "none "+room {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("saved levels %q", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAlertsByLevel: what rings for a message from someone else, by level.
func TestAlertsByLevel(t *testing.T) {
	s := cachedSession(t, 5)
	m := benchModel(t, s, 5)
	r := m.current()
	for _, tc := range []struct {
		level         notifyLevel
		plain, mental bool
		shownUnread   bool
	}{
		{levelMentions, false, true, true},
		{levelAll, true, true, true},
		{levelNone, false, false, false},
	} {
		m.setLevel(r, tc.level)
		if got := m.alerts(r, false); got != tc.plain {
			t.Errorf("%s: a plain message alerts %v, want %v", tc.level, got, tc.plain)
		}
		if got := m.alerts(r, true); got != tc.mental {
			t.Errorf("%s: a mention alerts %v, want %v", tc.level, got, tc.mental)
		}
		if got := m.shownUnread(r) == r.unread(); got != tc.shownUnread && r.unread() > 0 {
			t.Errorf("%s: unread count shown %v, want %v", tc.level, got, tc.shownUnread)
		}
	}
}

func TestHighlightWholeWords(t *testing.T) {
	hl := highlighter([]string{"Deploy", " on-call ", "été"})
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"we deploy today", true},
		{"DEPLOY!", true},
		{"deploy", true},
		{"redeployed", false},
		{"deploy_script", false},
		{"who is on-call?", true},
		{"l'été arrive", true},
		{"étéx", false},
		{"nothing here", false},
		{"[deploy](https://x.example)", true},
	} {
		if got := hl([]byte(tc.text)); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.text, got, tc.want)
		}
	}
	if highlighter(nil) != nil || highlighter([]string{" "}) != nil {
		t.Error("no words should give no highlighter")
	}
}

// TestInvitationFromRoomList: an invitation is listed with ✉; on it "x"
// declines (the room leaves the list) and "a" accepts another (joined, the
// composer back); neither key works on a room with no invitation, and the
// help line offers them only on an invitation.
func TestInvitationFromRoomList(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	home := openRoom(t, owner, "home", "Home", you)
	tm, _, scr := startUI(t, you, 100, 24, Options{Room: home})
	scr.waitText(t, "Home")
	key(tm, "alt+r")
	scr.waitText(t, "m notify")
	if strings.Contains(scr.text(), "accept invitation") {
		t.Fatal("the help line offers to accept with no invitation")
	}
	tm.Type("a")
	scr.waitText(t, "no invitation to Home to accept or decline")

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, slug := range []string{"inv1", "inv2"} {
		if _, err := owner.CreateRoom(ctx, session.CreateRoomOptions{Slug: slug, Name: strings.ToUpper(slug), Join: proto.JoinInvite}); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.Invite(ctx, "mimi://"+testDomain+"/r/"+slug, you.User()); err != nil {
			t.Fatal(err)
		}
	}
	scr.waitFor(t, "both invitations listed", func(string) bool {
		return strings.Contains(roomListLine(scr, "INV1"), "✉") && strings.Contains(roomListLine(scr, "INV2"), "✉")
	})
	open := func(name string) {
		t.Helper()
		for range 5 {
			if strings.Contains(strings.SplitN(scr.text(), "\n", 2)[0], "│"+name) {
				return
			}
			key(tm, "down")
			time.Sleep(100 * time.Millisecond)
		}
		scr.waitFor(t, name+" open", func(s string) bool { return strings.Contains(strings.SplitN(s, "\n", 2)[0], "│"+name) })
	}
	open("INV1")
	scr.waitText(t, "a accept invitation", "x decline invitation")
	tm.Type("x")
	scr.waitText(t, "declined the invitation to INV1")
	scr.waitFor(t, "INV1 off the list", func(string) bool { return roomListLine(scr, "INV1") == "" })

	open("INV2")
	tm.Type("a")
	scr.waitFor(t, "INV2 joined", func(string) bool {
		l := roomListLine(scr, "INV2")
		return l != "" && !strings.Contains(l, "✉")
	})
	scr.waitText(t, "you joined")
}

// TestForbiddenActionHints: in selection mode on another person's message
// a member is not offered edit or delete in the help line; on their own
// message they are.
func TestForbiddenActionHints(t *testing.T) {
	rl := startRelay(t)
	bob := rl.session("bob")
	you := rl.session("you")
	room := openRoom(t, bob, "hints", "Hints", you)
	sendAcked(t, you, room, []string{"my note"})
	cachedMessage(t, you, room, "my note") // in the cache before bob answers: the order is certain
	sendAcked(t, bob, room, []string{"bob's note"})
	cachedMessage(t, you, room, "bob's note")
	tm, _, scr := startUI(t, you, 160, 30, Options{Room: room})
	scr.waitText(t, "bob's note")
	scr.waitFor(t, "2 members", func(s string) bool { return strings.Contains(s, "Members 2") })
	scr.waitFor(t, "bob's message the newest row", func(s string) bool {
		i, j := strings.Index(s, "my note"), strings.Index(s, "bob's note")
		return i >= 0 && j > i
	})
	key(tm, "alt+s") // bob's message
	selectedLine := func(s, text string) bool {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "▌") && strings.Contains(l, text) {
				return true
			}
		}
		return false
	}
	txt := scr.waitFor(t, "bob's message selected", func(s string) bool { return selectedLine(s, "bob's note") })
	help := txt[strings.LastIndex(txt, "\n")+1:]
	if strings.Contains(help, "e edit") || strings.Contains(help, "delete") {
		t.Fatalf("a member is offered edit or delete on another's message: %q", help)
	}
	key(tm, "up") // the user's own message
	scr.waitFor(t, "edit and delete offered on the user's own message", func(s string) bool {
		h := s[strings.LastIndex(s, "\n")+1:]
		if !selectedLine(s, "my note") {
			return false
		}
		return strings.Contains(h, "e edit") && strings.Contains(h, "d/delete delete")
	})
}

// TestNotifyScreensGolden: the room list with a muted room (∅, no count)
// and the room list's help line (accept/decline only on an invitation).
func TestNotifyScreensGolden(t *testing.T) {
	for _, size := range []struct{ w, h int }{{160, 48}, {80, 24}} {
		t.Run(fmtSize(size.w, size.h), func(t *testing.T) {
			d, s := startDemo(t)
			tm, _, scr := startUI(t, s, size.w, size.h, Options{Room: d.Rooms[0], Names: d.Names, Languages: []string{"en"}})
			scr.waitText(t, "Type / for commands", "You joined")
			key(tm, "alt+r")
			scr.waitText(t, "m notify")
			tm.Type("m")
			scr.waitText(t, "notifications in General: all")
			tm.Type("m")
			scr.waitText(t, "notifications in General: none")
			txt := scr.settle(300 * time.Millisecond)
			checkGolden(t, fmtSize(size.w, size.h)+"-notify-muted", normalize(txt))
		})
	}
}
