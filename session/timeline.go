package session

import (
	"fmt"

	"mimichat/content"
	"mimichat/proto"
)

// Envelope is a message entry as the content timeline takes it.
func (e *Entry) Envelope() content.Envelope {
	return content.Envelope{Seq: e.Seq, HubTime: e.Time.UnixMilli(), Sender: e.Sender, ID: e.ID, Raw: e.Raw}
}

// TimelineEvent is a room-operation entry as the content timeline takes it;
// ok is false for operations the timeline has no counterpart for (history
// and join policy) and for messages. A receipts entry becomes
// content.EventReadReceipts with Text "on" or "off".
func (e *Entry) TimelineEvent() (ev content.RoomEvent, ok bool) {
	ev = content.RoomEvent{Seq: e.Seq, HubTime: e.Time.UnixMilli(), Actor: e.Sender, Target: e.Target,
		Role: memberRole(e.Role), Text: e.Value}
	switch e.Kind {
	case proto.KindCreate:
		// The creator is the first member, as owner.
		ev.Kind, ev.Target, ev.Role = content.EventJoin, e.Sender, content.RoleOwner
	case proto.KindJoin:
		ev.Kind, ev.Target = content.EventJoin, e.Sender
	case proto.KindLeave:
		ev.Kind, ev.Target = content.EventLeave, e.Sender
	case proto.KindInvite:
		ev.Kind = content.EventInvite
	case proto.KindKick:
		ev.Kind = content.EventKick
	case proto.KindBan:
		ev.Kind = content.EventBan
	case proto.KindUnban:
		ev.Kind = content.EventUnban
	case proto.KindRole:
		ev.Kind = content.EventRoleChange
	case proto.KindName:
		ev.Kind = content.EventRoomName
	case proto.KindTopic:
		ev.Kind = content.EventRoomTopic
	case proto.KindAvatar:
		ev.Kind = content.EventRoomAvatar
	case proto.KindReceipts:
		ev.Kind = content.EventReadReceipts
	default:
		return content.RoomEvent{}, false
	}
	return ev, true
}

func memberRole(r proto.Role) content.MemberRole {
	switch r {
	case proto.RoleMember:
		return content.RoleMember
	case proto.RoleModerator:
		return content.RoleModerator
	case proto.RoleOwner:
		return content.RoleOwner
	}
	return content.RoleNone
}

// Feed applies entries, in order, to a room's timeline: messages with
// Apply, room operations with ApplyEvent. A message the timeline refuses
// (bad content, policy) is not an error here: the timeline lists it in
// Refused(). An error means the timeline could not take the entry at all.
func Feed(t *content.Timeline, entries []Entry) error {
	for i := range entries {
		e := &entries[i]
		if e.IsMessage() {
			if _, err := t.Apply(e.Envelope()); err != nil {
				return fmt.Errorf("session: timeline %s seq %d: %w", e.Room, e.Seq, err)
			}
			continue
		}
		if ev, ok := e.TimelineEvent(); ok {
			if err := t.ApplyEvent(ev); err != nil {
				return fmt.Errorf("session: timeline %s seq %d: %w", e.Room, e.Seq, err)
			}
		}
	}
	return nil
}
