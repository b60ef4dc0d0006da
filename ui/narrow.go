package ui

// Below roomsFrom columns there is no room list: the status line counts
// the other rooms' unread messages and mentions, and f4 (show/hide the room
// list) opens the room picker instead, so other rooms' activity stays
// visible and reachable.

import (
	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
)

// roomsFrom is the width from which the room list shows.
const roomsFrom = 70

var narrowCommands = []*command{
	{name: keys.ToggleRoomList, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd {
		if m.w > 0 && m.w < roomsFrom {
			m.openRoomPicker() // no list at this width: the switcher instead
			return nil
		}
		m.hideRooms = !m.hideRooms
		return nil
	}},
}

// otherRoomsStatus is "2 rooms: 7 new @1" for the rooms not on screen that
// have unread messages, or "" when none has; the status line shows it when
// the room list does not.
func (m *Model) otherRoomsStatus() string {
	rooms, unread, mentions := 0, 0, 0
	for i, r := range m.rooms {
		if i == m.cur {
			continue
		}
		if u, n := m.shownUnread(r), r.mentions(); u > 0 || n > 0 {
			rooms++
			unread += u
			mentions += n
		}
	}
	if rooms == 0 {
		return ""
	}
	s := itoa(rooms) + " room"
	if rooms > 1 {
		s += "s"
	}
	s += ": " + itoa(unread) + " new"
	if mentions > 0 {
		s += " @" + itoa(mentions)
	}
	return s
}
