package session

import (
	"errors"
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
		Role: MemberRole(e.Role), Text: e.Value}
	switch e.Kind {
	case proto.KindCreate:
		// The creator is the first member, as owner.
		ev.Kind, ev.Target, ev.Role = content.EventJoin, e.Sender, content.RoleOwner
		return ev, true
	case proto.KindJoin, proto.KindLeave:
		ev.Target = e.Sender // the relay records who joined or left as the sender
	}
	if ev.Kind, ok = EventKind(e.Kind); !ok {
		return content.RoomEvent{}, false
	}
	return ev, true
}

// localEvent is the notice the timeline shows for an entry this device
// made one of: a message it could not decrypt (content.EventUndecryptable,
// so a row says so where the message was, never nothing) or a commit whose
// Value the session filled with a change in a member's devices or keys
// (content.EventSecurityNotice).
func (e *Entry) localEvent() (content.RoomEvent, bool) {
	ev := content.RoomEvent{Seq: e.Seq, HubTime: e.Time.UnixMilli(), Actor: e.Sender}
	switch {
	case e.IsMessage() && e.Undecryptable != "":
		ev.Kind, ev.Text = content.EventUndecryptable, e.Undecryptable
	case e.Kind == proto.KindCommit && e.Value != "":
		ev.Kind, ev.Text = content.EventSecurityNotice, e.Value
	default:
		return ev, false
	}
	return ev, true
}

// Feed applies entries, in order, to a room's timeline: messages with
// Apply, room operations with ApplyEvent, and this device's own notices
// (localEvent) as local events. A message or operation the
// timeline refuses (bad content, a forged ID, policy) is not an error here
// and does not stop the feed: the timeline lists it in Refused(), and the
// entries after it are applied (anyone in a room can send an undecodable
// message; it must not hide the rest of the room). An error means the
// timeline could not take an entry at all; Feed stops there.
func Feed(t *content.Timeline, entries []Entry) error {
	for i := range entries {
		e := &entries[i]
		var err error
		if ev, ok := e.localEvent(); ok {
			err = t.ApplyEvent(ev)
		} else if e.IsMessage() {
			_, err = t.Apply(e.Envelope())
		} else if ev, ok := e.TimelineEvent(); ok {
			err = t.ApplyEvent(ev)
		}
		if err != nil && !errors.As(err, new(*content.RefusalError)) {
			return fmt.Errorf("session: timeline %s seq %d: %w", e.Room, e.Seq, err)
		}
	}
	return nil
}
