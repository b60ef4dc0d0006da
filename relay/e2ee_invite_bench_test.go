package relay

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/proto"
	"mimichat/relay/store"
)

// relayInviteRoom is an encrypted room of members devices (one per user) seeded
// into a relay's data directory before it starts: the owner's group (with
// its private keys), one member's group, and the relay's view, as the
// writer would have stored them after members-1 Adds.
type relayInviteRoom struct {
	room          string
	owner, member testDevice
	ownerG        *mls.Group
	memberG       *mls.Group
	ownerTok      string
	memberTok     string
}

// seedInviteRoom builds the group in memory (Adds of 500 KeyPackages per
// commit, the relay's hub following each commit) and writes the room, its
// members and the relay's group state straight into dir's store. Building
// a 10,000-member room by 9,999 invites through the relay would take longer
// than the benchmark is worth; the invite measured is a real one.
func seedInviteRoom(b testing.TB, dir string, members int) *relayInviteRoom {
	b.Helper()
	st, err := OpenStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Domain("example.com"); err != nil {
		b.Fatal(err)
	}
	ir := &relayInviteRoom{room: proto.RoomURI("example.com", "big")}
	ownerURI, memberURI := proto.UserURI("example.com", "owner"), proto.UserURI("example.com", "member")
	ir.ownerTok, ir.memberTok = addUser(b, st, "owner"), addUser(b, st, "member")
	ir.owner = newTestDevice(b, ownerURI, "d", mls.CipherSuite(1))
	ir.member = newTestDevice(b, memberURI, "d", mls.CipherSuite(1))
	g, err := mls.NewGroup(ir.owner.id, []byte(ir.room), nil)
	if err != nil {
		b.Fatal(err)
	}
	g.PublicHandshake = true
	gi, err := g.GroupInfo(true)
	if err != nil {
		b.Fatal(err)
	}
	grp, ref := newGroup(ir.room, ownerURI, 1, gi)
	if ref != nil {
		b.Fatal(ref.reason)
	}
	memberKP, err := mls.NewKeyPackage(ir.member.id)
	if err != nil {
		b.Fatal(err)
	}
	users := []string{ownerURI, memberURI}
	kps := [][]byte{memberKP.KeyPackage}
	for i := 2; i < members; i++ {
		u := proto.UserURI("example.com", fmt.Sprintf("u%d", i))
		users = append(users, u)
		kp, err := mls.NewKeyPackage(newTestDevice(b, u, "d", mls.CipherSuite(1)).id)
		if err != nil {
			b.Fatal(err)
		}
		kps = append(kps, kp.KeyPackage)
		if len(kps) < 500 && i < members-1 {
			continue
		}
		res, err := g.Commit(mls.CommitOptions{Add: kps, GroupInfoWithoutTree: true})
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
		if ir.memberG == nil {
			if ir.memberG, err = mls.JoinFromWelcome(res.Welcome, memberKP, mls.JoinOptions{}); err != nil {
				b.Fatal(err)
			}
		} else if _, err := ir.memberG.Process(res.Commit); err != nil {
			b.Fatal(err)
		}
		g.RatchetTreeInWelcome = false // only the member joins from a Welcome
		kps = nil
	}
	g.RatchetTreeInWelcome = true
	ir.ownerG = g
	create, err := proto.Encode(&proto.Event{Room: ir.room, Seq: 1, TS: time.Now().UnixMilli(), Sender: ownerURI, Kind: proto.KindCreate, Role: proto.RoleOwner})
	if err != nil {
		b.Fatal(err)
	}
	batch := store.Batch{
		Rooms:  []store.Room{{URI: ir.room, Name: "big", History: proto.HistoryShared, JoinPolicy: proto.JoinInvite, Receipts: proto.ReceiptsOn}},
		Events: []store.Event{{Room: ir.room, Seq: 1, TS: time.Now().UnixMilli(), Frame: create}},
		Groups: []store.Group{grp.record(ir.room)},
	}
	for i, u := range users {
		role := proto.RoleMember
		if i == 0 {
			role = proto.RoleOwner
		}
		batch.Members = append(batch.Members, store.Member{Room: ir.room, User: u, Role: string(role), State: string(proto.StateJoined), JoinSeq: 1})
	}
	if err := st.db.AppendBatch(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
	if n := len(g.Members()); n != members {
		b.Fatalf("%d members", n)
	}
	return ir
}

// BenchmarkInviteThroughRelay: one invite into an encrypted room of 1,000 or
// 10,000 members through a real relay on loopback (real websockets, real
// SQLite), by an inviter speaking protocol version 8 (proto=8: the Welcome
// without the tree, which the relay keeps beside it) or 7 (proto=7: the
// Welcome with the tree inside), reported per part (medians of the
// iterations; min and max beside):
//   - commit-ms: the committer's mls commit (Add, Welcome and GroupInfo
//     without the tree);
//   - invite-ms: the committer's whole invite: claim the KeyPackage, commit,
//     send room_op, the relay's ok (its check, apply and store included);
//   - member-ms: a member processing the commit from its event;
//   - join-ms: the joiner's welcomes request, welcome_list (with the tree of
//     the Welcome's epoch) and JoinFromWelcome (tree hash checked).
func BenchmarkInviteThroughRelay(b *testing.B) {
	for _, members := range []int{1000, 10000} {
		for _, v := range []uint64{8, 7} {
			b.Run(fmt.Sprintf("members=%d/proto=%d", members, v), func(b *testing.B) {
				benchInviteThroughRelay(b, members, v)
			})
		}
	}
}

func benchInviteThroughRelay(b *testing.B, members int, v uint64) {
	dir := b.TempDir()
	ir := seedInviteRoom(b, dir, members)
	s := startRelay(b, benchLimits(Config{Data: dir}))
	owner := dialVersionDevice(b, s.Addr(), ir.ownerTok, ir.owner.uri, v)
	member := dialDevice(b, s.Addr(), ir.memberTok, ir.member.uri)
	member.subscribe(ir.room, 1)
	var commitT, inviteT, memberT, joinT []time.Duration
	var sent, treeBytes int
	i := 0
	for b.Loop() {
		b.StopTimer()
		// A new user with one device and a KeyPackage, each iteration.
		name := fmt.Sprintf("j%d", i)
		i++
		tok := addUser(b, s.Store(), name)
		jd := newTestDevice(b, proto.UserURI("example.com", name), "d", mls.CipherSuite(1))
		jkp, err := mls.NewKeyPackage(jd.id)
		if err != nil {
			b.Fatal(err)
		}
		joiner := dialDevice(b, s.Addr(), tok, jd.uri)
		if _, ef := joiner.upload(jd.uri, [][]byte{jkp.KeyPackage}); ef != nil {
			b.Fatal(ef.Reason)
		}
		b.StartTimer()

		start := time.Now()
		owner.send(&proto.ClaimKeyPackages{RID: owner.nextRID(), User: proto.UserURI("example.com", name), Suite: 1})
		km, ef := answerOrError[*proto.KeyMaterial](owner)
		if ef != nil || len(km.Devices) != 1 {
			b.Fatalf("claim: %+v", ef)
		}
		cstart := time.Now()
		res, err := ir.ownerG.Commit(mls.CommitOptions{Add: [][]byte{km.Devices[0].KeyPackage}, GroupInfoWithoutTree: true, WelcomeTreeApart: v >= proto.WelcomeTreeVersion})
		if err != nil {
			b.Fatal(err)
		}
		commitT = append(commitT, time.Since(cstart))
		sent = len(res.Commit) + len(res.Welcome) + len(res.GroupInfo)
		ok, ef := owner.op(ir.room, proto.KindInvite, proto.UserURI("example.com", name), func(f *proto.RoomOp) {
			f.MLS, f.GroupInfo, f.Welcome = res.Commit, res.GroupInfo, res.Welcome
		})
		if ef != nil {
			b.Fatalf("invite: %s: %s", ef.Code, ef.Reason)
		}
		inviteT = append(inviteT, time.Since(start))
		if err := ir.ownerG.MergePendingCommit(); err != nil {
			b.Fatal(err)
		}

		evs := member.events(ir.room, 1, 30*time.Second)
		if len(evs) != 1 || evs[0].Seq != ok.Seq {
			b.Fatalf("member got %d events", len(evs))
		}
		mstart := time.Now()
		if _, err := ir.memberG.Process(evs[0].MLS); err != nil {
			b.Fatal(err)
		}
		memberT = append(memberT, time.Since(mstart))

		jstart := time.Now()
		joiner.send(&proto.Welcomes{RID: joiner.nextRID(), Device: jd.uri})
		wl := expect[*proto.WelcomeList](joiner)
		if len(wl.Welcomes) != 1 {
			b.Fatalf("%d welcomes", len(wl.Welcomes))
		}
		jg, err := mls.JoinFromWelcome(wl.Welcomes[0].Welcome, jkp, mls.JoinOptions{RatchetTree: wl.Welcomes[0].RatchetTree})
		if err != nil {
			b.Fatal(err)
		}
		joinT = append(joinT, time.Since(jstart))
		treeBytes = len(wl.Welcomes[0].RatchetTree)
		b.StopTimer()
		if string(jg.EpochAuthenticator()) != string(ir.ownerG.EpochAuthenticator()) ||
			string(ir.memberG.EpochAuthenticator()) != string(ir.ownerG.EpochAuthenticator()) {
			b.Fatal("owner, member and joiner disagree on the epoch")
		}
		joiner.ws.Close()
		b.StartTimer()
	}
	report := func(name string, ds []time.Duration) {
		slices.Sort(ds)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(ds[len(ds)/2]), name+"-ms")
		b.ReportMetric(ms(ds[0]), name+"-min-ms")
		b.ReportMetric(ms(ds[len(ds)-1]), name+"-max-ms")
	}
	report("commit", commitT)
	report("invite", inviteT)
	report("member", memberT)
	report("join", joinT)
	b.ReportMetric(float64(sent), "sent-B")
	b.ReportMetric(float64(treeBytes), "tree-B")
}
