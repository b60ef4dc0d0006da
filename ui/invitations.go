package ui

// Invitations from the room list (issue 14): a room the user is invited to
// is listed with ✉; on it, "a" (/accept) joins and "x" (/decline) declines,
// which the session does as a leave (in an encrypted room it first joins
// the Welcome's group to propose its own removal). A declined room leaves
// the list, for good: the declines are kept in the cache (meta key
// ui.declined), since the session keeps the room, as it keeps a room left,
// and its cached state may still say invited when the client quits before
// the relay's room list said otherwise. A new invitation to it lists it
// again.

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
	"mimichat/proto"
	"mimichat/session"
)

var invitationCommands = []*command{
	{name: keys.AcceptInvite, slash: "accept", help: "accept the invitation to this room (join it)", target: targetRoom, may: invited,
		run: func(m *Model, c *call) tea.Cmd {
			m.joining = c.r.id // shown as joined once its room event comes
			title := c.r.title()
			return m.moderate("accept the invitation to "+title, "joined "+title, func(ctx context.Context) error { _, err := m.s.Join(ctx, c.r.id); return err })
		}},
	{name: keys.DeclineInvite, slash: "decline", help: "decline the invitation to this room", target: targetRoom, may: invited, run: runDecline},
}

// invited is the capability of accepting or declining: an invitation to
// the room on screen.
var invited = &capability{who: "rooms you are invited to", min: "",
	refuse: func(m *Model, c *call) string {
		if c.r.info.State != proto.StateInvited {
			return "no invitation to " + c.r.title() + " to accept or decline"
		}
		return ""
	}}

// declinedMsg says the decline of room went through: it leaves the list.
type declinedMsg struct{ room, title string }

func runDecline(m *Model, c *call) tea.Cmd {
	s, room, title := m.s, c.r.id, c.r.title()
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_, err := s.Leave(ctx, room)
		var re *session.RelayError
		switch {
		case errors.As(err, &re) && re.Reason != "":
			return refusalMsg("cannot decline the invitation to " + title + ": the relay refused: " + re.Reason)
		case err != nil:
			return refusalMsg("cannot decline the invitation to " + title + ": " + err.Error())
		}
		return declinedMsg{room: room, title: title}
	}
}

// onDeclined drops the declined room from the list, unless something made
// the user a member meanwhile.
func (m *Model) onDeclined(msg declinedMsg) {
	m.setNotice("declined the invitation to " + msg.title)
	r, ok := m.byID[msg.room]
	if !ok || r.info.State == proto.StateJoined {
		return
	}
	m.declined[msg.room] = false // the relay's room list has not said so yet
	m.declinedDirty = true
	m.dropRoom(r)
}

// dropRoom takes r off the list; the room on screen stays the same one
// unless it was r.
func (m *Model) dropRoom(r *room) {
	cur := m.current()
	for i, rr := range m.rooms {
		if rr == r {
			m.rooms = append(m.rooms[:i:i], m.rooms[i+1:]...)
			break
		}
	}
	delete(m.byID, r.id)
	m.cur = 0
	for i, rr := range m.rooms {
		if rr == cur {
			m.cur = i
		}
	}
	if cur == r { // the composer was r's: the room now on screen gets its own draft
		m.swapDraft(nil, m.current())
	}
	if m.focus == keys.Timeline {
		m.focusComposer()
	}
}

// keepDeclined reports whether a room event (or a room at start) for a
// declined room is to be ignored. It is while the user is not in the room;
// while still invited only until the relay's room list confirmed the
// decline (the session may still list the invitation it heard of before
// it): an invitation after that is a new one. Joining forgets the decline.
func (m *Model) keepDeclined(info session.Room) bool {
	confirmed, ok := m.declined[info.ID]
	if !ok {
		return false
	}
	switch info.State {
	case proto.StateJoined:
	case proto.StateInvited:
		if !confirmed {
			return true
		}
	default: // none or banned: the relay no longer lists the invitation
		if !confirmed {
			m.declined[info.ID] = true
			m.declinedDirty = true
		}
		return true
	}
	delete(m.declined, info.ID)
	m.declinedDirty = true
	return false
}

// declinedKey is the cache's meta key of the declined invitations: one
// line per room, "ROOM 1" once the relay's room list confirmed it, else
// "ROOM 0".
const declinedKey = "ui.declined"

// loadDeclined reads the declined invitations (New: before the program
// starts).
func loadDeclined(st *session.Store) map[string]bool {
	out := map[string]bool{}
	v, _ := st.Meta(declinedKey)
	for _, line := range strings.Split(v, "\n") {
		id, c, ok := strings.Cut(line, " ")
		if ok && id != "" && (c == "0" || c == "1") {
			out[id] = c == "1"
		}
	}
	return out
}

// saveDeclined writes the declines when they changed, in a tea.Cmd (the
// newest declines win, ui/metasave.go).
func (m *Model) saveDeclined() tea.Cmd {
	if !m.declinedDirty {
		return nil
	}
	m.declinedDirty = false
	return m.declinedSave.save(m.s.Store(), declinedValue(m.declined))
}

func declinedValue(declined map[string]bool) string {
	lines := make([]string, 0, len(declined))
	for id, confirmed := range declined {
		c := "0"
		if confirmed {
			c = "1"
		}
		lines = append(lines, id+" "+c)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
