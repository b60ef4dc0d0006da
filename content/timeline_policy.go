package content

// Room events and the room policy that authorizes replacements. MIMI room
// policy (draft-ietf-mimi-room-policy-03) gives each participant exactly one
// role, and each role a list of capabilities; content-08 §9.3 says receivers
// MUST NOT let anyone but the original sender edit or delete a message unless
// such a concrete policy allows it. The timeline enforces the message
// capabilities here; membership changes themselves are authorized by the hub,
// so room events are trusted as delivered.

import (
	"fmt"
	"sort"
)

// MemberRole is a participant's role. The numbering follows the role_index
// conventions of room-policy-03: 0 is "no role" (not a participant), 1 is the
// reserved "banned" role.
type MemberRole uint8

const (
	RoleNone      MemberRole = 0
	RoleBanned    MemberRole = 1
	RoleMember    MemberRole = 2
	RoleModerator MemberRole = 3
	RoleOwner     MemberRole = 4
)

var roleNames = [...]string{"none", "banned", "member", "moderator", "owner"}

func (r MemberRole) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// Capability is one message capability of room-policy-03 §"Message
// Capabilities"; the comment gives its registry value. They are bits so a
// role's set is one word.
type Capability uint16

const (
	CanEditReaction        Capability = 1 << iota // 0x0106: replace its own reaction
	CanDeleteOwnReaction                          // 0x0107: unlike its own reaction
	CanDeleteOtherReaction                        // 0x0108: remove another user's reaction
	CanEditOwnMessage                             // 0x0109
	CanDeleteOwnMessage                           // 0x010a
	CanDeleteOtherMessage                         // 0x010b
	CanEditOwnTopic                               // 0x010e: move its own message to another topic
)

// Capabilities is a set of Capability bits.
type Capabilities uint16

// Has reports whether every bit of c is in s.
func (s Capabilities) Has(c Capability) bool { return s&Capabilities(c) == Capabilities(c) }

// RoomPolicy is the part of the room policy the timeline enforces.
type RoomPolicy struct {
	// Roles gives each role its capabilities; a role missing here has none.
	Roles map[MemberRole]Capabilities
	// DefaultRole is assumed for a sender the timeline has no role for (for
	// example a member who joined before the local user's history starts).
	DefaultRole MemberRole
	// Status notification policy (room-policy-03 §4.1). A forbidden kind of
	// status is not recorded: the room agreed not to share it.
	DeliveryNotifications Optionality
	ReadReceipts          Optionality
	// Expiry is the message expiration policy (room-policy-03 §4.9).
	Expiry ExpiryPolicy
}

// Optionality is room-policy-03's optional(0) / required(1) / forbidden(2).
type Optionality uint8

const (
	PolicyOptional  Optionality = 0
	PolicyRequired  Optionality = 1
	PolicyForbidden Optionality = 2
)

// ExpiryPolicy is the MessageExpiration component: durations in seconds.
// The draft says what senders may send, not what receivers do; the
// timeline's reading is in docs/timeline.md: with Forbidden the hint is
// ignored (the room keeps messages); a duration outside [Min, Max] is
// clamped (Max 0 means no maximum); with Required a message without expiry
// gets Default seconds after it is read (if Default is set).
type ExpiryPolicy struct {
	Mode              Optionality
	Min, Max, Default uint32
}

// DefaultRoomPolicy mirrors the "moderated room" example of room-policy-03,
// reduced to three roles: members edit and delete their own messages and
// reactions; moderators and owners may also delete other people's messages
// and reactions. Nobody may edit another person's text: room-policy-03 has
// no capability for that.
func DefaultRoomPolicy() RoomPolicy {
	member := Capabilities(CanEditReaction | CanDeleteOwnReaction | CanEditOwnMessage |
		CanDeleteOwnMessage | CanEditOwnTopic)
	mod := member | Capabilities(CanDeleteOtherReaction|CanDeleteOtherMessage)
	return RoomPolicy{
		Roles:       map[MemberRole]Capabilities{RoleMember: member, RoleModerator: mod, RoleOwner: mod},
		DefaultRole: RoleMember,
	}
}

// RoomEventKind is a membership or room change.
type RoomEventKind uint8

const (
	EventJoin RoomEventKind = iota + 1
	EventLeave
	EventInvite
	EventKick
	EventBan
	EventUnban
	EventRoleChange
	EventRoomName
	EventRoomTopic
	EventRoomAvatar
	// EventReadReceipts sets the room's read-receipt policy: Text is
	// ReceiptsOn or ReceiptsOff (room-policy-03 StatusNotificationPolicy,
	// read_receipts optional or forbidden).
	EventReadReceipts

	eventKindEnd // one past the last kind; add new kinds above it
)

// LastEventKind is the highest RoomEventKind the relay carries: the kinds
// run from EventJoin to it without gaps, so code that relates every kind to
// something else (session's table of relay operations, history's vCon names)
// can test that it covers them all.
const LastEventKind = eventKindEnd - 1

// Local kinds: notices this client makes itself in hub order, about what its
// own end-to-end encryption found. They come from no relay operation, no
// document imports them (ParseRoomEventKind does not name them) and no
// exporter writes them; they exist so the timeline shows them in place.
const (
	// EventUndecryptable is a message this device could not decrypt or had
	// to refuse: Actor is the sender the relay named, Text the reason.
	EventUndecryptable RoomEventKind = eventKindEnd + iota
	// EventSecurityNotice is a change in a member's devices or keys: Actor
	// is the member, Text what changed.
	EventSecurityNotice

	localKindEnd
)

// Local reports whether k is one of the local kinds above.
func (k RoomEventKind) Local() bool { return k >= eventKindEnd && k < localKindEnd }

// Values of an EventReadReceipts event's Text.
const (
	ReceiptsOn  = "on"
	ReceiptsOff = "off"
)

// eventKindNames is the one list of the kinds' names (String and
// ParseRoomEventKind); TestEventKindNames checks it names every kind.
var eventKindNames = [eventKindEnd]string{
	EventJoin: "join", EventLeave: "leave", EventInvite: "invite", EventKick: "kick", EventBan: "ban",
	EventUnban: "unban", EventRoleChange: "role", EventRoomName: "name", EventRoomTopic: "topic",
	EventRoomAvatar: "avatar", EventReadReceipts: "receipts",
}

// Valid reports whether k is one of the constants above.
func (k RoomEventKind) Valid() bool { return k >= EventJoin && k <= LastEventKind }

func (k RoomEventKind) String() string {
	switch {
	case k.Valid():
		return eventKindNames[k]
	case k == EventUndecryptable:
		return "undecryptable"
	case k == EventSecurityNotice:
		return "security"
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// ParseRoomEventKind is the kind whose String is name.
func ParseRoomEventKind(name string) (RoomEventKind, bool) {
	for k := EventJoin; k <= LastEventKind; k++ {
		if eventKindNames[k] == name {
			return k, true
		}
	}
	return 0, false
}

// RoomEvent is a membership or room change carried in the same hub-ordered
// log as the messages. The UI shows it as a quiet system line; joins, bans
// and role changes also feed authorization.
type RoomEvent struct {
	Seq     uint64
	HubTime int64 // ms since the UNIX epoch
	Kind    RoomEventKind
	Actor   string // who did it (the user URI as authenticated by the relay)
	Target  string // the member affected (join, leave, invite, kick, ban, unban, role)
	Role    MemberRole
	Text    string // name, topic or avatar URL; ReceiptsOn/ReceiptsOff
}

// roleChange is one entry of a member's role history.
type roleChange struct {
	seq  uint64
	role MemberRole
}

// roleAt returns the member's role in force at seq (hub order), so a late
// arrival is authorized as it would have been in order.
func (t *Timeline) roleAt(member uint32, seq uint64) MemberRole {
	h := t.roles[member]
	i := sort.Search(len(h), func(i int) bool { return h[i].seq > seq })
	if i == 0 {
		if r, ok := t.initialRoles[member]; ok {
			return r
		}
		return t.opts.Policy.DefaultRole
	}
	return h[i-1].role
}

func (t *Timeline) capsAt(member uint32, seq uint64) Capabilities {
	return t.opts.Policy.Roles[t.roleAt(member, seq)]
}

func (t *Timeline) setRole(member uint32, seq uint64, role MemberRole) {
	h := t.roles[member]
	i := sort.Search(len(h), func(i int) bool { return h[i].seq > seq })
	h = append(h, roleChange{})
	copy(h[i+1:], h[i:])
	h[i] = roleChange{seq: seq, role: role}
	t.roles[member] = h
}

// applyEventLocked records ev and updates the role history.
func (t *Timeline) applyEventLocked(ev RoomEvent) error {
	if !ev.Kind.Valid() && !ev.Kind.Local() {
		return &RefusalError{Refusal{Seq: ev.Seq, Reason: RefuseBadEvent, Detail: fmt.Sprintf("unknown room event kind %d", ev.Kind)}}
	}
	switch ev.Kind {
	case EventJoin, EventLeave, EventInvite, EventKick, EventBan, EventUnban, EventRoleChange:
		if ev.Target == "" {
			return &RefusalError{Refusal{Seq: ev.Seq, Reason: RefuseBadEvent, Detail: ev.Kind.String() + " event without a target member"}}
		}
	}
	target := t.names.of(ev.Target)
	switch ev.Kind {
	case EventJoin:
		role := ev.Role
		if role == RoleNone {
			role = RoleMember
		}
		t.setRole(target, ev.Seq, role)
	case EventLeave:
		t.setRole(target, ev.Seq, RoleNone)
	case EventBan:
		t.setRole(target, ev.Seq, RoleBanned)
	case EventUnban:
		t.setRole(target, ev.Seq, RoleNone)
	case EventRoleChange:
		t.setRole(target, ev.Seq, ev.Role)
	case EventReadReceipts:
		if ev.Text != ReceiptsOn && ev.Text != ReceiptsOff {
			return &RefusalError{Refusal{Seq: ev.Seq, Reason: RefuseBadEvent, Detail: fmt.Sprintf("read receipts policy %q is neither %q nor %q", ev.Text, ReceiptsOn, ReceiptsOff)}}
		}
		t.applyReceiptsPolicy(ev)
	}
	// Kick removes a participant's clients but keeps the participant and its
	// role (room-policy-03 §"Removing"); invite gives no role until the join.
	t.events = append(t.events, ev)
	t.insertVisible(uint32(len(t.events)-1)|eventBit, ev.Seq)
	return nil
}

// applyReceiptsPolicy makes ev the room's read-receipt policy unless a later
// policy event (by hub order) is already in force. In order, ev is newer than
// everything seen: O(1). Only a late arrival (backfill) looks at the other
// room events. Called before ev joins t.events and before noteSeq.
//
// The policy lives in opts.Policy.ReadReceipts, so a forbidding room also
// stops recording read receipts (statusForbidden); "on" lifts a Forbidden
// but leaves a locally configured Required alone.
func (t *Timeline) applyReceiptsPolicy(ev RoomEvent) {
	if ev.Seq <= t.maxSeq {
		for i := range t.events {
			if e := &t.events[i]; e.Kind == EventReadReceipts && e.Seq > ev.Seq {
				return
			}
		}
	}
	p := &t.opts.Policy
	switch {
	case ev.Text == ReceiptsOff:
		p.ReadReceipts = PolicyForbidden
	case p.ReadReceipts == PolicyForbidden:
		p.ReadReceipts = PolicyOptional
	}
}

// ReadReceipts reports whether the room lets members send read receipts:
// false once its latest EventReadReceipts says "off" (or the configured
// policy forbids them), true when never set.
func (v View) ReadReceipts() bool { return v.t.opts.Policy.ReadReceipts != PolicyForbidden }
