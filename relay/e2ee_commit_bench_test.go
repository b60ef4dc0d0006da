package relay

import (
	"fmt"
	"testing"

	"mimichat/mls"
	"mimichat/proto"
)

// hubRoom is an encrypted room of members devices, one per user, whose
// group (g, kept by the owner, whose URI is returned) was built by commits
// adding batch KeyPackages each, every one processed and saved by the
// room's hub as the writer would.
func hubRoom(b testing.TB, members, batch int) (*mls.Group, *group, *room, string) {
	room := proto.RoomURI("example.com", "big")
	owner := proto.UserURI("example.com", "owner")
	od := newTestDevice(b, owner, "d", mls.CipherSuite(1))
	g, err := mls.NewGroup(od.id, []byte(room), nil)
	if err != nil {
		b.Fatal(err)
	}
	g.PublicHandshake = true
	gi, err := g.GroupInfo(true)
	if err != nil {
		b.Fatal(err)
	}
	grp, ref := newGroup(room, owner, 1, gi)
	if ref != nil {
		b.Fatal(ref.reason)
	}
	r := newRoom(room)
	r.grp, r.encrypted = grp, true
	r.members[owner] = &member{role: proto.RoleOwner, state: proto.StateJoined}
	var kps [][]byte
	for i := 1; i < members; i++ {
		u := proto.UserURI("example.com", fmt.Sprintf("u%d", i))
		r.members[u] = &member{role: proto.RoleMember, state: proto.StateJoined}
		kp, err := mls.NewKeyPackage(newTestDevice(b, u, "d", mls.CipherSuite(1)).id)
		if err != nil {
			b.Fatal(err)
		}
		kps = append(kps, kp.KeyPackage)
		if len(kps) == batch || i == members-1 {
			res, err := g.Commit(mls.CommitOptions{Add: kps})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := grp.hub.Process(res.Commit); err != nil {
				b.Fatal(err)
			}
			if err := g.MergePendingCommit(); err != nil {
				b.Fatal(err)
			}
			if err := grp.save(res.GroupInfo); err != nil {
				b.Fatal(err)
			}
			kps = nil
		}
	}
	return g, grp, r, owner
}

// BenchmarkE2EECheckCommit1000: the writer's part of one commit in a room of
// 1,000 members, without network or store: checkOpMLS (hub.Verify, the
// policy and leaf checks, hub.Apply, hub.CheckGroupInfo, hub.Save). The
// group is built with Adds of 100 KeyPackages per commit.
func BenchmarkE2EECheckCommit1000(b *testing.B) {
	g, _, r, owner := hubRoom(b, 1000, 100)
	room := string(g.GroupID())
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		res, err := g.Commit(mls.CommitOptions{ForcePath: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		op := &proto.RoomOp{Room: room, Op: proto.KindCommit, MLS: res.Commit, GroupInfo: res.GroupInfo}
		changed, ref, err := r.checkOpMLS(&opCommit{op: op, actor: owner})
		if err != nil || ref != nil || !changed {
			b.Fatalf("%v %+v %v", err, ref, changed)
		}
		b.StopTimer()
		if err := g.MergePendingCommit(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
