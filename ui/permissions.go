package ui

// What the user may not do is refused before anything is sent, with the
// reason (issue 14, defect 8), and left out of the one-line key help. The
// relay's own room policy (relay/rooms.go) is the authority for room
// operations: moderators and owners may change the name, topic and
// read-receipt policy, invite, kick, ban, unban and change roles; a kick or
// ban needs a role above the target's (an owner may act on anyone); a role
// can be granted up to one's own. The client checks the same rules against
// the role it knows, so a forbidden action says why at once; when the
// client does not know the role, the relay decides and its refusal is
// shown as a refusal.

import (
	"mimichat/keys"
	"mimichat/proto"
)

// roleRefusal is why the user may not run c in the room (its capability's
// minimum role above the user's known role), or "". A command whose
// arguments are optional only shows something without them (/topic shows
// the topic), so that is not refused.
func (m *Model) roleRefusal(c *command, cl *call) string {
	if c.may == nil || cl.r == nil || !c.may.limited(m, cl.r) {
		return ""
	}
	if cl.slash && cl.arg == "" && len(c.args) > 0 && c.args[0] == '[' {
		return ""
	}
	return "you cannot use /" + c.slash + " in " + cl.r.title() + ": only " + c.may.who + " can (you are " +
		article(string(m.myRole(cl.r))) + ")"
}

// targetRefusal is why the user may not kick or ban user in r (verb
// "remove" or "ban"): a moderator cannot act on a moderator or an owner.
func (m *Model) targetRefusal(r *room, verb, user string) string {
	mine := m.myRole(r)
	if mine == "" || mine == proto.RoleOwner {
		return ""
	}
	for _, mem := range r.members {
		if mem.User == user && mem.Role.Rank() >= mine.Rank() {
			return "you cannot " + verb + " " + m.name(user) + ": " + article(string(mine)) + " cannot " + verb + " " +
				article(string(mem.Role))
		}
	}
	return ""
}

// roleGrantRefusal is why the user may not give user role in r.
func (m *Model) roleGrantRefusal(r *room, user string, role proto.Role) string {
	mine := m.myRole(r)
	switch {
	case mine == "" || mine == proto.RoleOwner:
		return ""
	case role.Rank() > mine.Rank():
		return "you cannot make " + m.name(user) + " " + string(role) + ": " + article(string(mine)) + " can grant up to " + string(mine)
	case user == m.me:
		return "you cannot change your own role: only an owner can"
	}
	for _, mem := range r.members {
		if mem.User == user && mem.Role.Rank() >= mine.Rank() {
			return "you cannot change " + m.name(user) + "'s role: " + article(string(mine)) + " cannot change the role of " +
				article(string(mem.Role))
		}
	}
	return ""
}

func article(role string) string {
	switch {
	case role == "":
		return "not a member"
	case role[0] == 'o' || role[0] == 'a' || role[0] == 'e' || role[0] == 'i' || role[0] == 'u':
		return "an " + role
	}
	return "a " + role
}

// hintKey is what hintApplies depends on, for the help line's cache: the
// room's invitation state, the user's role there, and whether a message of
// someone else is selected.
type hintKey struct {
	room    string
	invited bool
	role    proto.Role
	other   bool
}

func (m *Model) hintKey() hintKey {
	r := m.current()
	if r == nil {
		return hintKey{}
	}
	k := hintKey{room: r.id, invited: r.info.State == proto.StateInvited, role: m.myRole(r)}
	if m.focus != keys.Composer {
		if _, it, ok := m.selected(); ok {
			k.other = it.Sender != m.me
		}
	}
	return k
}

// hintApplies reports whether the one-line help lists action a where the
// focus is: not when its command would be refused for the selected message
// or the room (deleting or editing another person's message as a member,
// accepting with no invitation, a moderator command as a member).
func (m *Model) hintApplies(a keys.Action) bool {
	c, ok := byAction[a]
	if !ok {
		return true
	}
	r := m.current()
	if r == nil {
		return c.target == targetNone
	}
	cl := &call{ctx: m.focus, r: r}
	if _, it, ok := m.selected(); ok && m.focus != keys.Composer {
		cl.it = it
		if a == keys.Edit && it.Sender != m.me {
			return false
		}
	} else if c.target == targetMessage {
		return true // no selection yet: the key says how to make one
	}
	if c.may == nil {
		return true
	}
	if c.may.limited(m, r) {
		return false
	}
	return c.may.refuse == nil || c.may.refuse(m, cl) == ""
}
