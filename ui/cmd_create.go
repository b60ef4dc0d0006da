package ui

// Creating rooms and direct messages from inside the client: /create NAME
// makes a room the user owns and opens it; /dm USER opens the two-member
// room with USER, creating it (and inviting USER) only when there is none.

import (
	"context"
	"errors"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/proto"
	"mimichat/session"
)

var createCommands = []*command{
	{name: "create", args: "NAME", help: "create a room you own and open it", target: targetNone, run: runCreate},
	{name: "dm", args: "USER", help: "direct messages with USER (a two-member room; reused if it exists)", target: targetNone, run: runDM},
}

// slugOf makes a room's local name from a display name: lower case letters,
// digits and dashes, at most 40 bytes.
func slugOf(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

func runCreate(m *Model, c *call) tea.Cmd {
	name := strings.TrimSpace(c.arg)
	slug := slugOf(name)
	if name == "" || !proto.ValidSlug(slug) {
		m.setNotice("usage: /create NAME (letters or digits)")
		return nil
	}
	return m.createRoom("create "+name, "created "+name, session.CreateRoomOptions{Slug: slug, Name: name}, "")
}

// dmPrefix starts the local name of a direct-message room: dm-A--B, A and
// B the two users' local names in order, so both sides find the same room.
const dmPrefix = "dm-"

func dmSlug(a, b string) string {
	a, b = shortName(a), shortName(b)
	if b < a {
		a, b = b, a
	}
	return dmPrefix + a + "--" + b
}

// isDM reports whether r is a direct-message room.
func (r *room) isDM() bool { return strings.HasPrefix(shortName(r.id), dmPrefix) }

func runDM(m *Model, c *call) tea.Cmd {
	who := strings.TrimSpace(c.arg)
	user := ""
	if strings.HasPrefix(who, "mimi://") {
		user = who
	} else if who != "" {
		q := strings.ToLower(strings.TrimPrefix(who, "@"))
		for _, r := range m.rooms { // anyone the user shares a room with
			for _, mem := range r.members {
				if strings.ToLower(m.name(mem.User)) == q || strings.ToLower(shortName(mem.User)) == q {
					user = mem.User
				}
			}
		}
	}
	if user == "" {
		m.setNotice("usage: /dm USER (a mimi:// address, or the name of someone in one of your rooms)")
		return nil
	}
	if user == m.me {
		m.setNotice("that is you")
		return nil
	}
	slug := dmSlug(m.me, user)
	for i, r := range m.rooms {
		if shortName(r.id) == slug {
			if r.info.State == proto.StateInvited {
				m.joining = r.id
				return m.moderate("join", "joined", func(ctx context.Context) error { _, err := m.s.Join(ctx, r.id); return err })
			}
			m.switchRoom(i)
			return nil
		}
	}
	return m.createRoom("start a conversation with "+m.name(user), "invited "+m.name(user),
		session.CreateRoomOptions{Slug: slug}, user)
}

// createRoom creates a room (and invites invite, for a DM) in a tea.Cmd,
// then opens it once it is listed.
func (m *Model) createRoom(what, done string, o session.CreateRoomOptions, invite string) tea.Cmd {
	s := m.s
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		res, err := s.CreateRoom(ctx, o)
		if err == nil && invite != "" {
			_, err = s.Invite(ctx, res.Room, invite)
		}
		if err != nil {
			var re *session.RelayError
			if errors.As(err, &re) && re.Reason != "" {
				return refusalMsg("cannot " + what + ": the relay refused: " + re.Reason)
			}
			return refusalMsg("cannot " + what + ": " + err.Error())
		}
		return funcMsg(func(m *Model) tea.Cmd {
			m.joining = res.Room
			m.setNotice(done)
			m.showJoined()
			return nil
		})
	}
}
