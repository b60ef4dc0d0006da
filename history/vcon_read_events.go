package history

// vCon import of party_history: membership and room changes.

import (
	"fmt"
	"strconv"
	"strings"

	"mimichat/content"
)

func (vr *vconReader) partyEvent(pe *vPartyEvent, seq uint64, path string) error {
	ms, err := parseTime(pe.Time, vr.report)
	if err != nil {
		return &ImportError{Format: FormatVCon, Path: path + ".time", Rule: "want an RFC 3339 time", Err: err}
	}
	ev := content.RoomEvent{Seq: seq, HubTime: ms}
	if pe.Originator != nil {
		if ev.Actor, err = vr.party(*pe.Originator, path+".originator"); err != nil {
			return err
		}
	}
	emit := func(ev content.RoomEvent) error {
		e := ev
		return vr.emit(&Item{Seq: seq, Time: ms, Sender: ev.Actor, Event: &e})
	}
	if pe.Event == "room" {
		if pe.Room == nil {
			return &ImportError{Format: FormatVCon, Path: path + ".room", Rule: "a room event needs a room object"}
		}
		n := 0
		for _, c := range []struct {
			k content.RoomEventKind
			v string
		}{{content.EventRoomName, pe.Room.Name}, {content.EventRoomTopic, pe.Room.Subject}, {content.EventRoomAvatar, pe.Room.Avatar}} {
			if c.v != "" {
				ev.Kind, ev.Text = c.k, c.v
				if err := emit(ev); err != nil {
					return err
				}
				n++
			}
		}
		vr.report.Drop("room mood and description changes", boolInt(pe.Room.Mood != "" || len(pe.Room.Description) > 0))
		if n == 0 {
			vr.report.Drop("room events with no name, subject or avatar", 1)
		}
		return nil
	}
	if ev.Target, err = vr.party(pe.Party, path+".party"); err != nil {
		return err
	}
	name := pe.Event
	if pe.MIMIChatEvent != "" {
		name = pe.MIMIChatEvent
	}
	if name == "self_add" || ev.Actor == "" && name == "add" {
		ev.Actor = ev.Target
	}
	if name == "update" || name == "role" {
		if pe.Role == "" {
			vr.report.Drop("member name updates (party_history update without role)", 1)
			return nil
		}
		role, ok := parseRole(pe.Role)
		if !ok {
			return &ImportError{Format: FormatVCon, Path: path + ".role", Rule: "unknown role " + strconv.Quote(pe.Role)}
		}
		ev.Kind, ev.Role = content.EventRoleChange, role
		return emit(ev)
	}
	k, ok := partyEventKind(name)
	if !ok {
		vr.report.Drop(fmt.Sprintf("party_history events %q", pe.Event), 1)
		return nil
	}
	ev.Kind = k
	return emit(ev)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func parseRole(s string) (content.MemberRole, bool) {
	for r := content.RoleNone; r <= content.RoleOwner; r++ {
		if strings.EqualFold(r.String(), s) {
			return r, true
		}
	}
	return 0, false
}
