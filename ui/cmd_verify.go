package ui

// /verify: the safety number of the user and another member of an end-to-end
// encrypted room, to compare out of band, and the mark that they matched.
// Reading the number and marking touch the cache, so both run in a tea.Cmd.

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"mimichat/session"
)

var verifyCommands = []*command{
	{name: "verify", args: "USER [yes]", help: "show the safety number to compare with USER; 'yes' marks USER verified",
		target: targetRoom, run: runVerify},
}

// verifyMsg is a safety number read (or marked, when marked is set).
type verifyMsg struct {
	room, user string
	number     string
	status     session.Verification
	marked     bool
	err        error
}

func runVerify(m *Model, c *call) tea.Cmd {
	user, rest, ok := m.userArg(c.r, "verify", c.arg)
	if !ok {
		return nil
	}
	mark := false
	switch strings.ToLower(rest) {
	case "":
	case "yes":
		mark = true
	default:
		m.setNotice("usage: /verify USER, then /verify USER yes once the numbers match")
		return nil
	}
	if user == m.me {
		m.setNotice("a safety number is between you and someone else: /verify THEIR-NAME")
		return nil
	}
	if !c.r.crypto.Encrypted {
		m.setNotice("this room is not end-to-end encrypted: there is no safety number to compare")
		return nil
	}
	s, room := m.s, c.r.id
	return func() tea.Msg {
		v := verifyMsg{room: room, user: user, marked: mark}
		if mark {
			v.number, v.err = s.MarkVerified(room, user)
			v.status = session.Verified
		} else if v.number, v.err = s.SafetyNumber(room, user); v.err == nil {
			v.status, v.err = s.Verification(room, user)
		}
		return v
	}
}

// onVerify shows a safety number in a box, or says the user is verified.
func (m *Model) onVerify(v verifyMsg) {
	who := m.name(v.user)
	if v.err != nil {
		m.setRefusal("cannot show the safety number with " + who + ": " + v.err.Error())
		return
	}
	if v.marked {
		m.setNotice(who + " is verified: safety number " + v.number)
		return
	}
	groups := strings.Fields(v.number)
	lines := []string{"Safety number of you and " + who + ":", ""}
	for i := 0; i < len(groups); i += 4 {
		lines = append(lines, "  "+strings.Join(groups[i:min(i+4, len(groups))], " "))
	}
	lines = append(lines, "", "Status: "+v.status.String(), "",
		"Compare it with "+who+" in person or on a call.",
		"If both screens show the same digits: /verify "+shortName(v.user)+" yes",
		"A new device or key of either of you changes the number.")
	m.ov = newInfoDialog(m.km, "Verify "+who, infoText(lines...))
}
