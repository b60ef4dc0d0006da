package ui

import (
	"regexp"
	"strings"
	"testing"

	"mimichat/content"
)

// TestUnreadUnderDeletedMessageIsRead: a message that arrived while its room
// was off screen, followed by one deleted before the user looked, is read
// when the room is opened: the room list's count goes (it stayed at 1, since
// the scan for unread rows stopped at the deleted one; seen in the demo's
// Random after Alice's deleted message).
func TestUnreadUnderDeletedMessageIsRead(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	home := openRoom(t, owner, "home", "Home", you)
	news := openRoom(t, owner, "news", "News", you)
	tm, _, scr := startUI(t, you, 100, 24, Options{Room: home})
	scr.waitFor(t, "both rooms listed", func(string) bool { return roomListLine(scr, "News") != "" })

	sendText(t, owner, news, "an unread message")
	gone := sendText(t, owner, news, "a message deleted before it is seen")
	del, err := owner.Builder(news).Delete(gone.ID, &content.Message{})
	if err != nil {
		t.Fatal(err)
	}
	sendMsgAcked(t, owner, news, del)
	count := regexp.MustCompile(`News +(\d+)\s*$`)
	scr.waitFor(t, "News counts 1 unread", func(string) bool {
		mm := count.FindStringSubmatch(roomListLine(scr, "News"))
		return mm != nil && mm[1] == "1"
	})
	tm.Send(keyMsgMod('2'))
	scr.waitText(t, "│News", "an unread message", "message deleted")
	scr.waitFor(t, "News read", func(string) bool {
		return !count.MatchString(strings.TrimRight(roomListLine(scr, "News"), " "))
	})
}
