package relay

import (
	"fmt"
	"sync"
	"time"

	"mimichat/proto"
)

// member is one user's standing in a room.
type member struct {
	role    proto.Role
	state   proto.State
	joinSeq uint64 // seq of the join (or create) that began the current membership
}

// room is the in-memory state of one room. The group-commit writer is the
// only one that changes it (under mu); readers take mu to authorize
// subscribes, signals and history reads. subs is guarded by mu too, so a
// subscription starts atomically with respect to fan-out.
type room struct {
	mu      sync.RWMutex
	uri     string
	name    string
	topic   string
	avatar  string
	history string
	join    string
	receipt string // read-receipt policy: proto.ReceiptsOn or ReceiptsOff
	expiry  uint32 // message lifetime in seconds, 0 for none (retention.go deletes older events)
	head    uint64 // last assigned seq
	lastTS  int64  // last hub timestamp, ms
	members map[string]*member
	subs    map[*conn]struct{}
	tail    tail   // newest events, for replay
	grp     *group // an encrypted room's MLS group, guarded by mu; nil for a plaintext room
	// encrypted is grp != nil, fixed when the room is made or loaded (a
	// reload replaces grp, never this), so readers check it without mu.
	encrypted bool
	// stateSeq is the seq up to which members, grp and the settings hold
	// every change of the log. Alone it is head; a cluster node's head
	// may run ahead of it (other nodes' announced events) until the node
	// has reloaded the rooms' state, and a membership question is not
	// answered from a state behind the log (roomFresh).
	stateSeq uint64
}

func newRoom(uri string) *room {
	return &room{uri: uri, history: proto.HistoryShared, join: proto.JoinInvite, receipt: proto.ReceiptsOn,
		members: map[string]*member{}, subs: map[*conn]struct{}{}}
}

// refusal is a request the policy does not allow.
type refusal struct {
	code   proto.Code
	reason string
	field  string        // for bad_field
	retry  time.Duration // rate_limited: when to retry
	epoch  uint64        // stale_epoch: the group's current epoch
}

func (r *refusal) Error() string { return string(r.code) + ": " + r.reason }

func refuse(code proto.Code, format string, args ...any) *refusal {
	return &refusal{code: code, reason: fmt.Sprintf(format, args...)}
}

// change is the effect of an authorized operation on the room's state.
type change struct {
	user  string // whose membership changes ("" for room metadata)
	role  proto.Role
	state proto.State
	ends  string // user whose membership the event ends, for fan-out
}

func (r *room) memberOf(user string) *member {
	if m := r.members[user]; m != nil {
		return m
	}
	return &member{state: proto.StateNone}
}

// readAccess returns the first seq user may read, or why it may not read.
// In an encrypted room an invited user's devices are already in the group:
// it reads from its invite on, to follow the handshakes.
func (r *room) readAccess(user string) (uint64, *refusal) {
	m := r.memberOf(user)
	switch m.state {
	case proto.StateJoined:
	case proto.StateInvited:
		if r.grp != nil {
			return m.joinSeq, nil
		}
		return 0, refuse(proto.CodeNotMember, "you are not a member of this room")
	case proto.StateBanned:
		return 0, refuse(proto.CodeBanned, "you are banned from this room")
	default:
		return 0, refuse(proto.CodeNotMember, "you are not a member of this room")
	}
	if r.history == proto.HistoryJoined {
		return m.joinSeq, nil
	}
	return 1, nil
}

// canPost reports why user may not post, or nil.
func (r *room) canPost(user string) *refusal {
	_, ref := r.readAccess(user)
	if ref == nil && r.memberOf(user).state != proto.StateJoined {
		return refuse(proto.CodeNotMember, "you are invited, not a joined member: join to post")
	}
	return ref
}

// owners counts joined or invited owners.
func (r *room) owners() int {
	n := 0
	for _, m := range r.members {
		if m.role == proto.RoleOwner && (m.state == proto.StateJoined || m.state == proto.StateInvited) {
			n++
		}
	}
	return n
}

// others counts joined or invited members other than user.
func (r *room) others(user string) int {
	n := 0
	for u, m := range r.members {
		if u != user && (m.state == proto.StateJoined || m.state == proto.StateInvited) {
			n++
		}
	}
	return n
}

// authorize decides op by actor against the current state (room-policy-03
// style: capabilities by role rank, and an actor acts only on lower ranks).
func (r *room) authorize(actor string, op *proto.RoomOp) (change, *refusal) {
	a := r.memberOf(actor)
	if op.Op == proto.KindJoin {
		return r.authorizeJoin(actor, a)
	}
	if op.Op == proto.KindCommit {
		// An MLS commit changing no policy state, by a user whose devices
		// are in the group (checkOpMLS checks the commit itself).
		switch {
		case r.grp == nil:
			return change{}, &refusal{code: proto.CodeBadField, field: "op", reason: "commit is for end-to-end encrypted rooms"}
		case a.state == proto.StateBanned:
			return change{}, refuse(proto.CodeBanned, "you are banned from this room")
		case a.state != proto.StateJoined && a.state != proto.StateInvited:
			return change{}, refuse(proto.CodeNotMember, "you are not a member of this room")
		}
		return change{}, nil
	}
	if op.Op == proto.KindLeave {
		if a.state != proto.StateJoined && a.state != proto.StateInvited {
			return change{}, refuse(proto.CodeInvalidOp, "you are not in this room")
		}
		if a.role == proto.RoleOwner && a.state == proto.StateJoined && r.owners() == 1 && r.others(actor) > 0 {
			return change{}, refuse(proto.CodeLastOwner, "make another member owner before leaving")
		}
		return change{user: actor, role: a.role, state: proto.StateNone, ends: actor}, nil
	}
	if a.state == proto.StateBanned {
		return change{}, refuse(proto.CodeBanned, "you are banned from this room")
	}
	if a.state != proto.StateJoined {
		return change{}, refuse(proto.CodeNotMember, "you are not a member of this room")
	}
	rank := a.role.Rank()
	switch op.Op {
	case proto.KindName, proto.KindTopic, proto.KindAvatar, proto.KindReceipts:
		// The read-receipt policy is not one of room-policy-03's disruptive
		// policy changes (membership style, roles): moderators may set it.
		if rank < proto.RoleModerator.Rank() {
			return change{}, refuse(proto.CodeForbidden, "a %s cannot change the room %s", a.role, op.Op)
		}
		return change{}, nil
	case proto.KindHistory, proto.KindJoinPolicy, proto.KindExpiry:
		if a.role != proto.RoleOwner {
			return change{}, refuse(proto.CodeForbidden, "only an owner can change the %s policy", op.Op)
		}
		return change{}, nil
	}
	if rank < proto.RoleModerator.Rank() {
		return change{}, refuse(proto.CodeForbidden, "a %s cannot %s", a.role, op.Op)
	}
	t := r.memberOf(op.Target)
	if op.Target == actor && op.Op != proto.KindRole {
		return change{}, refuse(proto.CodeInvalidOp, "cannot %s yourself", op.Op)
	}
	outranks := a.role == proto.RoleOwner || rank > t.role.Rank()
	switch op.Op {
	case proto.KindInvite:
		role := op.Role
		if role == "" {
			role = proto.RoleMember
		}
		switch {
		case t.state == proto.StateBanned:
			return change{}, refuse(proto.CodeBanned, "%s is banned from this room", op.Target)
		case t.state == proto.StateJoined || t.state == proto.StateInvited:
			return change{}, refuse(proto.CodeInvalidOp, "%s is already %s", op.Target, t.state)
		case role.Rank() > rank:
			return change{}, refuse(proto.CodeForbidden, "a %s cannot invite as %s", a.role, role)
		}
		return change{user: op.Target, role: role, state: proto.StateInvited}, nil
	case proto.KindKick:
		if t.state != proto.StateJoined && t.state != proto.StateInvited {
			return change{}, refuse(proto.CodeInvalidOp, "%s is not in this room", op.Target)
		}
		if !outranks {
			return change{}, refuse(proto.CodeForbidden, "a %s cannot kick a %s", a.role, t.role)
		}
		return change{user: op.Target, role: t.role, state: proto.StateNone, ends: op.Target}, nil
	case proto.KindBan:
		if t.state == proto.StateBanned {
			return change{}, refuse(proto.CodeInvalidOp, "%s is already banned", op.Target)
		}
		if t.state != proto.StateNone && !outranks {
			return change{}, refuse(proto.CodeForbidden, "a %s cannot ban a %s", a.role, t.role)
		}
		role := t.role
		if role == "" {
			role = proto.RoleMember
		}
		return change{user: op.Target, role: role, state: proto.StateBanned, ends: op.Target}, nil
	case proto.KindUnban:
		if t.state != proto.StateBanned {
			return change{}, refuse(proto.CodeInvalidOp, "%s is not banned", op.Target)
		}
		return change{user: op.Target, role: proto.RoleMember, state: proto.StateNone}, nil
	case proto.KindRole:
		return r.authorizeRole(actor, a, op)
	}
	return change{}, refuse(proto.CodeInvalidOp, "unknown operation %q", op.Op)
}

func (r *room) authorizeJoin(actor string, a *member) (change, *refusal) {
	switch a.state {
	case proto.StateBanned:
		return change{}, refuse(proto.CodeBanned, "you are banned from this room")
	case proto.StateJoined:
		return change{}, refuse(proto.CodeInvalidOp, "you are already a member")
	case proto.StateInvited:
		return change{user: actor, role: a.role, state: proto.StateJoined}, nil
	}
	if r.join != proto.JoinOpen {
		return change{}, refuse(proto.CodeForbidden, "this room needs an invitation")
	}
	return change{user: actor, role: proto.RoleMember, state: proto.StateJoined}, nil
}

func (r *room) authorizeRole(actor string, a *member, op *proto.RoomOp) (change, *refusal) {
	t := r.memberOf(op.Target)
	switch {
	case t.state != proto.StateJoined && t.state != proto.StateInvited:
		return change{}, refuse(proto.CodeInvalidOp, "%s is not in this room", op.Target)
	case t.role == op.Role:
		return change{}, refuse(proto.CodeInvalidOp, "%s is already %s", op.Target, op.Role)
	case op.Role.Rank() > a.role.Rank():
		return change{}, refuse(proto.CodeForbidden, "a %s cannot grant %s", a.role, op.Role)
	}
	if op.Target == actor {
		if a.role != proto.RoleOwner {
			return change{}, refuse(proto.CodeForbidden, "a %s cannot change its own role", a.role)
		}
		if r.owners() < 2 {
			return change{}, refuse(proto.CodeLastOwner, "make another member owner first")
		}
	} else if a.role != proto.RoleOwner && a.role.Rank() <= t.role.Rank() {
		return change{}, refuse(proto.CodeForbidden, "a %s cannot change the role of a %s", a.role, t.role)
	}
	return change{user: op.Target, role: op.Role, state: t.state}, nil
}

// apply records an authorized op's effect; seq is its event's number.
func (r *room) apply(op *proto.RoomOp, c change, seq uint64) {
	switch op.Op {
	case proto.KindName:
		r.name = op.Value
	case proto.KindTopic:
		r.topic = op.Value
	case proto.KindAvatar:
		r.avatar = op.Value
	case proto.KindHistory:
		r.history = op.Value
	case proto.KindJoinPolicy:
		r.join = op.Value
	case proto.KindReceipts:
		r.receipt = op.Value
	case proto.KindExpiry:
		r.expiry, _ = proto.ParseExpiry(op.Value) // validated with the frame
	}
	if c.user == "" {
		return
	}
	m := r.members[c.user]
	if m == nil {
		m = &member{}
		r.members[c.user] = m
	}
	switch {
	case r.grp != nil && c.state == proto.StateInvited && m.state != proto.StateInvited:
		m.joinSeq = seq // an invited user's devices are in the group from here
	case r.grp != nil && c.state == proto.StateJoined && m.state == proto.StateInvited:
		// accepting: the membership began at the invite
	case c.state == proto.StateJoined && m.state != proto.StateJoined:
		m.joinSeq = seq
	}
	m.role, m.state = c.role, c.state
	if r.grp != nil {
		r.grp.membershipChanged(c.user) // the next commit checks c.user's leaves
	}
}

// memberList lists a room's members with a state other than none.
func (r *room) memberList() []proto.Member {
	out := make([]proto.Member, 0, len(r.members))
	for u, m := range r.members {
		if m.state != proto.StateNone {
			out = append(out, proto.Member{User: u, Role: m.role, State: m.state})
		}
	}
	return out
}
