package ui

// Defects of issue 14, "The client as a daily driver": each test drives the
// real model on a real relay the way a user would and failed before its fix.

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/proto"
	"mimichat/session"
)

// typeText types s one key at a time, as a user would.
func typeText(tm interface{ Send(tea.Msg) }, s string) {
	for _, r := range s {
		if r == ' ' {
			tm.Send(keyMsg("space"))
			continue
		}
		tm.Send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// TestNoRoomsComposer: a new user with no rooms sees the composer, sees
// what they type, gets told why plain text is not sent, can open f1, and
// can /join a room by typing it.
func TestNoRoomsComposer(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	room := openRoom(t, owner, "lobby", "Lobby")
	tm, _, scr := startUI(t, you, 100, 24, Options{})
	scr.waitText(t, "No rooms yet", "Write a message")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyF1})
	scr.waitText(t, "Keys and commands")
	key(tm, "esc")
	scr.waitFor(t, "help closed", func(s string) bool { return !strings.Contains(s, "Keys and commands") })
	typeText(tm, "hi")
	scr.waitText(t, "No rooms yet", "hi")
	key(tm, "enter")
	scr.waitText(t, "no room to send to", "hi")
	for range 2 {
		tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	typeText(tm, "/join "+room)
	scr.waitText(t, "/join "+room)
	key(tm, "enter")
	scr.waitText(t, "│Lobby", "joined")
}

// TestTopicNameWithoutArgument: /topic and /name with no argument show the
// current value and open it for editing; they never wipe it. Editing it and
// pressing enter sets it; --clear empties it.
func TestTopicNameWithoutArgument(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	room := openRoom(t, owner, "plans", "Plans")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := owner.SetTopic(ctx, room, "Old topic"); err != nil {
		t.Fatal(err)
	}
	tm, _, scr := startUI(t, owner, 100, 24, Options{Room: room})
	scr.waitText(t, "Plans — Old topic")
	typeText(tm, "/topic")
	key(tm, "esc") // close the completion list
	key(tm, "enter")
	scr.waitText(t, "/topic Old topic", "topic: Old topic")
	typeText(tm, "s")
	key(tm, "enter")
	scr.waitText(t, "Plans — Old topics")
	typeText(tm, "/name")
	key(tm, "esc")
	key(tm, "enter")
	scr.waitText(t, "/name Plans", "name: Plans")
	st, err := owner.RoomInfo(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "Plans" || st.Topic != "Old topics" {
		t.Fatalf("room is %q / %q after /name and /topic without arguments", st.Name, st.Topic)
	}
	for range len("/name Plans") {
		tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	typeText(tm, "/topic --clear")
	key(tm, "esc")
	key(tm, "enter")
	scr.waitText(t, "topic cleared")
	scr.waitFor(t, "the topic gone from the header", func(s string) bool { return !strings.Contains(strings.SplitN(s, "\n", 2)[0], "Old topics") })
}

// centerText is the center column of a frame (right of the room list),
// its lines joined by spaces, so a wrapped notice reads as one line.
func centerText(frame string) string {
	var b strings.Builder
	for _, l := range strings.Split(frame, "\n") {
		if _, rest, ok := strings.Cut(l, "│"); ok {
			l = rest
		}
		b.WriteString(strings.TrimSpace(l) + " ")
	}
	return b.String()
}

// TestRefusalReadsAsRefusal: a member's /topic is refused by the relay; the
// screen says it was refused (never "topic set") and shows the whole
// reason, wrapped above the composer, at 80 columns.
func TestRefusalReadsAsRefusal(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	member := rl.session("member")
	room := openRoom(t, owner, "plans", "Plans", member)
	tm, _, scr := startUI(t, member, 80, 24, Options{Room: room})
	scr.waitText(t, "Plans")
	typeText(tm, "/topic Ours now")
	key(tm, "esc")
	key(tm, "enter")
	// refused by the client, which knows the member's role (defect 8), before
	// anything is sent; the reason is whole, wrapped
	const want = "you cannot use /topic in Plans: only moderators and owners can (you are a member)"
	txt := scr.waitFor(t, "the whole refusal", func(s string) bool { return strings.Contains(centerText(s), want) })
	if strings.Contains(txt, "topic set") {
		t.Fatalf("a refusal reads as success:\n%s", txt)
	}
	// what the client cannot know beforehand the relay refuses, and its
	// reason reads as a refusal too
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := owner.CreateRoom(ctx, session.CreateRoomOptions{Slug: "closed", Name: "Closed", Join: proto.JoinInvite}); err != nil {
		t.Fatal(err)
	}
	typeText(tm, "/join mimi://"+testDomain+"/r/closed")
	key(tm, "esc")
	key(tm, "enter")
	const relayWant = "cannot join: the relay refused: this room needs an invitation"
	scr.waitFor(t, "the relay's refusal", func(s string) bool { return strings.Contains(centerText(s), relayWant) })
}

// TestTypingInSelectionMode: after a delete, and on any unbound printable
// key, typing goes to the composer; no letter of it runs an action (the
// "t" of "that" used to open a thread).
func TestTypingInSelectionMode(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	room := openRoom(t, owner, "plans", "Plans")
	tm, _, scr := startUI(t, owner, 100, 24, Options{Room: room})
	scr.waitText(t, "Plans")
	typeText(tm, "first draft")
	key(tm, "enter")
	scr.waitText(t, "first draft ✓")
	key(tm, "alt+s")
	typeText(tm, "d")
	scr.waitText(t, "Delete this message?")
	typeText(tm, "y")
	scr.waitText(t, "message deleted")
	typeText(tm, "that was wrong")
	txt := scr.waitText(t, "that was wrong")
	if strings.Contains(txt, "Thread") || strings.Contains(txt, "Replying in thread") {
		t.Fatalf("typing after a delete opened a thread:\n%s", txt)
	}
	key(tm, "enter")
	scr.waitText(t, "that was wrong ✓", "message deleted")
	key(tm, "alt+s")
	typeText(tm, "xyz")
	scr.waitFor(t, "unbound keys in the composer", func(s string) bool {
		return strings.Contains(s, "xyz") && !strings.Contains(s, "▌")
	})
}

// TestKickedUser: a kick's reason shows on its line; the kicked user's
// screen drops them from the member list and replaces the composer with
// who removed them and why.
func TestKickedUser(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	member := rl.session("member")
	room := openRoom(t, owner, "plans", "Plans", member)
	tm, _, scr := startUI(t, member, 140, 24, Options{Room: room})
	right := func(frame string) string { // the member list column
		var b strings.Builder
		for _, l := range strings.Split(frame, "\n") {
			if parts := strings.Split(l, "│"); len(parts) == 3 {
				b.WriteString(parts[2] + "\n")
			}
		}
		return b.String()
	}
	scr.waitFor(t, "both in the member list", func(s string) bool {
		return strings.Contains(right(s), "owner") && strings.Contains(right(s), "member")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := owner.Kick(ctx, room, member.User(), "spam links"); err != nil {
		t.Fatal(err)
	}
	scr.waitText(t, "owner removed member: spam links", "owner removed you from Plans: spam links")
	txt := scr.waitFor(t, "member gone from the list", func(s string) bool { return !strings.Contains(right(s), "member") })
	if strings.Contains(txt, "Write a message") {
		t.Fatalf("the composer is still open after the kick:\n%s", txt)
	}
	typeText(tm, "still here?")
	key(tm, "enter")
	scr.settle(200 * time.Millisecond)
	if strings.Contains(scr.text(), "still here?") {
		t.Fatalf("a removed user's message shows as sent:\n%s", scr.text())
	}
}

// TestSmallDefects: /join switches to the joined room; Up skips a call card
// (it has no text to edit); the delete confirmation previews the message;
// c on a deleted message says there is nothing to copy; tab accepts a
// single completion.
func TestSmallDefects(t *testing.T) {
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	first := openRoom(t, owner, "alpha", "Alpha", you)
	zeta := openRoom(t, owner, "zeta", "Zeta")
	tm, _, scr := startUI(t, you, 100, 24, Options{Room: first})
	header := func(name string) func(string) bool {
		return func(s string) bool { return strings.Contains(strings.SplitN(s, "\n", 2)[0], "│"+name) }
	}
	scr.waitFor(t, "Alpha on screen", header("Alpha"))
	typeText(tm, "/join "+zeta)
	key(tm, "esc")
	key(tm, "enter")
	scr.waitFor(t, "/join switches to Zeta", header("Zeta"))

	typeText(tm, "hello")
	key(tm, "enter")
	scr.waitText(t, "hello ✓")
	typeText(tm, "/call https://example.com/j standup")
	key(tm, "esc")
	key(tm, "enter")
	scr.waitText(t, "example.com/j")
	key(tm, "up")
	scr.waitText(t, "Editing your message", "hello")
	key(tm, "esc")
	scr.waitFor(t, "edit cancelled", func(s string) bool { return !strings.Contains(s, "Editing your message") })
	for range len("hello") {
		tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}

	typeText(tm, "bye now")
	key(tm, "enter")
	scr.waitText(t, "bye now")
	key(tm, "alt+s")
	typeText(tm, "d")
	scr.waitText(t, "Delete this message? “bye now”")
	typeText(tm, "y")
	scr.waitText(t, "message deleted")
	key(tm, "alt+s")
	typeText(tm, "c")
	scr.waitText(t, "nothing to copy")
	key(tm, "esc")

	typeText(tm, "/kno")
	scr.waitText(t, "knock: alert the room")
	key(tm, "tab")
	scr.waitFor(t, "tab took the one completion", func(s string) bool {
		return !strings.Contains(s, "knock: alert the room") && strings.Contains(s, "/knock")
	})
}

// TestTopicWithoutArgumentAsMember: a member's /topic and /name with no
// argument show the value and that only moderators and owners can change
// it, and leave the composer empty. Before, they opened the value for an
// edit that the member could not send: enter only then said why.
func TestTopicWithoutArgumentAsMember(t *testing.T) {
	rl := startRelay(t)
	owner, you := rl.session("owner"), rl.session("you")
	room := openRoom(t, owner, "plans", "Plans", you)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := owner.SetTopic(ctx, room, "Old topic"); err != nil {
		t.Fatal(err)
	}
	tm, _, scr := startUI(t, you, 100, 24, Options{Room: room})
	scr.waitText(t, "Plans — Old topic")
	for _, tc := range []struct{ cmd, want string }{
		{"/topic", "topic: Old topic (only moderators and owners can change it)"},
		{"/name", "name: Plans (only moderators and owners can change it)"},
	} {
		typeText(tm, tc.cmd)
		key(tm, "esc") // close the completion list
		key(tm, "enter")
		s := scr.waitText(t, tc.want)
		if strings.Contains(s, tc.cmd+" ") {
			t.Fatalf("%s opened the value for editing:\n%s", tc.cmd, s)
		}
		scr.waitText(t, "Write a message")
	}
}
