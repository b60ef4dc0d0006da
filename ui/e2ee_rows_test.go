package ui

import (
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
