package ui

// The member list at any width: /members (alt+w) opens it as an overlay;
// f3 shows or hides the member pane from 120 columns and opens the overlay
// below that, where there is no pane.

import (
	"sort"

	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
	"mimichat/proto"
	"mimichat/render"
	"mimichat/session"
)

var memberCommands = []*command{
	{name: keys.FocusMembers, slash: "members", help: "list the room's members (presence, role, address)", target: targetRoom,
		run: func(m *Model, c *call) tea.Cmd { m.openMembers(c.r); return nil }},
	{name: keys.ToggleMembers, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd {
		if m.w < membersFrom {
			if r := m.current(); r != nil {
				m.openMembers(r) // no pane at this width: the overlay instead
			}
			return nil
		}
		m.hideMembers = !m.hideMembers
		return nil
	}},
}

// membersFrom is the width from which the member pane shows.
const membersFrom = 120

// roomMembers are r's joined members (all of them when none is marked
// joined), owners first, then by name.
func (m *Model) roomMembers(r *room) []proto.Member {
	mems := make([]proto.Member, 0, len(r.members))
	for _, mem := range r.members {
		if mem.State == proto.StateJoined || mem.State == "" {
			mems = append(mems, mem)
		}
	}
	if len(mems) == 0 {
		mems = append(mems, r.members...)
	}
	sort.SliceStable(mems, func(i, j int) bool {
		if mems[i].Role.Rank() != mems[j].Role.Rank() {
			return mems[i].Role.Rank() > mems[j].Role.Rank()
		}
		return m.memberName(r, mems[i].User) < m.memberName(r, mems[j].User)
	})
	return mems
}

// presenceMark is ● online, ◐ away or ○ unknown.
func (m *Model) presenceMark(r *room, user string) string {
	switch p := r.presence[user]; {
	case p == "online" || user == m.me && m.conn.State == session.Online:
		return "●"
	case p == "away":
		return "◐"
	}
	return "○"
}

// openMembers shows r's members in a box, kept current while it is open.
func (m *Model) openMembers(r *room) {
	m.ov = &membersDialog{m: m, r: r, info: newInfoDialog(m.km, "", nil)}
}

// membersDialog is the member overlay: an infoDialog whose lines are
// drawn from the room at each frame (members and presence load and change
// while it is open).
type membersDialog struct {
	m    *Model
	r    *room
	info *infoDialog // scroll position and keys
}

func (d *membersDialog) Context() keys.Context { return keys.Dialog }

func (d *membersDialog) Update(msg tea.Msg) (dialog, tea.Cmd) {
	d.info.lines = d.m.memberInfo(d.r)
	next, cmd := d.info.Update(msg)
	if next == nil {
		return nil, cmd
	}
	return d, cmd
}

func (d *membersDialog) fit(width, height int) {
	d.info.lines = d.m.memberInfo(d.r)
	d.info.fit(width, height)
}

func (d *membersDialog) View(th *render.Theme, width, height int) string {
	lines := d.m.memberInfo(d.r)
	info := *d.info
	info.lines, info.title = lines, "Members "+itoa(d.m.memberCount(d.r))+" · "+d.r.title()
	return info.View(th, width, height)
}

func (m *Model) memberCount(r *room) int { return len(m.roomMembers(r)) }

// memberInfo is one line per member: presence, name, role, URI.
func (m *Model) memberInfo(r *room) []infoLine {
	mems := m.roomMembers(r)
	if len(mems) == 0 {
		return []infoLine{{text: "no members known yet", muted: true}}
	}
	lines := make([]infoLine, 0, len(mems))
	for _, mem := range mems {
		role := ""
		switch mem.Role {
		case proto.RoleOwner:
			role = " ★ owner"
		case proto.RoleModerator:
			role = " ◆ moderator"
		}
		if _, typing := r.typing[mem.User]; typing {
			role += " …"
		}
		// the display name first (an imported profile's, sanitized), the URI after it
		lines = append(lines, infoLine{text: m.presenceMark(r, mem.User) + " " + render.SanitizeLine(m.memberName(r, mem.User)) + role +
			"  " + render.SanitizeLine(mem.User), hang: 2})
	}
	return lines
}
