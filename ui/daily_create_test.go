package ui

// Rooms and direct messages from inside the client (issue 14, features).

import (
	"strings"
	"testing"
	"time"

	"mimichat/proto"
)

// TestCreateAndDM: /create NAME makes a room the user owns and opens it;
// /dm USER opens a two-member room shown as @USER, invites USER, and a
// second /dm USER reuses it.
func TestCreateAndDM(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	bob := rl.session("bob")
	you := rl.session("you")
	lobby := openRoom(t, owner, "lobby", "Lobby", you, bob)
	tm, _, scr := startUI(t, you, 140, 24, Options{Room: lobby})
	scr.waitMember(t, "bob")
	typeText(tm, "/create Book Club")
	key(tm, "esc")
	key(tm, "enter")
	scr.waitFor(t, "Book Club opened", func(s string) bool { return startsWithRoom(s, "Book Club") })
	scr.waitText(t, "you ★")

	typeText(tm, "/dm bob")
	key(tm, "esc")
	key(tm, "enter")
	scr.waitFor(t, "the DM opened", func(s string) bool { return startsWithRoom(s, "@bob") })
	deadline := time.Now().Add(10 * time.Second)
	for {
		invited := false
		for _, r := range bob.Rooms() {
			if strings.HasSuffix(r.ID, "/r/dm-bob--you") && r.State == proto.StateInvited {
				invited = true
			}
		}
		if invited {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob was not invited to the DM: %v", bob.Rooms())
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm.Send(keyMsgMod('1'))
	scr.waitFor(t, "back in Lobby", func(s string) bool { return !startsWithRoom(s, "@bob") })
	typeText(tm, "/dm bob")
	key(tm, "esc")
	key(tm, "enter")
	txt := scr.waitFor(t, "the DM again", func(s string) bool { return startsWithRoom(s, "@bob") })
	if n := strings.Count(txt, "@bob"); n != 2 { // the room list and the header
		t.Fatalf("@bob shows %d times (a second DM room?):\n%s", n, txt)
	}
}
