package relay

import (
	"fmt"
	"maps"
	"slices"

	"mimichat/mls"
)

// The roster: which user and device each leaf of an encrypted room's group
// is, by leaf and by user. Listing it parses every leaf's credential, so it
// is built once per loaded group and then moved along by what each commit
// changed: the relay's per-commit policy checks cost O(changes), not
// O(members).

// roster is the group's leaves of one epoch.
type roster struct {
	epoch  uint64
	slots  []rosterSlot        // by leaf index
	byUser map[string][]uint32 // each user's leaves, ascending; "" holds leaves that are no device credential
}

type rosterSlot struct {
	leaf
	in bool // the leaf is occupied
}

// buildRoster lists the hub's leaves: O(n) credential parses.
func buildRoster(hub *mls.HubGroup) *roster {
	rs := &roster{epoch: hub.Epoch(), byUser: map[string][]uint32{}}
	for _, m := range hub.Members() {
		rs.put(leafOrBlank(m))
	}
	return rs
}

// at is leaf i, if occupied.
func (rs *roster) at(i uint32) (leaf, bool) {
	if int(i) >= len(rs.slots) || !rs.slots[i].in {
		return leaf{}, false
	}
	return rs.slots[i].leaf, true
}

// of lists user's leaves in index order (O(its leaves)).
func (rs *roster) of(user string) []leaf {
	idx := rs.byUser[user]
	out := make([]leaf, 0, len(idx))
	for _, i := range idx {
		out = append(out, rs.slots[i].leaf)
	}
	return out
}

// list is every leaf in index order (O(n): for tests and cross-checks).
func (rs *roster) list() []leaf {
	var out []leaf
	for _, s := range rs.slots {
		if s.in {
			out = append(out, s.leaf)
		}
	}
	return out
}

func (rs *roster) put(l leaf) {
	rs.drop(l.index)
	for int(l.index) >= len(rs.slots) {
		rs.slots = append(rs.slots, rosterSlot{})
	}
	rs.slots[l.index] = rosterSlot{leaf: l, in: true}
	idx := rs.byUser[l.user]
	k, _ := slices.BinarySearch(idx, l.index)
	rs.byUser[l.user] = slices.Insert(idx, k, l.index)
}

func (rs *roster) drop(i uint32) {
	l, ok := rs.at(i)
	if !ok {
		return
	}
	rs.slots[i] = rosterSlot{}
	idx := rs.byUser[l.user]
	if k, found := slices.BinarySearch(idx, i); found {
		idx = slices.Delete(idx, k, k+1)
	}
	if len(idx) == 0 {
		delete(rs.byUser, l.user)
	} else {
		rs.byUser[l.user] = idx
	}
}

// advance moves the roster to the applied commit hc (hub is at its new
// epoch): removed leaves out, updated ones re-read, joined ones in. It
// returns the users whose leaves the commit gave a (possibly new) identity.
func (rs *roster) advance(hub *mls.HubGroup, hc *mls.HubCommit) []string {
	for _, m := range hc.Removed {
		rs.drop(m.Leaf)
	}
	changed := slices.Clone(hc.Updated)
	for _, m := range hc.Joined {
		changed = append(changed, m.Leaf)
	}
	var users []string
	for _, i := range changed {
		m, ok := hub.Member(i)
		if !ok {
			rs.drop(i)
			continue
		}
		l := leafOrBlank(m)
		rs.put(l)
		users = append(users, l.user)
	}
	rs.epoch = hc.NewEpoch
	return users
}

// equal reports whether two rosters list the same leaves.
func (rs *roster) equal(o *roster) bool {
	return rs.epoch == o.epoch && slices.Equal(rs.list(), o.list()) &&
		maps.EqualFunc(rs.byUser, o.byUser, slices.Equal)
}

// roster is the group's roster of the current epoch, built once after a
// load (or after a commit it could not follow) and then advanced by each
// commit. Callers must not change it.
func (g *group) roster() *roster {
	if g.rs == nil || g.rs.epoch != g.hub.Epoch() {
		// Built afresh: the users of epochs this group did not check
		// (after a load, or a commit it did not follow) are all unchecked.
		g.rs, g.checkedAll = buildRoster(g.hub), false
	}
	return g.rs
}

// advanceRoster moves the roster of epoch hc.NewEpoch-1 to the applied
// commit hc. Without a roster of the previous epoch it leaves the next
// roster() to rebuild it. The users the commit gave leaves (joined, or a
// credential changed by an update) are the leaf invariant's to check again.
func (g *group) advanceRoster(hc *mls.HubCommit) {
	if g.rs == nil || g.rs.epoch+1 != hc.NewEpoch || g.hub.Epoch() != hc.NewEpoch {
		g.rs = nil
		g.unchecked, g.checkedAll = nil, false
		return
	}
	for _, u := range g.rs.advance(g.hub, hc) {
		g.membershipChanged(u)
	}
}

// The leaf invariant (every leaf a commit leaves in the group is a device
// of an invited or joined user) is checked per commit against the users
// whose membership may have changed since it last held, not every leaf:
// unchecked holds them (policy changes through room.apply, users a commit
// gave leaves), and checkedAll is false until the first full check after a
// load. After a checked commit every remaining leaf's user is a member, so
// unchecked starts empty again.

// membershipChanged notes that user's membership (or leaves) changed: the
// next commit checks that user's leaves.
func (g *group) membershipChanged(user string) {
	if g.unchecked == nil {
		g.unchecked = map[string]bool{}
	}
	g.unchecked[user] = true
}

// strayLeaf finds the lowest leaf the commit keeps (not in removed) of a
// user who is no member after the operation: O(users to check and their
// leaves). ok is false when there is none.
func (r *room) strayLeaf(oc *opCommit, rs *roster, removed map[uint32]bool) (stray leaf, ok bool) {
	check := func(user string) {
		if isMember(r.stateAfter(oc, user)) {
			return
		}
		for _, i := range rs.byUser[user] {
			if !removed[i] && (!ok || i < stray.index) {
				stray, ok = rs.slots[i].leaf, true
				break // ascending: the user's lowest kept leaf
			}
		}
	}
	if !r.grp.checkedAll {
		for u := range rs.byUser {
			check(u)
		}
		return stray, ok
	}
	for u := range r.grp.unchecked {
		check(u)
	}
	check(oc.ch.user)
	check("") // leaves that are no device credential (none enter through this relay)
	return stray, ok
}

// strayLeafFull is strayLeaf by walking every leaf, as the relay did before
// the roster: the cross-check of tests.
func (r *room) strayLeafFull(oc *opCommit, rs *roster, removed map[uint32]bool) (leaf, bool) {
	for _, l := range rs.list() {
		if !removed[l.index] && !isMember(r.stateAfter(oc, l.user)) {
			return l, true
		}
	}
	return leaf{}, false
}

// crossCheckRoster makes every commit check also rebuild the roster and
// walk every leaf, and panic when the incremental answers differ. The
// relay's tests set it (TestMain); it is O(n) per commit.
var crossCheckRoster bool

func (r *room) crossCheck(oc *opCommit, rs *roster, removed map[uint32]bool, stray leaf, found bool) {
	if !crossCheckRoster {
		return
	}
	if fresh := buildRoster(r.grp.hub); !rs.equal(fresh) {
		panic(fmt.Sprintf("relay: roster of %s at epoch %d: incremental %v, rebuilt %v", r.uri, rs.epoch, rs.list(), fresh.list()))
	}
	want, wantFound := r.strayLeafFull(oc, rs, removed)
	if found != wantFound || stray != want {
		panic(fmt.Sprintf("relay: leaf invariant of %s at epoch %d: incremental %v %v, full walk %v %v", r.uri, rs.epoch, stray, found, want, wantFound))
	}
}
