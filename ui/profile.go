package ui

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/proto"
	"mimichat/render"
	"mimichat/session"
)

// Room profiles: what imported histories said about a room (its
// description) and its members (display names, roles), kept by the cache
// (session.Store.Profile, issue 15). The member pane shows the description
// above the members and uses the display names; a room the relay gives no
// member list for (a local room an import made) lists the members the
// history named. Loaded at start, again for the room on screen every few
// seconds and when its members change (refreshProfile), off the Update loop; the text came from a
// file or another client, so it is sanitized when drawn.

// roomProfile is a room's loaded profile.
type roomProfile struct {
	description []session.RoomDescription
	members     []session.MemberProfile
	names       map[string]string // user → display name
}

type profileMsg struct {
	room    string
	profile *roomProfile
}

// loadProfile reads room's profile from the store (a tea.Cmd: disk I/O).
func (m *Model) loadProfile(room string) tea.Cmd {
	st := m.s.Store()
	if st == nil {
		return nil
	}
	return func() tea.Msg {
		p, ms, err := st.Profile(room)
		if err != nil || len(p.Description) == 0 && len(ms) == 0 {
			return profileMsg{room: room} // nothing to show; a read error shows as nothing too
		}
		rp := &roomProfile{description: p.Description, members: ms, names: map[string]string{}}
		for _, mem := range ms {
			if mem.Name != "" {
				rp.names[mem.User] = mem.Name
			}
		}
		return profileMsg{room: room, profile: rp}
	}
}

// profileEvery is how often the room on screen reads its profile again, so
// an import into the running client's data directory (mimichat import) or
// a shared history shows without a restart; a member change reads it at
// once.
const profileEvery = 5 * time.Second

// refreshProfile reloads the profile of the room on screen when it is
// profileEvery old (called on the clock's tick).
func (m *Model) refreshProfile() tea.Cmd {
	r := m.current()
	if r == nil || m.now().Sub(m.profileAt) < profileEvery && m.profileRoom == r.id {
		return nil
	}
	m.profileAt, m.profileRoom = m.now(), r.id
	return m.loadProfile(r.id)
}

func (m *Model) onProfile(msg profileMsg) {
	if r, ok := m.byID[msg.room]; ok {
		r.profile = msg.profile
	}
}

// memberName is how the member pane names uri in r: the configured name,
// else the display name a history gave, else the URI's last segment.
func (m *Model) memberName(r *room, uri string) string {
	if n, ok := m.opt.Names[uri]; ok {
		return n
	}
	if r != nil && r.profile != nil {
		if n := r.profile.names[uri]; n != "" {
			return n
		}
	}
	return m.name(uri)
}

// profileMembers lists the members a history named, with their MIMI roles
// where the relay knows them.
func (r *room) profileMembers() []proto.Member {
	if r.profile == nil {
		return nil
	}
	out := make([]proto.Member, 0, len(r.profile.members))
	for _, mem := range r.profile.members {
		role := proto.Role(strings.ToLower(mem.Role))
		if role.Rank() == 0 {
			role = proto.RoleMember
		}
		out = append(out, proto.Member{User: mem.User, Role: role})
	}
	return out
}

// aboutLines is the room description at the top of the member pane: the
// first description, up to 3 lines of it, then a blank line.
func (m *Model) aboutLines(r *room, w int) []string {
	if r.profile == nil || len(r.profile.description) == 0 || w < 8 {
		return nil
	}
	out := []string{m.th.Styles.Muted.Bold(true).Render("About")}
	out = append(out, render.Fit(r.profile.description[0].Content, w, 3)...)
	return append(out, "")
}
