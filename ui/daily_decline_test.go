package ui

// Declined invitations stay declined across restarts (issue 14, "invitations
// accepted or declined from the room list").

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"mimichat/proto"
	"mimichat/session"
)

// TestDeclinedInvitationSurvivesRestart: x on an invitation in the room list
// declines it; after the client restarts on the same data directory (with
// the relay still running) the invitation is not listed again, while an
// invitation not declined still is; a new invitation to the declined room
// lists it again.
func TestDeclinedInvitationSurvivesRestart(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	open := rl.reopener("you")
	you := open()
	home := openRoom(t, owner, "home", "Home", you)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, slug := range []string{"nope", "maybe"} {
		if _, err := owner.CreateRoom(ctx, session.CreateRoomOptions{Slug: slug, Name: strings.ToUpper(slug), Join: proto.JoinInvite}); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.Invite(ctx, "mimi://"+testDomain+"/r/"+slug, you.User()); err != nil {
			t.Fatal(err)
		}
	}
	tm, m, scr := startUI(t, you, 100, 24, Options{Room: home})
	scr.waitFor(t, "both invitations listed", func(string) bool {
		return strings.Contains(roomListLine(scr, "NOPE"), "✉") && strings.Contains(roomListLine(scr, "MAYBE"), "✉")
	})
	key(tm, "alt+r")
	for range 5 {
		if strings.Contains(strings.SplitN(scr.text(), "\n", 2)[0], "│NOPE") {
			break
		}
		key(tm, "down")
		time.Sleep(100 * time.Millisecond)
	}
	scr.waitFor(t, "NOPE open", func(s string) bool { return strings.Contains(strings.SplitN(s, "\n", 2)[0], "│NOPE") })
	tm.Type("x")
	scr.waitText(t, "declined the invitation to NOPE")
	scr.waitFor(t, "NOPE off the list", func(string) bool { return roomListLine(scr, "NOPE") == "" })
	// Quit at once, as a user may: the save command may not have run, which
	// SaveOnExit (what cli does after the program returns) makes up for.
	tm.Quit()
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	if err := m.SaveOnExit(); err != nil {
		t.Fatal(err)
	}
	you.Close()

	for restart := range 2 {
		you = open()
		tm, _, scr = startUI(t, you, 100, 24, Options{Room: home})
		scr.waitFor(t, "MAYBE listed", func(string) bool { return strings.Contains(roomListLine(scr, "MAYBE"), "✉") })
		time.Sleep(600 * time.Millisecond) // several room polls
		scr.settle(300 * time.Millisecond)
		if l := roomListLine(scr, "NOPE"); l != "" {
			t.Fatalf("restart %d: the declined invitation is listed again: %q\n%s", restart+1, l, scr.text())
		}
		tm.Quit()
		you.Close()
	}

	// invited again: listed again
	you = open()
	tm, _, scr = startUI(t, you, 100, 24, Options{Room: home})
	scr.waitFor(t, "MAYBE listed", func(string) bool { return strings.Contains(roomListLine(scr, "MAYBE"), "✉") })
	if _, err := owner.Invite(ctx, "mimi://"+testDomain+"/r/nope", you.User()); err != nil {
		t.Fatal(err)
	}
	scr.waitFor(t, "NOPE listed after a new invitation", func(string) bool { return strings.Contains(roomListLine(scr, "NOPE"), "✉") })
	_ = tm
}
