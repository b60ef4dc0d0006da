package relay

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/proto"
)

// e2eRoom is a relay with an encrypted room created by alice's laptop.
type e2eRoom struct {
	s     *Server
	toks  map[string]string // user name -> token
	devs  map[string]string // "user/device" -> that device's token
	room  string
	alice *e2eDevice
}

func newE2ERoom(t *testing.T, slug string, users ...string) *e2eRoom {
	t.Helper()
	s := startRelay(t, Config{RatePerSec: -1})
	e := &e2eRoom{s: s, toks: map[string]string{}, devs: map[string]string{}}
	for _, u := range append([]string{"alice"}, users...) {
		e.toks[u] = addUser(t, s.Store(), u)
	}
	e.alice = e.device(t, "alice", "laptop")
	e.room = e.alice.create(slug, proto.CreateRoom{Name: "Room"})
	return e
}

func (e *e2eRoom) device(t *testing.T, user, name string) *e2eDevice {
	t.Helper()
	return newE2EDevice(t, e.s.Addr(), e.deviceToken(t, user, name), proto.UserURI("example.com", user), name, 3)
}

// deviceToken is the token of user's device name: the user's own for its
// first device, an extra one for the others (per-device tokens).
func (e *e2eRoom) deviceToken(t testing.TB, user, name string) string {
	t.Helper()
	if e.devs == nil {
		e.devs = map[string]string{}
	}
	if tok, ok := e.devs[user+"/"+name]; ok {
		return tok
	}
	tok := e.toks[user]
	for k := range e.devs {
		if strings.HasPrefix(k, user+"/") {
			tok = storeDeviceToken(t, e.s.Store())(user)
			break
		}
	}
	e.devs[user+"/"+name] = tok
	return tok
}

// member invites user's fresh device into the room and has it join.
func (e *e2eRoom) member(t *testing.T, user, name string, others ...*e2eDevice) *e2eDevice {
	t.Helper()
	d := e.device(t, user, name)
	ok := e.alice.invite(d.c.user)
	d.joinFromWelcome()
	for _, o := range append([]*e2eDevice{e.alice}, others...) {
		o.syncTo(ok.Seq)
	}
	return d
}

// An invite's Welcome reaches exactly the invited user's devices (pushed to
// connections whose hello named the device, listed by welcomes); the
// invitee reads from its invite, may not post until it joins, joins from
// the Welcome without a commit, and every member decrypts every message.
func TestE2EEInviteWelcomeJoin(t *testing.T) {
	e := newE2ERoom(t, "secret", "bob", "carol")
	phone := e.device(t, "bob", "phone")
	laptop := e.device(t, "bob", "laptop")
	plain := dial(t, e.s.Addr(), e.toks["bob"]) // bob, no device named
	carol := e.device(t, "carol", "desk")

	ok := e.alice.invite(phone.c.user)
	var phoneWelcome []byte
	for _, d := range []*e2eDevice{phone, laptop} {
		w := expect[*proto.MLSWelcome](d.c)
		if w.Device != d.dev.uri || w.Room != e.room || w.Seq != ok.Seq {
			t.Fatalf("%s got mls_welcome %+v", d.dev.uri, w)
		}
		if d == phone {
			phoneWelcome = w.Welcome
		}
	}
	for _, c := range []*client{plain, carol.c} {
		for _, f := range append(c.stash, drain(c, 300*time.Millisecond)...) {
			if w, isW := f.(*proto.MLSWelcome); isW {
				t.Fatalf("%s got a Welcome for %s", c.user, w.Device)
			}
		}
	}
	carol.c.send(&proto.Welcomes{RID: carol.c.nextRID(), Device: carol.dev.uri})
	if wl := expect[*proto.WelcomeList](carol.c); len(wl.Welcomes) != 0 {
		t.Fatalf("carol has welcomes %+v", wl.Welcomes)
	}
	carol.c.send(&proto.Welcomes{RID: carol.c.nextRID(), Device: phone.dev.uri})
	carol.c.expectError(proto.CodeForbidden)

	// Invited: reads from the invite on, may not post.
	g, err := phone.joinWelcome(phoneWelcome)
	if err != nil {
		t.Fatal(err)
	}
	phone.g = g
	phone.room = e.room
	sub := phone.c.subscribe(e.room, ok.Seq-1)
	if sub.FirstSeq != ok.Seq {
		t.Fatalf("invited bob reads from %d, want the invite %d", sub.FirstSeq, ok.Seq)
	}
	phone.last = ok.Seq - 1
	phone.mine[ok.Seq] = true // the commit that added it: the Welcome is its result
	phone.syncTo(ok.Seq)
	if _, _, ef := phone.send("too early"); ef == nil || ef.Code != proto.CodeNotMember {
		t.Fatalf("an invited user posted: %+v", ef)
	}
	join := phone.c.mustOp(e.room, proto.KindJoin, "")
	laptop.joinFromWelcome(true)
	e.alice.syncTo(join.Seq)

	_, a, ef := e.alice.send("hello bob")
	if ef != nil {
		t.Fatalf("alice send: %s %s", ef.Code, ef.Reason)
	}
	_, b, ef := phone.send("hello alice")
	if ef != nil {
		t.Fatalf("bob send: %s %s", ef.Code, ef.Reason)
	}
	head := max(a.Seq, b.Seq)
	for _, d := range []*e2eDevice{e.alice, phone, laptop} {
		d.syncTo(head)
	}
	if !slices.Contains(phone.got, "hello bob") || !slices.Contains(laptop.got, "hello bob") ||
		!slices.Contains(laptop.got, "hello alice") || !slices.Contains(e.alice.got, "hello alice") {
		t.Fatalf("decrypted: alice %q, phone %q, laptop %q", e.alice.got, phone.got, laptop.got)
	}
	sameEpoch(t, e.alice, phone, laptop)

	e.alice.c.send(&proto.Rooms{RID: e.alice.c.nextRID()})
	rl := expect[*proto.RoomList](e.alice.c)
	if len(rl.Rooms) != 1 || !rl.Rooms[0].Encrypted || rl.Rooms[0].Suite != 1 || rl.Rooms[0].Epoch != e.alice.g.Epoch() {
		t.Fatalf("room list %+v", rl.Rooms)
	}
	// The joined devices' Welcomes stay until the membership ends; a
	// leave or kick drops them (TestE2EELeaveSelfRemove).
}

// drain returns the frames arriving within d.
func drain(c *client, d time.Duration) []proto.Frame {
	var out []proto.Frame
	deadline := time.After(d)
	for {
		select {
		case f := <-c.frames:
			out = append(out, f)
		case <-deadline:
			return out
		}
	}
}

// Concurrent commits: the relay accepts exactly one, refuses the other
// stale_epoch with the current epoch; the loser catches up and retries. A
// replayed commit is refused, a message of a too old epoch too, and a
// retried stored ciphertext is a dup whatever the epoch.
func TestE2EEEpochs(t *testing.T) {
	e := newE2ERoom(t, "epochs", "bob")
	bob := e.member(t, "bob", "phone")
	epoch := e.alice.g.Epoch()

	stored, _, ef := bob.send("before the commits")
	if ef != nil {
		t.Fatal(ef.Reason)
	}
	old := bob.seal("an old epoch's message")

	type result struct {
		ok  *proto.OK
		ef  *proto.ErrorFrame
		res *mls.CommitResult
	}
	var wg sync.WaitGroup
	out := make([]result, 2)
	for i, d := range []*e2eDevice{e.alice, bob} {
		res, err := d.g.Commit(mls.CommitOptions{ForcePath: true})
		if err != nil {
			t.Fatal(err)
		}
		out[i].res = res
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.c.send(&proto.RoomOp{RID: d.c.nextRID(), Room: e.room, Op: proto.KindCommit, MLS: res.Commit, GroupInfo: res.GroupInfo})
		}()
	}
	wg.Wait()
	for i, d := range []*e2eDevice{e.alice, bob} {
		out[i].ok, out[i].ef = answerOrError[*proto.OK](d.c)
	}
	if (out[0].ok == nil) == (out[1].ok == nil) {
		t.Fatalf("two concurrent commits: alice %+v %+v, bob %+v %+v; want exactly one accepted", out[0].ok, out[0].ef, out[1].ok, out[1].ef)
	}
	win, lose := 0, 1
	if out[0].ok == nil {
		win, lose = 1, 0
	}
	devs := []*e2eDevice{e.alice, bob}
	if out[lose].ef.Code != proto.CodeStaleEpoch || out[lose].ef.Epoch != epoch+1 {
		t.Fatalf("loser got %s epoch %d (%s), want stale_epoch %d", out[lose].ef.Code, out[lose].ef.Epoch, out[lose].ef.Reason, epoch+1)
	}
	if err := devs[win].g.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	devs[win].mine[out[win].ok.Seq] = true
	devs[lose].g.ClearPendingCommit()
	devs[lose].syncTo(out[win].ok.Seq)
	devs[win].syncTo(out[win].ok.Seq)
	sameEpoch(t, e.alice, bob)

	// The loser's retry succeeds; a replay of the winner's commit does not.
	ok, ef := devs[lose].commitOp(proto.KindCommit, "", mls.CommitOptions{ForcePath: true})
	if ef != nil {
		t.Fatalf("retry: %s %s", ef.Code, ef.Reason)
	}
	devs[win].syncTo(ok.Seq)
	sameEpoch(t, e.alice, bob)
	_, ef = devs[win].c.op(e.room, proto.KindCommit, "", func(f *proto.RoomOp) { f.MLS, f.GroupInfo = out[win].res.Commit, out[win].res.GroupInfo })
	if ef == nil || ef.Code != proto.CodeStaleEpoch || ef.Epoch != epoch+2 {
		t.Fatalf("replayed commit: %+v", ef)
	}

	// Two more epochs: old's epoch is 4 behind, outside the window of 3.
	for range 2 {
		ok, ef := e.alice.commitOp(proto.KindCommit, "", mls.CommitOptions{ForcePath: true})
		if ef != nil {
			t.Fatal(ef.Reason)
		}
		bob.syncTo(ok.Seq)
	}
	if _, ef := bob.submit(old); ef == nil || ef.Code != proto.CodeStaleEpoch || ef.Epoch != epoch+4 {
		t.Fatalf("message of epoch %d at epoch %d: %+v", epoch, epoch+4, ef)
	}
	stored.RID = 0
	if a, ef := bob.submit(stored); ef != nil || !a.Dup {
		t.Fatalf("retry of a stored ciphertext: %+v %+v; want dup", a, ef)
	}
	if _, a, ef := bob.send("current"); ef != nil || a.Dup {
		t.Fatalf("current epoch: %+v %+v", a, ef)
	}
	if n := e.s.metrics.staleEpoch.Load(); n != 3 {
		t.Fatalf("stale_epoch counter %d, want 3 (the losing commit, the replay, the old message)", n)
	}
}

// Kick and ban need a commit removing all of the target's leaves; a member
// cannot remove others; a commit leaving a non-member's leaf is refused.
func TestE2EEKickBan(t *testing.T) {
	e := newE2ERoom(t, "moderated", "bob", "carol", "dave")
	bob := e.member(t, "bob", "phone")
	carol := e.member(t, "carol", "desk", bob)
	dave := e.member(t, "dave", "pad", bob, carol)
	all := []*e2eDevice{e.alice, bob, carol, dave}
	sync := func(seq uint64, ds ...*e2eDevice) {
		for _, d := range ds {
			d.syncTo(seq)
		}
	}

	// bob (member) removes carol's leaf in a commit op: refused, as is kick.
	if _, ef := bob.commitOp(proto.KindCommit, "", mls.CommitOptions{Remove: []uint32{bob.leafOf(carol.dev.uri)}}); ef == nil || ef.Code != proto.CodeBadCommit {
		t.Fatalf("member removing another member: %+v", ef)
	}
	if _, ef := bob.commitOp(proto.KindKick, carol.c.user, mls.CommitOptions{Remove: []uint32{bob.leafOf(carol.dev.uri)}}); ef == nil || ef.Code != proto.CodeForbidden {
		t.Fatalf("member kicking: %+v", ef)
	}
	// alice kicks carol without a commit, or with one that removes dave.
	if _, ef := e.alice.c.op(e.room, proto.KindKick, carol.c.user); ef == nil || ef.Code != proto.CodeBadField || ef.Field != "mls" {
		t.Fatalf("kick without commit: %+v", ef)
	}
	if _, ef := e.alice.commitOp(proto.KindKick, carol.c.user, mls.CommitOptions{Remove: []uint32{e.alice.leafOf(dave.dev.uri)}}); ef == nil || ef.Code != proto.CodeBadCommit {
		t.Fatalf("kick commit removing someone else: %+v", ef)
	}
	ok, ef := e.alice.commitOp(proto.KindKick, carol.c.user, mls.CommitOptions{Remove: []uint32{e.alice.leafOf(carol.dev.uri)}},
		func(f *proto.RoomOp) { f.Reason = "spam" })
	if ef != nil {
		t.Fatalf("kick: %s %s", ef.Code, ef.Reason)
	}
	sync(ok.Seq, bob, dave, carol)
	if carol.g.Active() {
		t.Fatal("carol is still active after her removal")
	}
	// carol's subscription ended with the kick: nothing after it reaches her.
	_, a, _ := e.alice.send("after carol")
	if evs := carol.c.events(e.room, 1, 300*time.Millisecond); len(evs) != 0 {
		t.Fatalf("kicked carol got %+v", evs[0])
	}
	sync(a.Seq, bob, dave)

	// A ban whose commit does not remove dave's leaf is refused.
	if _, ef := e.alice.commitOp(proto.KindBan, dave.c.user, mls.CommitOptions{ForcePath: true}); ef == nil || ef.Code != proto.CodeBadCommit {
		t.Fatalf("ban leaving the leaf: %+v", ef)
	}
	ok, ef = e.alice.commitOp(proto.KindBan, dave.c.user, mls.CommitOptions{Remove: []uint32{e.alice.leafOf(dave.dev.uri)}})
	if ef != nil {
		t.Fatalf("ban: %s %s", ef.Code, ef.Reason)
	}
	sync(ok.Seq, bob, dave)
	sameEpoch(t, e.alice, bob)
	if dave.g.Active() || len(e.alice.g.Members()) != 2 {
		t.Fatalf("after the ban: dave active %v, %d members", dave.g.Active(), len(e.alice.g.Members()))
	}
	_ = all
}

// Leave is a SelfRemove the relay holds: the next commit without it is
// refused, with it accepted; the leaver's Welcomes are dropped.
func TestE2EELeaveSelfRemove(t *testing.T) {
	e := newE2ERoom(t, "leaving", "bob")
	bob := e.member(t, "bob", "phone")
	sr, err := bob.g.ProposeSelfRemove()
	if err != nil {
		t.Fatal(err)
	}
	leave := bob.c.mustOp(e.room, proto.KindLeave, "", func(f *proto.RoomOp) { f.MLS = sr })
	bob.c.send(&proto.Welcomes{RID: bob.c.nextRID(), Device: bob.dev.uri})
	if wl := expect[*proto.WelcomeList](bob.c); len(wl.Welcomes) != 0 {
		t.Fatalf("the leaver's welcomes stay: %+v", wl.Welcomes)
	}
	// alice commits before processing the leave: she omits the SelfRemove.
	if _, ef := e.alice.commitOp(proto.KindCommit, "", mls.CommitOptions{ForcePath: true}); ef == nil || ef.Code != proto.CodeBadCommit {
		t.Fatalf("commit omitting the held SelfRemove: %+v", ef)
	}
	// get_group_info hands the held proposal to external joiners.
	e.alice.c.send(&proto.GetGroupInfo{RID: e.alice.c.nextRID(), Room: e.room})
	if gi := expect[*proto.GroupInfo](e.alice.c); len(gi.Proposals) != 1 || gi.Epoch != e.alice.g.Epoch() {
		t.Fatalf("group_info: epoch %d, %d proposals", gi.Epoch, len(gi.Proposals))
	}
	e.alice.syncTo(leave.Seq)
	ok, ef := e.alice.commitOp(proto.KindCommit, "", mls.CommitOptions{})
	if ef != nil {
		t.Fatalf("commit with the SelfRemove: %s %s", ef.Code, ef.Reason)
	}
	if len(e.alice.g.Members()) != 1 {
		t.Fatalf("%d members after the leave's commit", len(e.alice.g.Members()))
	}
	_ = ok
}

// A member's new device joins by external commit; a non-member's is refused.
func TestE2EEExternalCommit(t *testing.T) {
	e := newE2ERoom(t, "external", "bob", "mallory")
	bob := e.member(t, "bob", "phone")
	laptop := e.device(t, "bob", "laptop")
	laptop.c.send(&proto.GetGroupInfo{RID: laptop.c.nextRID(), Room: e.room})
	gi := expect[*proto.GroupInfo](laptop.c)
	g, commit, err := mls.JoinExternal(gi.GroupInfo, laptop.dev.id, mls.ExternalJoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g.PublicHandshake = true
	newGI, err := g.GroupInfo(true)
	if err != nil {
		t.Fatal(err)
	}
	ok := laptop.c.mustOp(e.room, proto.KindCommit, "", func(f *proto.RoomOp) { f.MLS, f.GroupInfo = commit, newGI })
	laptop.g, laptop.room, laptop.last = g, e.room, ok.Seq
	laptop.c.subscribe(e.room, ok.Seq)
	e.alice.syncTo(ok.Seq)
	bob.syncTo(ok.Seq)
	sameEpoch(t, e.alice, bob, laptop)
	_, a, _ := e.alice.send("to every device")
	laptop.syncTo(a.Seq)
	if !slices.Contains(laptop.got, "to every device") {
		t.Fatalf("laptop decrypted %q", laptop.got)
	}

	// mallory is no member: no GroupInfo for her, and an external commit
	// made from one is refused (commit and join alike).
	mal := e.device(t, "mallory", "evil")
	mal.c.send(&proto.GetGroupInfo{RID: mal.c.nextRID(), Room: e.room})
	mal.c.expectError(proto.CodeNotMember)
	e.alice.c.send(&proto.GetGroupInfo{RID: e.alice.c.nextRID(), Room: e.room})
	gi = expect[*proto.GroupInfo](e.alice.c)
	_, commit, err = mls.JoinExternal(gi.GroupInfo, mal.dev.id, mls.ExternalJoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []proto.Kind{proto.KindCommit, proto.KindJoin} {
		_, ef := mal.c.op(e.room, op, "", func(f *proto.RoomOp) { f.MLS, f.GroupInfo = commit, gi.GroupInfo })
		if ef == nil || (ef.Code != proto.CodeNotMember && ef.Code != proto.CodeForbidden) {
			t.Fatalf("non-member's external %s: %+v", op, ef)
		}
	}
	// A member's connection cannot pass off another user's external commit.
	_, ef := bob.c.op(e.room, proto.KindCommit, "", func(f *proto.RoomOp) { f.MLS, f.GroupInfo = commit, gi.GroupInfo })
	if ef == nil || ef.Code != proto.CodeBadCommit {
		t.Fatalf("bob sending mallory's external commit: %+v", ef)
	}
}

// A version 4 connection touching an encrypted room is told why.
func TestE2EEVersion4Refused(t *testing.T) {
	e := newE2ERoom(t, "new", "bob")
	old := dialVersion(t, e.s.Addr(), e.toks["alice"], 4)
	for _, f := range []proto.Frame{
		message(t, old.user, e.room, "plain"),
		&proto.Subscribe{RID: 1, Room: e.room},
		&proto.History{RID: 2, Room: e.room},
		&proto.RoomOp{RID: 3, Room: e.room, Op: proto.KindInvite, Target: proto.UserURI("example.com", "bob")},
	} {
		old.send(f)
		ef := old.expectError(proto.CodeBadField)
		if ef.Field != "room" || ef.Reason != "room is end-to-end encrypted; needs protocol version 5" {
			t.Fatalf("%s: %+v", f.FrameType(), ef)
		}
	}
	old.send(&proto.Rooms{RID: 9})
	if rl := expect[*proto.RoomList](old); len(rl.Rooms) != 1 || rl.Rooms[0].Encrypted {
		t.Fatalf("v4 room list %+v", rl.Rooms)
	}
	// Plaintext rooms refuse the version 5 keys.
	plain := e.alice.c.createRoom("plain", proto.CreateRoom{})
	_, ef := e.alice.c.op(plain, proto.KindTopic, "", func(f *proto.RoomOp) { f.Value = "x" })
	if ef != nil {
		t.Fatal(ef.Reason)
	}
	_, ef = e.alice.c.op(plain, proto.KindCommit, "", func(f *proto.RoomOp) { f.MLS, f.GroupInfo = []byte{1}, []byte{1} })
	if ef == nil || ef.Code != proto.CodeBadField {
		t.Fatalf("mls in a plaintext room: %+v", ef)
	}
}

// The relay's view of each group survives a restart: after it, the next
// commit is verified against the saved epoch and tree, a stale one is still
// refused, and messages flow.
func TestE2EERestart(t *testing.T) {
	data := t.TempDir()
	s := startRelay(t, Config{RatePerSec: -1, Data: data})
	e := &e2eRoom{s: s, toks: map[string]string{"alice": addUser(t, s.Store(), "alice"), "bob": addUser(t, s.Store(), "bob")}, devs: map[string]string{}}
	e.alice = e.device(t, "alice", "laptop")
	e.room = e.alice.create("durable", proto.CreateRoom{})
	bob := e.member(t, "bob", "phone")
	ok, ef := bob.commitOp(proto.KindCommit, "", mls.CommitOptions{ForcePath: true})
	if ef != nil {
		t.Fatal(ef.Reason)
	}
	e.alice.syncTo(ok.Seq)
	stale, err := e.alice.g.Commit(mls.CommitOptions{ForcePath: true}) // made now, sent after bob's next commit
	if err != nil {
		t.Fatal(err)
	}
	e.alice.g.ClearPendingCommit()
	s.Shutdown(t.Context())

	s = startRelay(t, Config{RatePerSec: -1, Data: data})
	for _, d := range []*e2eDevice{e.alice, bob} {
		d.c = dialDevice(t, s.Addr(), e.toks[map[*e2eDevice]string{e.alice: "alice", bob: "bob"}[d]], d.dev.uri)
		d.c.subscribe(e.room, d.last)
	}
	e.alice.c.send(&proto.RoomInfo{RID: e.alice.c.nextRID(), Room: e.room})
	if st := expect[*proto.RoomState](e.alice.c); !st.Encrypted || st.Epoch != e.alice.g.Epoch() {
		t.Fatalf("after restart: room state %+v, alice at epoch %d", st, e.alice.g.Epoch())
	}
	ok, ef = bob.commitOp(proto.KindCommit, "", mls.CommitOptions{ForcePath: true})
	if ef != nil {
		t.Fatalf("commit after restart: %s %s", ef.Code, ef.Reason)
	}
	_, ef = e.alice.c.op(e.room, proto.KindCommit, "", func(f *proto.RoomOp) { f.MLS, f.GroupInfo = stale.Commit, stale.GroupInfo })
	if ef == nil || ef.Code != proto.CodeStaleEpoch || ef.Epoch != bob.g.Epoch() {
		t.Fatalf("stale commit after restart: %+v", ef)
	}
	e.alice.syncTo(ok.Seq)
	_, a, ef := e.alice.send("after the restart")
	if ef != nil {
		t.Fatal(ef.Reason)
	}
	bob.syncTo(a.Seq)
	if !slices.Contains(bob.got, "after the restart") {
		t.Fatalf("bob decrypted %q", bob.got)
	}
	sameEpoch(t, e.alice, bob)
}

// An open encrypted room: a non-member joins by an external commit with
// op join; without one it is told to.
func TestE2EEOpenRoomExternalJoin(t *testing.T) {
	e := newE2ERoom(t, "open", "carol")
	e.alice.c.mustOp(e.room, proto.KindJoinPolicy, "", func(f *proto.RoomOp) { f.Value = proto.JoinOpen })
	carol := e.device(t, "carol", "desk")
	if _, ef := carol.c.op(e.room, proto.KindJoin, ""); ef == nil || ef.Code != proto.CodeBadField || ef.Field != "mls" {
		t.Fatalf("join of an open encrypted room without a commit: %+v", ef)
	}
	ok := carol.joinExternal(e.room)
	e.alice.syncTo(ok.Seq)
	_, a, _ := e.alice.send("welcome carol")
	carol.syncTo(a.Seq)
	if !slices.Contains(carol.got, "welcome carol") {
		t.Fatalf("carol decrypted %q", carol.got)
	}
	if n := e.s.metrics.badCommit.Load() + e.s.metrics.staleEpoch.Load(); n != 0 {
		t.Fatalf("%d MLS refusals counted in a clean run", n)
	}
}

// A user with two devices leaves from one: its SelfRemove and a Remove of
// the other device's leaf, which must cover every leaf of the user; the
// next commit carries both.
func TestE2EELeaveWithTwoDevices(t *testing.T) {
	e := newE2ERoom(t, "twodevices", "bob")
	phone := e.device(t, "bob", "phone")
	laptop := e.device(t, "bob", "laptop")
	ok := e.alice.invite(phone.c.user)
	phone.joinFromWelcome()
	laptop.joinFromWelcome(true)
	e.alice.syncTo(ok.Seq + 1)
	if n := len(e.alice.g.Members()); n != 3 {
		t.Fatalf("%d members, want alice and bob's two devices", n)
	}
	sr, err := phone.g.ProposeSelfRemove()
	if err != nil {
		t.Fatal(err)
	}
	if _, ef := phone.c.op(e.room, proto.KindLeave, "", func(f *proto.RoomOp) { f.MLS = sr }); ef == nil || ef.Code != proto.CodeBadCommit || ef.Field != "proposals" {
		t.Fatalf("leave leaving the laptop's leaf: %+v", ef)
	}
	rm, err := phone.g.ProposeRemove(phone.leafOf(laptop.dev.uri))
	if err != nil {
		t.Fatal(err)
	}
	leave := phone.c.mustOp(e.room, proto.KindLeave, "", func(f *proto.RoomOp) { f.MLS, f.Proposals = sr, [][]byte{rm} })
	e.alice.syncTo(leave.Seq)
	e.alice.c.send(&proto.GetGroupInfo{RID: e.alice.c.nextRID(), Room: e.room})
	if gi := expect[*proto.GroupInfo](e.alice.c); len(gi.Proposals) != 2 {
		t.Fatalf("the relay holds %d proposals, want 2", len(gi.Proposals))
	}
	if _, ef := e.alice.commitOp(proto.KindCommit, "", mls.CommitOptions{}); ef != nil {
		t.Fatalf("commit of the leave: %s %s", ef.Code, ef.Reason)
	}
	if n := len(e.alice.g.Members()); n != 1 {
		t.Fatalf("%d members after the leave's commit, want 1", n)
	}
}

// hello.device must be a device of the authenticated user.
func TestE2EEHelloDevice(t *testing.T) {
	s := startRelay(t, Config{})
	tok := addUser(t, s.Store(), "alice")
	addUser(t, s.Store(), "bob")
	for _, tc := range []struct {
		device string
		code   proto.Code
	}{{"mimi://example.com/d/bob/phone", proto.CodeForbidden}, {"mimi://example.com/d/alice/", proto.CodeBadField}} {
		c := &client{t: t, ws: dialRaw(t, s.Addr()), frames: make(chan proto.Frame, 16), closed: make(chan struct{})}
		go c.readLoop()
		c.send(&proto.Hello{V: proto.Version, Token: tok, Device: tc.device})
		ef := c.expectError(tc.code)
		if !ef.Fatal || !c.waitClosed(5*time.Second) {
			t.Fatalf("%s: %+v not fatal, or the connection stayed open", tc.device, ef)
		}
		c.ws.Close()
	}
	c := dialDevice(t, s.Addr(), tok, "mimi://example.com/d/alice/phone")
	c.send(&proto.Rooms{RID: 1})
	expect[*proto.RoomList](c)
}
