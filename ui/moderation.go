package ui

// Moderation and room-policy /commands: kick, ban, unban, role and the
// read-receipt policy. The relay decides who may do what (room-policy
// roles); the UI only names the person and shows the relay's reason when it
// refuses, so the rules live in one place.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

var moderationCommands = []*command{
	{name: "kick", args: "USER [reason]", help: "remove someone from the room", target: targetRoom, may: moderators, run: runKick},
	{name: "ban", args: "USER [reason]", help: "remove someone and keep them out", target: targetRoom, may: moderators, run: runBan},
	{name: "unban", args: "USER", help: "let a banned person join again", target: targetRoom, may: moderators, run: runUnban},
	{name: "role", args: "USER owner|moderator|member", help: "change someone's role (up to your own)", target: targetRoom, may: moderators, run: runRole},
	{name: "read-receipts", args: "[on|off]", help: "show or set whether this room allows read receipts (setting: moderators and owners)",
		target: targetRoom, run: runReadReceipts},
}

func runKick(m *Model, c *call) tea.Cmd {
	user, reason, ok := m.userArg(c.r, "kick", c.arg)
	if !ok {
		return nil
	}
	if why := m.targetRefusal(c.r, "remove", user); why != "" {
		m.setRefusal(why)
		return nil
	}
	return m.moderate("remove "+m.name(user), "removed "+m.name(user), func(ctx context.Context) error { _, err := m.s.Kick(ctx, c.r.id, user, reason); return err })
}

func runBan(m *Model, c *call) tea.Cmd {
	user, reason, ok := m.userArg(c.r, "ban", c.arg)
	if !ok {
		return nil
	}
	if why := m.targetRefusal(c.r, "ban", user); why != "" {
		m.setRefusal(why)
		return nil
	}
	return m.moderate("ban "+m.name(user), "banned "+m.name(user), func(ctx context.Context) error { _, err := m.s.Ban(ctx, c.r.id, user, reason); return err })
}

func runUnban(m *Model, c *call) tea.Cmd {
	user, rest, ok := m.userArg(c.r, "unban", c.arg)
	if !ok {
		return nil
	}
	if rest != "" {
		m.setNotice("usage: /unban USER")
		return nil
	}
	return m.moderate("unban "+m.name(user), "unbanned "+m.name(user), func(ctx context.Context) error { _, err := m.s.Unban(ctx, c.r.id, user); return err })
}

func runRole(m *Model, c *call) tea.Cmd {
	user, rest, ok := m.userArg(c.r, "role", c.arg)
	if !ok {
		return nil
	}
	role := proto.Role(strings.ToLower(rest))
	if role.Rank() == 0 {
		m.setNotice("usage: /role USER owner|moderator|member")
		return nil
	}
	if why := m.roleGrantRefusal(c.r, user, role); why != "" {
		m.setRefusal(why)
		return nil
	}
	return m.moderate("make "+m.name(user)+" "+string(role), m.name(user)+" is now "+string(role), func(ctx context.Context) error {
		_, err := m.s.SetRole(ctx, c.r.id, user, role)
		return err
	})
}

func runReadReceipts(m *Model, c *call) tea.Cmd {
	r, arg := c.r, c.arg
	switch strings.ToLower(arg) {
	case "":
		state := "on"
		if !m.roomAllowsReadReceipts(r) {
			state = "off"
		}
		mine := ""
		if m.opt.NoReadReceipts {
			mine = " (you send none: ui.read_receipts = false)"
		}
		m.setNotice("read receipts in " + r.title() + ": " + state + mine)
		return nil
	case "on", "off":
		if role := m.myRole(r); role != "" && role.Rank() < proto.RoleModerator.Rank() {
			m.setRefusal("you cannot turn read receipts " + strings.ToLower(arg) + " in " + r.title() +
				": only moderators and owners can (you are " + article(string(role)) + ")")
			return nil
		}
		on := strings.EqualFold(arg, "on")
		return m.moderate("turn read receipts "+strings.ToLower(arg), "read receipts "+strings.ToLower(arg), func(ctx context.Context) error {
			_, err := m.s.SetReadReceipts(ctx, r.id, on)
			return err
		})
	}
	m.setNotice("usage: /read-receipts on|off")
	return nil
}

// moderate runs a room operation and reports it; a refusal shows the
// relay's own reason.
func (m *Model) moderate(what, done string, op func(ctx context.Context) error) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		err := op(ctx)
		var re *session.RelayError
		switch {
		case errors.As(err, &re) && re.Reason != "":
			return refusalMsg("cannot " + what + ": the relay refused: " + re.Reason)
		case err != nil:
			return refusalMsg("cannot " + what + ": " + err.Error())
		}
		return noticeMsg(done)
	}
}

// roomAllowsReadReceipts is the room's read-receipt policy: off when the
// loaded timeline's latest policy event says so, or when the relay told the
// session so (the policy event may be older than the loaded history).
func (m *Model) roomAllowsReadReceipts(r *room) bool {
	on := true
	r.tl.Read(func(v content.View) { on = v.ReadReceipts() })
	return on && m.s.ReadReceipts(r.id)
}

// userArg splits "USER rest" and finds USER among the room's members by
// URI, @name or name (case-insensitive). It sets a notice and returns
// false when there is no such member or the name is ambiguous.
func (m *Model) userArg(r *room, cmd, arg string) (user, rest string, ok bool) {
	who, rest, _ := strings.Cut(strings.TrimSpace(arg), " ")
	rest = strings.TrimSpace(rest)
	if who == "" {
		m.setNotice(fmt.Sprintf("usage: /%s USER (type @ to complete a name)", cmd))
		return "", "", false
	}
	if strings.HasPrefix(who, "mimi://") {
		return who, rest, true
	}
	q := strings.ToLower(strings.TrimPrefix(who, "@"))
	var found []string
	for _, mem := range r.members {
		if strings.ToLower(m.name(mem.User)) == q || strings.ToLower(shortName(mem.User)) == q ||
			strings.ToLower(m.memberName(r, mem.User)) == q {
			found = append(found, mem.User)
		}
	}
	switch len(found) {
	case 1:
		return found[0], rest, true
	case 0:
		m.setNotice("no member " + who + " here (type @ to complete a name)")
	default:
		m.setNotice(who + " is ambiguous: " + strings.Join(found, ", "))
	}
	return "", "", false
}

// userArgCommands take a user as their first argument; @ completion there
// inserts the user's URI instead of a mention.
var userArgCommands = []string{"kick", "ban", "unban", "role", "share-history", "verify", "dm", "invite"}

// completesUserArg reports whether before (the composer text before the
// token being completed) is "/CMD " for a command taking a user first.
func completesUserArg(before string) bool {
	name, ok := strings.CutPrefix(before, "/")
	if !ok {
		return false
	}
	name, ok = strings.CutSuffix(name, " ")
	if !ok || strings.Contains(name, " ") {
		return false
	}
	for _, c := range userArgCommands {
		if c == name {
			return true
		}
	}
	return false
}
