package ui

import (
	"strings"
	"testing"

	"mimichat/content"
	"mimichat/session"
)

// TestE2EENoticeText: a message this device could not decrypt, one it
// refused and a change in a member's devices read as what they are.
func TestE2EENoticeText(t *testing.T) {
	m := &Model{}
	const bob = "mimi://example.com/u/bob"
	for _, c := range []struct {
		ev   content.RoomEvent
		want string
	}{
		{content.RoomEvent{Kind: content.EventUndecryptable, Actor: bob, Text: "sent before this device's keys of the room begin"},
			"⚠ cannot decrypt a message from bob: sent before this device's keys of the room begin"},
		{content.RoomEvent{Kind: content.EventUndecryptable, Actor: bob, Text: `refused: encrypted by a device of "mimi://example.com/u/eve" but relayed as from "mimi://example.com/u/bob"`},
			`⚠ refused a message from bob: encrypted by a device of "mimi://example.com/u/eve" but relayed as from "mimi://example.com/u/bob"`},
		{content.RoomEvent{Kind: content.EventSecurityNotice, Actor: bob, Text: "added a device (laptop)"},
			"🔒 bob added a device (laptop)"},
	} {
		if got := m.eventText(c.ev); got != c.want {
			t.Errorf("%s: %q, want %q", c.ev.Kind, got, c.want)
		}
	}
}

// TestLockMark: the header says whether the relay can read the room.
func TestLockMark(t *testing.T) {
	for _, c := range []struct {
		c    session.RoomCrypto
		want string
	}{
		{session.RoomCrypto{}, "🔓"},
		{session.RoomCrypto{Encrypted: true, HasState: true, Epoch: 3}, "🔒"},
		{session.RoomCrypto{Encrypted: true}, "⚠"},
		{session.RoomCrypto{Encrypted: true, HasState: true, Broken: "a commit did not apply"}, "⚠"},
	} {
		if got, _ := lockMark(c.c); got != c.want {
			t.Errorf("%+v: %q, want %q", c.c, got, c.want)
		}
	}
}

// TestVerifyCommand: /verify bob shows the safety number bob's own client
// computes for alice, grouped for reading aloud; /verify bob yes marks bob
// verified; a plaintext room has nothing to verify.
func TestVerifyCommand(t *testing.T) {
	rl := startRelay(t)
	alice := rl.session("alice")
	bob := rl.session("bob")
	room := openRoom(t, alice, "secret", "Secret", bob)
	if !alice.Crypto(room).Encrypted {
		t.Fatalf("room %s is not end-to-end encrypted", room)
	}
	tm, _, scr := startUI(t, alice, 130, 30, Options{Room: room})
	scr.waitText(t, "🔒")
	scr.waitMember(t, "bob")
	want, err := bob.SafetyNumber(room, alice.User())
	if err != nil {
		t.Fatal(err)
	}
	groups := strings.Fields(want)
	if len(groups) != 12 {
		t.Fatalf("safety number %q: want 12 groups of 5 digits", want)
	}
	typeText(tm, "/verify bob")
	key(tm, "esc") // close completion
	key(tm, "enter")
	txt := scr.waitText(t, "Safety number of you and bob:", "Status: unverified", strings.Join(groups[:4], " "))
	for i := 0; i < 12; i += 4 {
		if !strings.Contains(txt, strings.Join(groups[i:i+4], " ")) {
			t.Fatalf("the dialog lacks groups %d-%d of bob's number %q:\n%s", i+1, i+4, want, txt)
		}
	}
	key(tm, "esc")
	typeText(tm, "/verify bob yes")
	key(tm, "esc")
	key(tm, "enter")
	scr.waitText(t, "bob is verified")
	if v, err := alice.Verification(room, bob.User()); err != nil || v != session.Verified {
		t.Fatalf("verification %v, %v; want verified", v, err)
	}
}
