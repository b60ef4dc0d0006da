package ui

// Golden screens of issue 14's room features at 80x24 and 160x48: the member
// overlay, and a direct message opened from inside with an invitation
// waiting in the room list.

import (
	"context"
	"strings"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/session"
)

func TestRoomFeaturesGolden(t *testing.T) {
	for _, size := range []struct{ w, h int }{{160, 48}, {80, 24}} {
		t.Run(fmtSize(size.w, size.h), func(t *testing.T) {
			passMidnight(t)
			rl := startRelay(t)
			owner := rl.session("owner")
			bob := rl.session("bob")
			you := rl.session("you")
			lobby := openRoom(t, owner, "lobby", "Lobby", you, bob)

			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if _, err := owner.CreateRoom(ctx, session.CreateRoomOptions{Slug: "party", Name: "Party", Join: proto.JoinInvite}); err != nil {
				t.Fatal(err)
			}
			if _, err := owner.Invite(ctx, "mimi://"+testDomain+"/r/party", you.User()); err != nil {
				t.Fatal(err)
			}

			tm, _, scr := startUI(t, you, size.w, size.h, Options{Room: lobby})
			shot := goldenShot(t, scr, size.w, size.h, "")
			if size.w >= 120 { // the member pane
				scr.waitMember(t, "bob")
			}
			typeText(tm, "/members")
			key(tm, "esc")
			key(tm, "enter")
			scr.waitText(t, "Members 3 · Lobby", "bob  mimi://test.example/u/bob")
			shot("members")
			key(tm, "esc")
			scr.waitFor(t, "overlay closed", func(s string) bool { return !strings.Contains(s, "Members 3 ·") })

			typeText(tm, "/dm bob")
			key(tm, "esc")
			key(tm, "enter")
			scr.waitFor(t, "the DM opened", func(s string) bool { return startsWithRoom(s, "@bob") })
			scr.waitText(t, "you invited bob")
			if size.w >= 70 {
				scr.waitFor(t, "the invitation listed", func(string) bool { return strings.Contains(roomListLine(scr, "Party"), "✉") })
			}
			shot("dm")
		})
	}
}
