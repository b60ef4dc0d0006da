package ui

// Commands on rooms: settings and membership (the relay authorizes them),
// and moving between rooms.

import (
	"context"
	"strings"

	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
	"mimichat/render"
)

var roomCommands = []*command{
	{name: "topic", args: "[TEXT|" + clearArg + "]", help: "set the room topic (without TEXT: edit the current one)", target: targetRoom, may: moderators,
		run: func(m *Model, c *call) tea.Cmd {
			return m.roomSetting(c, "topic", c.r.info.Topic, "topic set", func(ctx context.Context, v string) error { _, err := m.s.SetTopic(ctx, c.r.id, v); return err })
		}},
	{name: "name", args: "[TEXT|" + clearArg + "]", help: "rename the room (without TEXT: edit the current name)", target: targetRoom, may: moderators,
		run: func(m *Model, c *call) tea.Cmd {
			return m.roomSetting(c, "name", c.r.info.Name, "room renamed", func(ctx context.Context, v string) error { _, err := m.s.SetName(ctx, c.r.id, v); return err })
		}},
	{name: "join", args: "[ROOM-URI]", help: "join a room (this one, when invited)", target: targetNone,
		run: func(m *Model, c *call) tea.Cmd {
			room := c.arg
			if room == "" && c.r != nil {
				room = c.r.id // accept the invitation to the room on screen
			}
			m.joining = room // shown once it is listed (now or when its room event comes)
			return m.moderate("join", "joined", func(ctx context.Context) error { _, err := m.s.Join(ctx, room); return err })
		}},
	{name: "leave", help: "leave this room", target: targetRoom,
		run: func(m *Model, c *call) tea.Cmd {
			return m.moderate("leave "+c.r.title(), "left "+c.r.title(), func(ctx context.Context) error { _, err := m.s.Leave(ctx, c.r.id); return err })
		}},
	{name: "invite", args: "USER-URI", help: "invite a user", target: targetRoom, may: moderators,
		run: func(m *Model, c *call) tea.Cmd {
			return m.moderate("invite", "invited", func(ctx context.Context) error { _, err := m.s.Invite(ctx, c.r.id, c.arg); return err })
		}},
	{name: "room", args: "NAME", help: "switch to a room", target: targetRoom, run: runRoom},
	{name: keys.RoomPicker, slash: "rooms", help: "find a room (picker)", target: targetNone,
		run: func(m *Model, _ *call) tea.Cmd { m.openRoomPicker(); return nil }},
	{name: keys.NextRoom, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd { m.switchRoom(m.cur + 1); return nil }},
	{name: keys.PrevRoom, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd { m.switchRoom(m.cur - 1); return nil }},
	roomN(keys.Room1, 0), roomN(keys.Room2, 1), roomN(keys.Room3, 2), roomN(keys.Room4, 3), roomN(keys.Room5, 4),
	roomN(keys.Room6, 5), roomN(keys.Room7, 6), roomN(keys.Room8, 7), roomN(keys.Room9, 8),
	{name: keys.NextUnread, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd {
		m.nextRoomWhere(func(r *room) bool { return m.shownUnread(r) > 0 || r.mentions() > 0 }, "no unread rooms")
		return nil
	}},
	{name: keys.NextMention, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd {
		m.nextRoomWhere(func(r *room) bool { return r.mentions() > 0 }, "no mentions")
		return nil
	}},
	{name: keys.OpenRoom, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd { m.focusComposer(); return nil }},
}

// roomN switches to the i-th room of the list (alt+1…9).
func roomN(a keys.Action, i int) *command {
	return &command{name: a, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd { m.switchRoom(i); return nil }}
}

func runRoom(m *Model, c *call) tea.Cmd {
	q := strings.ToLower(c.arg)
	for i, rr := range m.rooms {
		if strings.Contains(strings.ToLower(rr.title()), q) {
			m.switchRoom(i)
			return nil
		}
	}
	m.setNotice("no room matches " + c.arg)
	return nil
}

// clearArg empties a room setting: with no argument /topic and /name only
// show the value, so wiping it takes a word that says so.
const clearArg = "--clear"

// roomSetting runs /topic or /name: with no argument it shows the current
// value and puts it in the composer to edit (it never wipes it), with
// clearArg it empties it, else it sets it.
func (m *Model) roomSetting(c *call, what, current, done string, set func(ctx context.Context, v string) error) tea.Cmd {
	switch c.arg {
	case "":
		if moderators.limited(m, c.r) {
			// Shown, not opened for an edit the relay would refuse on enter.
			if current == "" {
				current = "none"
			}
			m.setNotice(what + ": " + current + " (only " + moderators.who + " can change it)")
			return nil
		}
		if current == "" {
			m.setNotice("no " + what + " yet: /" + what + " TEXT sets it")
		} else {
			m.setNotice(what + ": " + current + " (edit it and press enter; /" + what + " " + clearArg + " clears it)")
		}
		// the value came from the network: the composer shows it sanitized
		m.comp.setValue("/" + what + " " + render.SanitizeLine(current))
		return m.focusAndKeep()
	case clearArg:
		return m.moderate("clear the "+what, what+" cleared", func(ctx context.Context) error { return set(ctx, "") })
	}
	arg := c.arg
	return m.moderate("set the "+what, done, func(ctx context.Context) error { return set(ctx, arg) })
}
