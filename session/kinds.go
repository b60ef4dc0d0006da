package session

import (
	"mimichat/content"
	"mimichat/proto"
)

// The one table relating the relay's room operations (proto.Kind) to the
// timeline's room events (content.RoomEventKind), the one relating their
// member roles, and the converters generated from them.
//
// They live in session because session is the lowest package that imports
// both sides: content imports nothing of ours, and proto is shared with the
// relay, which has no business knowing the timeline's kinds. A package of
// its own would hold nothing but these tables, and every user of them
// (session's cache, history's cache adapter, the commands) imports session
// already.

// opOfEvent is the relay operation each timeline event kind comes from,
// indexed by content.RoomEventKind (every kind from content.EventJoin to
// content.LastEventKind; TestKindTable checks there is no gap).
var opOfEvent = [content.LastEventKind + 1]proto.Kind{
	content.EventJoin:         proto.KindJoin,
	content.EventLeave:        proto.KindLeave,
	content.EventInvite:       proto.KindInvite,
	content.EventKick:         proto.KindKick,
	content.EventBan:          proto.KindBan,
	content.EventUnban:        proto.KindUnban,
	content.EventRoleChange:   proto.KindRole,
	content.EventRoomName:     proto.KindName,
	content.EventRoomTopic:    proto.KindTopic,
	content.EventRoomAvatar:   proto.KindAvatar,
	content.EventReadReceipts: proto.KindReceipts,
}

// Relay kinds that are not in the table: proto.KindMessage (a message is a
// content.Envelope, not an event), proto.KindCreate (the creator's join as
// owner, made by TimelineEvent), proto.KindHistory, proto.KindJoinPolicy
// and proto.KindExpiry (room settings the timeline has no use for).

// eventOfOp is opOfEvent inverted.
var eventOfOp = func() map[proto.Kind]content.RoomEventKind {
	m := make(map[proto.Kind]content.RoomEventKind, len(opOfEvent))
	for k, op := range opOfEvent {
		if op != "" {
			m[op] = content.RoomEventKind(k)
		}
	}
	return m
}()

// OpKind is the relay operation kind of a timeline event kind; ok is false
// for a value that is not a content.RoomEventKind constant.
func OpKind(k content.RoomEventKind) (op proto.Kind, ok bool) {
	if !k.Valid() {
		return "", false
	}
	return opOfEvent[k], true
}

// EventKind is the timeline event kind of a relay operation kind; ok is
// false for the kinds the table leaves out (message, create, history, join
// policy) and for unknown kinds.
func EventKind(op proto.Kind) (k content.RoomEventKind, ok bool) {
	k, ok = eventOfOp[op]
	return k, ok
}

// roleTable pairs the relay's member roles with the timeline's. The
// timeline's RoleNone and RoleBanned are membership states the relay keeps
// apart from roles (proto.State), so they have no row: they convert to the
// empty proto.Role, as an unknown or empty relay role converts to RoleNone.
var roleTable = [...]struct {
	relay    proto.Role
	timeline content.MemberRole
}{
	{proto.RoleMember, content.RoleMember},
	{proto.RoleModerator, content.RoleModerator},
	{proto.RoleOwner, content.RoleOwner},
}

// MemberRole is the timeline's role for a relay role.
func MemberRole(r proto.Role) content.MemberRole {
	for _, row := range roleTable {
		if row.relay == r {
			return row.timeline
		}
	}
	return content.RoleNone
}

// ProtoRole is the relay's role for a timeline role.
func ProtoRole(r content.MemberRole) proto.Role {
	for _, row := range roleTable {
		if row.timeline == r {
			return row.relay
		}
	}
	return ""
}
