package relay

import (
	"fmt"
	"testing"

	"mimichat/mls"
	"mimichat/proto"
	"mimichat/relay/store"
)

// BenchmarkHubInvite: the writer's part of an invite (a commit adding one
// device) in a room of n members, without network or store: checkOpMLS
// (hub.Verify, the policy and leaf checks, the GroupInfo check, hub.Apply,
// the hub state's save) and the group's store record (the state, the
// GroupInfo and the tree chunks the commit changed). The invitee's
// KeyPackage and the commit are made untimed; the room grows by one member
// per iteration (the room is built once per size and shared by the runs).
// tree=inline: the committer's GroupInfo carries the ratchet
// tree (protocol 5-6 clients); tree=apart: it does not (version 7).
// stored-bytes is what the store writes for the group per commit.
func BenchmarkHubInvite(b *testing.B) {
	for _, members := range []int{1000, 10000} {
		for _, apart := range []bool{false, true} {
			name := fmt.Sprintf("members=%d/tree=inline", members)
			if apart {
				name = fmt.Sprintf("members=%d/tree=apart", members)
			}
			b.Run(name, func(b *testing.B) { benchHubInvite(b, members, apart) })
		}
	}
}

// inviteRooms caches hubRoom per size across BenchmarkHubInvite's runs
// (building a 10,000-member room takes minutes on a loaded machine); each
// run goes on growing the same room by one member per iteration.
var inviteRooms = map[int]*inviteRoom{}

type inviteRoom struct {
	g     *mls.Group
	grp   *group
	r     *room
	owner string
	next  int // invitees made so far
}

func benchHubInvite(b *testing.B, members int, apart bool) {
	ir := inviteRooms[members]
	if ir == nil {
		g, grp, r, owner := hubRoom(b, members, 500)
		ir = &inviteRoom{g: g, grp: grp, r: r, owner: owner}
		inviteRooms[members] = ir
	}
	g, grp, r, owner := ir.g, ir.grp, ir.r, ir.owner
	room := string(g.GroupID())
	if n := len(grp.hub.Members()); n < members {
		b.Fatalf("%d members", n)
	}
	grp.roster() // listed once; each commit then advances it
	grp.record(room)
	var stored int
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		ir.next++
		u := proto.UserURI("example.com", fmt.Sprintf("new%d", ir.next))
		d := newTestDevice(b, u, "d", mls.CipherSuite(1))
		kp, err := mls.NewKeyPackage(d.id)
		if err != nil {
			b.Fatal(err)
		}
		res, err := g.Commit(mls.CommitOptions{Add: [][]byte{kp.KeyPackage}, GroupInfoWithoutTree: apart})
		if err != nil {
			b.Fatal(err)
		}
		op := &proto.RoomOp{Room: room, Op: proto.KindInvite, Target: u, MLS: res.Commit, Welcome: res.Welcome, GroupInfo: res.GroupInfo}
		oc := &opCommit{op: op, actor: owner, ch: change{user: u, role: proto.RoleMember, state: proto.StateInvited},
			welcome: []store.Device{{URI: d.uri, User: u}}}
		b.StartTimer()
		changed, ref, err := r.checkOpMLS(oc)
		sg := grp.record(room)
		b.StopTimer()
		if err != nil || ref != nil || !changed {
			b.Fatalf("%v %+v %v", err, ref, changed)
		}
		if err := g.MergePendingCommit(); err != nil {
			b.Fatal(err)
		}
		r.members[u] = &member{role: proto.RoleMember, state: proto.StateInvited}
		stored = len(sg.State) + len(sg.GroupInfo)
		for _, c := range sg.TreeChunks {
			stored += len(c.Data)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(stored), "stored-bytes")
}
