package ui

import (
	"slices"
	"strings"

	"mimichat/proto"
	"mimichat/session"
)

// A room's member list comes from two sources that race: RoomInfo answers
// (the relay's list as of its head, fetched in a tea.Cmd beside the event
// stream) and the membership entries the UI applies as they arrive. The
// list never goes back in time: an entry applies at once; an answer is
// taken only when its head is not below the last answer's, and the
// entries applied above its head are replayed onto it, so an answer made
// before a kick does not put the kicked member back, nor one made before
// a join drop the new member.

// memberOp is what a membership entry changes in the member list, kept
// (room.membersLog) until an answer as new as it is taken.
type memberOp struct {
	seq            uint64
	kind           proto.Kind
	sender, target string
	role           proto.Role
}

// memberOpOf is e's change to the member list; false for an entry that
// changes no membership.
func memberOpOf(e session.Entry) (memberOp, bool) {
	switch e.Kind {
	case proto.KindCreate, proto.KindInvite, proto.KindJoin, proto.KindLeave, proto.KindKick, proto.KindBan,
		proto.KindUnban, proto.KindRole:
		return memberOp{seq: e.Seq, kind: e.Kind, sender: e.Sender, target: e.Target, role: e.Role}, true
	}
	return memberOp{}, false
}

// apply returns list changed as the relay changes its members for op
// (relay/rooms.go): the list a RoomInfo answer would give right after
// op's entry. list is not modified.
func (op memberOp) apply(list []proto.Member) []proto.Member {
	user := op.target
	switch op.kind {
	case proto.KindCreate, proto.KindJoin, proto.KindLeave:
		user = op.sender // they act on themselves
	}
	i := slices.IndexFunc(list, func(mem proto.Member) bool { return mem.User == user })
	var cur proto.Member
	if i >= 0 {
		cur = list[i]
	}
	next, listed := proto.Member{User: user, Role: cur.Role, State: cur.State}, true
	switch op.kind {
	case proto.KindCreate:
		next.Role, next.State = proto.RoleOwner, proto.StateJoined
	case proto.KindInvite:
		next.Role, next.State = firstRole(op.role, proto.RoleMember), proto.StateInvited
	case proto.KindJoin:
		next.Role, next.State = firstRole(op.role, cur.Role, proto.RoleMember), proto.StateJoined
	case proto.KindBan:
		next.Role, next.State = firstRole(cur.Role, proto.RoleMember), proto.StateBanned
	case proto.KindLeave, proto.KindKick, proto.KindUnban:
		listed = false // the relay lists no member in state none
	case proto.KindRole:
		if i < 0 || op.role == "" {
			return list // their state is not known here: the next answer has it
		}
		next.Role = op.role
	}
	switch {
	case i >= 0 && listed:
		list = slices.Clone(list)
		list[i] = next
	case i >= 0:
		list = slices.Delete(slices.Clone(list), i, i+1)
	case listed:
		// where the relay's answer (sorted by user) has it
		at, _ := slices.BinarySearchFunc(list, user, func(mem proto.Member, u string) int { return strings.Compare(mem.User, u) })
		list = slices.Insert(slices.Clone(list), at, next)
	}
	return list
}

func firstRole(roles ...proto.Role) proto.Role {
	for _, r := range roles {
		if r != "" {
			return r
		}
	}
	return ""
}

// noteMembership applies a membership entry the UI just applied to the
// member list. An entry at or below the head of the answer the list was
// built from is in it already (the answer can be ahead of the events).
func (r *room) noteMembership(e session.Entry) {
	op, ok := memberOpOf(e)
	if !ok || op.seq <= r.membersSeq {
		return
	}
	r.members = op.apply(r.members)
	r.membersLog = append(r.membersLog, op)
}

// takeMembers takes a RoomInfo answer's members, the room as of head. An
// answer older than the one the list was built from is dropped; otherwise
// the membership entries applied above head are replayed onto it, so the
// list is as of the newest of head and what was applied. The first answer
// is always taken.
func (r *room) takeMembers(members []proto.Member, head uint64) {
	if r.membersLoaded && head < r.membersSeq {
		return
	}
	list := slices.Clone(members)
	var keep []memberOp
	for _, op := range r.membersLog {
		if op.seq > head {
			list = op.apply(list)
			keep = append(keep, op)
		}
	}
	r.members, r.membersLoaded, r.membersSeq, r.membersLog = list, true, head, keep
}
