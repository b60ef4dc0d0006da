package relay

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/proto"
	"mimichat/relay/store"
)

// TestRosterRandomOperations drives a room's group through random
// operations as the writer does (checkOpMLS, then room.apply on success):
// invites of users with one or two devices, kicks (some removing only part
// of a user's devices), path updates, policy changes that leave a user's
// leaves behind (as a held leave does), commits removing them, external
// joins of members' new devices (and of non-members, refused) and reloads
// of the group from its stored record. After every step the incremental
// roster must equal one rebuilt from the tree, and every commit's outcome
// must be what a walk over the committer's own view of every leaf predicts
// (the relay's cross-check, on in tests, also compares the incremental leaf
// invariant check with the full walk inside each commit check).
func TestRosterRandomOperations(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	g, grp, r, owner := hubRoom(t, 12, 6)
	room := string(g.GroupID())
	state := map[string]proto.State{owner: proto.StateJoined}
	for u, m := range r.members {
		state[u] = m.state
	}
	// chunks is the store's view of the tree, for reloads.
	chunks := map[uint32][]byte{}
	var width uint32
	recordChunks := func() {
		sg := grp.record(room)
		width = sg.TreeWidth
		for _, c := range sg.TreeChunks {
			chunks[c.Index] = c.Data
		}
	}
	recordChunks()
	userOf := func(m mls.Member) string {
		d, err := mls.ParseDeviceCredential(m.Credential)
		if err != nil {
			return ""
		}
		return d.UserURI()
	}
	// users lists users in state s (any member state when s is "") that
	// have leaves, or all with leaves when any.
	usersWithLeaves := func(keep func(u string) bool) []string {
		seen := map[string]bool{}
		var out []string
		for _, m := range g.Members() {
			if u := userOf(m); u != owner && !seen[u] && keep(u) {
				seen[u] = true
				out = append(out, u)
			}
		}
		return out
	}
	// wantStray is the committer's walk: the lowest leaf the commit keeps
	// of a user who is no member after the operation.
	wantStray := func(removed []uint32, after map[string]proto.State) (uint32, bool) {
		gone := map[uint32]bool{}
		for _, i := range removed {
			gone[i] = true
		}
		for _, m := range g.Members() {
			st, ok := after[userOf(m)]
			if !ok {
				st = state[userOf(m)]
			}
			if !gone[m.Leaf] && !isMember(st) {
				return m.Leaf, true
			}
		}
		return 0, false
	}
	seq := uint64(0)
	newUser := 0
	var counts [8]int
	strayRefusals := 0
	// run checks oc's commit (made by owner's g unless external) and
	// compares its outcome with want ("" accepted, else a substring of
	// the refusal).
	run := func(step int, oc *opCommit, want string, external bool) bool {
		t.Helper()
		changed, ref, err := r.checkOpMLS(oc)
		if err != nil {
			t.Fatalf("step %d %s: %v", step, oc.op.Op, err)
		}
		switch {
		case want == "" && ref != nil:
			t.Fatalf("step %d %s: refused %s, want accepted", step, oc.op.Op, ref.reason)
		case want != "" && ref == nil:
			t.Fatalf("step %d %s: accepted, want refused %q", step, oc.op.Op, want)
		case want != "" && !strings.Contains(ref.reason, want):
			t.Fatalf("step %d %s: refused %q, want %q", step, oc.op.Op, ref.reason, want)
		}
		if ref != nil {
			if strings.Contains(ref.reason, "leaves leaf") {
				strayRefusals++
			}
			if !external {
				g.ClearPendingCommit()
			}
			return false
		}
		if !changed {
			t.Fatalf("step %d %s: accepted without a change", step, oc.op.Op)
		}
		seq++
		r.apply(oc.op, oc.ch, seq)
		if oc.ch.user != "" {
			state[oc.ch.user] = oc.ch.state
		}
		if external {
			if _, err := g.Process(oc.op.MLS); err != nil {
				t.Fatal(err)
			}
		} else if err := g.MergePendingCommit(); err != nil {
			t.Fatal(err)
		}
		recordChunks()
		return true
	}
	commit := func(opts mls.CommitOptions) *mls.CommitResult {
		t.Helper()
		res, err := g.Commit(opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for step := 0; step < 120; step++ {
		kind := rng.IntN(8)
		counts[kind]++
		switch kind {
		case 0, 1: // invite a new user with one or two devices
			newUser++
			u := proto.UserURI("example.com", fmt.Sprintf("new%d", newUser))
			var kps [][]byte
			var devs []store.Device
			for d := range 1 + rng.IntN(2) {
				dev := newTestDevice(t, u, fmt.Sprintf("d%d", d), mls.CipherSuite(1))
				kp, err := mls.NewKeyPackage(dev.id)
				if err != nil {
					t.Fatal(err)
				}
				kps = append(kps, kp.KeyPackage)
				devs = append(devs, store.Device{URI: dev.uri, User: u})
			}
			res := commit(mls.CommitOptions{Add: kps})
			ch := change{user: u, role: proto.RoleMember, state: proto.StateInvited}
			want := ""
			if i, ok := wantStray(nil, map[string]proto.State{u: ch.state}); ok {
				want = fmt.Sprintf("leaves leaf %d of", i)
			}
			run(step, &opCommit{op: &proto.RoomOp{Room: room, Op: proto.KindInvite, Target: u, MLS: res.Commit, Welcome: res.Welcome, GroupInfo: res.GroupInfo},
				actor: owner, ch: ch, welcome: devs}, want, false)
		case 2: // kick a member, sometimes removing only one of two devices
			us := usersWithLeaves(func(u string) bool { return isMember(state[u]) })
			if len(us) == 0 {
				continue
			}
			u := us[rng.IntN(len(us))]
			var rm []uint32
			for _, m := range g.Members() {
				if userOf(m) == u {
					rm = append(rm, m.Leaf)
				}
			}
			if len(rm) > 1 && rng.IntN(3) == 0 {
				rm = rm[:1]
			}
			ch := change{user: u, role: proto.RoleMember, state: proto.StateNone}
			want := ""
			if i, ok := wantStray(rm, map[string]proto.State{u: ch.state}); ok {
				want = fmt.Sprintf("leaves leaf %d of", i)
			}
			res := commit(mls.CommitOptions{Remove: rm})
			run(step, &opCommit{op: &proto.RoomOp{Room: room, Op: proto.KindKick, Target: u, MLS: res.Commit, GroupInfo: res.GroupInfo},
				actor: owner, ch: ch}, want, false)
		case 3: // the owner's path update
			want := ""
			if i, ok := wantStray(nil, nil); ok {
				want = fmt.Sprintf("leaves leaf %d of", i)
			}
			res := commit(mls.CommitOptions{ForcePath: true, GroupInfoWithoutTree: rng.IntN(2) == 0})
			run(step, &opCommit{op: &proto.RoomOp{Room: room, Op: proto.KindCommit, MLS: res.Commit, GroupInfo: res.GroupInfo}, actor: owner}, want, false)
		case 4: // a member's membership ends by policy; its leaves stay until a commit removes them
			us := usersWithLeaves(func(u string) bool { return isMember(state[u]) })
			if len(us) == 0 {
				continue
			}
			u := us[rng.IntN(len(us))]
			seq++
			r.apply(&proto.RoomOp{Room: room, Op: proto.KindLeave}, change{user: u, role: proto.RoleMember, state: proto.StateNone}, seq)
			state[u] = proto.StateNone
		case 5: // the owner removes every leaf of a non-member
			var rm []uint32
			for _, m := range g.Members() {
				if !isMember(state[userOf(m)]) {
					rm = append(rm, m.Leaf)
				}
			}
			if len(rm) == 0 {
				continue
			}
			res := commit(mls.CommitOptions{Remove: rm})
			run(step, &opCommit{op: &proto.RoomOp{Room: room, Op: proto.KindCommit, MLS: res.Commit, GroupInfo: res.GroupInfo}, actor: owner}, "", false)
		case 6: // a new device joins by external commit: a member's (accepted) or a non-member's (refused)
			member := rng.IntN(4) != 0
			us := usersWithLeaves(func(u string) bool { return isMember(state[u]) == member })
			if len(us) == 0 {
				continue
			}
			u := us[rng.IntN(len(us))]
			info, err := g.GroupInfo(true)
			if err != nil {
				t.Fatal(err)
			}
			dev := newTestDevice(t, u, fmt.Sprintf("x%d", step), mls.CipherSuite(1))
			j, ext, err := mls.JoinExternal(info, dev.id, mls.ExternalJoinOptions{})
			if err != nil {
				t.Fatal(err)
			}
			jgi, err := j.GroupInfo(rng.IntN(2) == 0)
			if err != nil {
				t.Fatal(err)
			}
			op := &proto.RoomOp{Room: room, Op: proto.KindCommit, MLS: ext, GroupInfo: jgi}
			var ch change
			if state[u] == proto.StateInvited {
				op.Op, ch = proto.KindJoin, change{user: u, role: proto.RoleMember, state: proto.StateJoined}
			}
			want := ""
			if !member {
				want = "is not invited to or joined"
			}
			run(step, &opCommit{op: op, actor: u, ch: ch}, want, true)
		case 7: // the relay restarts: the group loads from its record
			sg := &store.Group{Room: room, Suite: 1, Epoch: grp.hub.Epoch(), State: grp.saved, GroupInfo: grp.groupInfo, TreeWidth: width}
			for i := uint32(0); i < (width+63)/64; i++ {
				sg.TreeChunks = append(sg.TreeChunks, store.TreeChunk{Index: i, Data: chunks[i]})
			}
			loaded, err := loadGroup(sg)
			if err != nil {
				t.Fatalf("step %d: reload: %v", step, err)
			}
			grp, r.grp = loaded, loaded
			recordChunks()
		}
		// The roster as the relay advanced it equals one listed afresh,
		// and names each leaf's user as the committer's own view does.
		rs := grp.roster()
		if fresh := buildRoster(grp.hub); !rs.equal(fresh) {
			t.Fatalf("step %d: roster %v, rebuilt %v", step, rs.list(), fresh.list())
		}
		ms := g.Members()
		if got := rs.list(); len(got) != len(ms) {
			t.Fatalf("step %d: roster of %d leaves, the committer's group has %d", step, len(got), len(ms))
		}
		for _, m := range ms {
			if l, ok := rs.at(m.Leaf); !ok || l.user != userOf(m) {
				t.Fatalf("step %d: leaf %d is %+v in the roster, %s in the group", step, m.Leaf, l, userOf(m))
			}
		}
	}
	t.Logf("operations by kind (invite x2, kick, update, policy end, cleanup, external, reload): %v; %d refused for a stray leaf; %d leaves at the end",
		counts, strayRefusals, len(g.Members()))
}
