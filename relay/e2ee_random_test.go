package relay

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/mls"
	"mimichat/proto"
)

// Random operations with racing commits, on real MLS clients over real
// websockets: MIMICHAT_E2EE_RANDOM_OPS sets the number of operations (300
// for the long run; default 60, 30 with -short), MIMICHAT_E2EE_RANDOM_SEED
// replays a logged run's choices (race outcomes depend on timing, and
// steer later choices).
const (
	randOpsEnv   = "MIMICHAT_E2EE_RANDOM_OPS"
	randSeedEnv  = "MIMICHAT_E2EE_RANDOM_SEED"
	randTraceEnv = "MIMICHAT_E2EE_RANDOM_TRACE" // log every operation and its answer
)

// randUser is one relay user of the run with its devices.
type randUser struct {
	name, uri, tok string
	role           proto.Role // role given on every invite
	joined         bool
	devs           []*randDevice
}

// randDevice is one MLS client; in says it is a leaf the model expects.
type randDevice struct {
	*e2eDevice
	user          *randUser
	name          string
	tok           string // this device's token: its user's for the first device, an extra one after (per-device tokens)
	in            bool
	joinEpoch     uint64 // the first epoch it holds the secrets of
	decrypted     int
	undecryptable int // messages of epochs before its join: must fail
}

type randLeave struct {
	seq    uint64
	leaves []*randDevice
}

// randMsg is an application message the relay ordered.
type randMsg struct {
	epoch uint64
	text  string
	from  *randDevice
}

// randOp is one prepared operation of a round.
type randOp struct {
	kind   string // send, update, invite, kick, leave, device
	d      *randDevice
	target *randUser
	frame  proto.Frame
	epoch  uint64     // sealing epoch of a send
	text   string     // text of a send
	ext    *mls.Group // the new device's group of an external commit
	reply  proto.Frame
}

func (o *randOp) commits() bool {
	return o.kind == "update" || o.kind == "invite" || o.kind == "kick" || o.kind == "device"
}

// randRun is the model of the room the test checks the clients against.
type randRun struct {
	t    *testing.T
	rng  *rand.Rand
	addr string
	// deviceToken issues a user's further device a token of its own
	// (per-device tokens: the user's token is bound to its first device).
	deviceToken func(user string) string
	room        string
	users       []*randUser
	alice       *randDevice
	msgs        map[uint64]randMsg
	head        uint64
	// leaving holds the users whose leave proposals the relay holds until
	// the next commit, with the devices still leaves and the leave's seq.
	leaving map[*randUser]randLeave
	retry   []*randOp
	gone    map[*randUser]bool // removed by operations stored before a SIGKILL: no subscription to sync with
	count   map[string]int     // accepted operations by kind
	lost    map[proto.Code]int // refused operations that lost a race, by code
	sent    int
	// A round with a client process SIGKILLed during its commit
	// (e2ee_random_client_kill_test.go): exclude keeps its user out of the
	// round's other operations, childWon says its commit was stored,
	// roundEpoch is the epoch the round began at, skipCheck defers the
	// check until the device has rejoined.
	exclude    *randUser
	childWon   bool
	roundEpoch *uint64
	skipCheck  bool
}

// connect (re)connects d with a fresh connection; a removed device's old
// connection may still hold events of its old membership.
func (r *randRun) connect(d *randDevice) {
	if d.e2eDevice != nil {
		d.c.ws.Close()
		d.c = dialDevice(r.t, r.addr, d.tok, d.dev.uri)
		return
	}
	if d.tok = d.user.tok; len(d.user.devs) > 0 {
		d.tok = r.deviceToken(d.user.name)
	}
	d.e2eDevice = newE2EDevice(r.t, r.addr, d.tok, d.user.uri, d.name, 3)
}

func (r *randRun) newDevice(u *randUser, name string) *randDevice {
	d := &randDevice{user: u, name: name}
	r.connect(d)
	u.devs = append(u.devs, d)
	return d
}

func (r *randRun) devices() []*randDevice {
	var out []*randDevice
	for _, u := range r.users {
		for _, d := range u.devs {
			if d.in {
				out = append(out, d)
			}
		}
	}
	return out
}

// apply processes the next event of the room at d: handshakes into the
// group; a message decrypts exactly when it was sealed in an epoch d holds.
func (r *randRun) apply(d *randDevice, e *proto.Event) {
	t := r.t
	t.Helper()
	if e.Seq != d.last+1 {
		t.Fatalf("%s: event %d after %d", d.dev.uri, e.Seq, d.last)
	}
	d.last = e.Seq
	if d.mine[e.Seq] {
		return
	}
	if e.Kind != proto.KindMessage {
		for _, h := range append([][]byte{e.MLS}, e.Proposals...) {
			if len(h) == 0 {
				continue
			}
			if _, err := d.g.Process(h); err != nil {
				t.Fatalf("%s: handshake of #%d (%s): %v", d.dev.uri, e.Seq, e.Kind, err)
			}
		}
		return
	}
	m, ok := r.msgs[e.Seq]
	if !ok {
		t.Fatalf("%s: message #%d was never acked", d.dev.uri, e.Seq)
	}
	got, err := d.g.Process(e.Content)
	if m.epoch < d.joinEpoch {
		if err == nil {
			t.Fatalf("%s joined at epoch %d decrypted #%d of epoch %d", d.dev.uri, d.joinEpoch, e.Seq, m.epoch)
		}
		d.undecryptable++
		return
	}
	if err != nil {
		t.Fatalf("%s (joined at epoch %d, at %d): decrypt #%d of epoch %d from %s: %v", d.dev.uri, d.joinEpoch, d.g.Epoch(), e.Seq, m.epoch, m.from.dev.uri, err)
	}
	msg, err := content.Decode(got.Data)
	if err != nil {
		t.Fatalf("%s: content #%d: %v", d.dev.uri, e.Seq, err)
	}
	if string(msg.Body.Content) != m.text || got.Epoch != m.epoch {
		t.Fatalf("%s: #%d decrypted %q of epoch %d, sent %q of epoch %d", d.dev.uri, e.Seq, msg.Body.Content, got.Epoch, m.text, m.epoch)
	}
	if sender := r.leafURI(d, got.Sender.Index); sender != m.from.dev.uri {
		t.Fatalf("%s: #%d from leaf of %s, sent by %s", d.dev.uri, e.Seq, sender, m.from.dev.uri)
	}
	d.decrypted++
}

func (r *randRun) leafURI(d *randDevice, leaf uint32) string {
	for _, m := range d.g.Members() {
		if m.Leaf == leaf {
			return string(m.Credential.Identity)
		}
	}
	return ""
}

func (r *randRun) syncTo(d *randDevice, seq uint64) {
	r.t.Helper()
	for d.last < seq {
		evs := d.c.events(r.room, 1, 10*time.Second)
		if len(evs) == 0 {
			r.t.Fatalf("%s: no event after %d (want up to %d)", d.dev.uri, d.last, seq)
		}
		r.apply(d, evs[0])
	}
}

// pick chooses a valid operation for d, or nil; busy holds the users
// acting or targeted in this round.
func (r *randRun) pick(d *randDevice, kind string, busy map[*randUser]bool) *randOp {
	u := d.user
	mod := u.role == proto.RoleOwner || u.role == proto.RoleModerator
	targets := func(joined bool) []*randUser {
		var out []*randUser
		for _, v := range r.users {
			if v != u && v.joined == joined && !busy[v] && r.leaving[v].seq == 0 && v.role != proto.RoleOwner &&
				(u.role == proto.RoleOwner || v.role == proto.RoleMember) {
				out = append(out, v)
			}
		}
		return out
	}
	o := &randOp{kind: kind, d: d}
	switch kind {
	case "send", "update":
	case "invite", "kick":
		ts := targets(kind == "kick")
		if !mod || len(ts) == 0 {
			return nil
		}
		o.target = ts[r.rng.IntN(len(ts))]
	case "leave":
		if u.role == proto.RoleOwner {
			return nil
		}
	default:
		return nil
	}
	return o
}

// prepare makes o's frame at the device's current epoch (claims and
// GroupInfo fetches happen here, before the racing sends).
func (r *randRun) prepare(o *randOp) {
	t, d := r.t, o.d
	t.Helper()
	commit := func(op proto.Kind, opts mls.CommitOptions) *proto.RoomOp {
		res, err := d.g.Commit(opts)
		if err != nil {
			t.Fatalf("%s: commit: %v", d.dev.uri, err)
		}
		f := &proto.RoomOp{RID: d.c.nextRID(), Room: r.room, Op: op, MLS: res.Commit, GroupInfo: res.GroupInfo}
		if op == proto.KindInvite {
			f.Welcome = res.Welcome
		}
		return f
	}
	switch o.kind {
	case "send":
		r.sent++
		o.text = fmt.Sprintf("m%d from %s", r.sent, d.dev.uri)
		o.epoch = d.g.Epoch()
		s := d.seal(o.text)
		s.RID = d.c.nextRID()
		o.frame = s
	case "update":
		o.frame = commit(proto.KindCommit, mls.CommitOptions{ForcePath: len(r.leaving) == 0 || r.rng.IntN(2) == 0})
	case "invite":
		kps := d.claim(o.target.uri)
		if len(kps) != len(o.target.devs) {
			t.Fatalf("claimed %d KeyPackages of %s, who has %d devices", len(kps), o.target.name, len(o.target.devs))
		}
		f := commit(proto.KindInvite, mls.CommitOptions{Add: kps})
		f.Target, f.Role = o.target.uri, o.target.role
		o.frame = f
	case "kick":
		var leaves []uint32
		for _, m := range d.g.Members() {
			for _, td := range o.target.devs {
				if string(m.Credential.Identity) == td.dev.uri {
					leaves = append(leaves, m.Leaf)
				}
			}
		}
		f := commit(proto.KindKick, mls.CommitOptions{Remove: leaves})
		f.Target = o.target.uri
		o.frame = f
	case "leave":
		sr, err := d.g.ProposeSelfRemove()
		if err != nil {
			t.Fatal(err)
		}
		f := &proto.RoomOp{RID: d.c.nextRID(), Room: r.room, Op: proto.KindLeave, MLS: sr}
		for _, od := range d.user.devs {
			if od != d && od.in {
				rm, err := d.g.ProposeRemove(d.leafOf(od.dev.uri))
				if err != nil {
					t.Fatal(err)
				}
				f.Proposals = append(f.Proposals, rm)
			}
		}
		o.frame = f
	case "device":
		d.c.send(&proto.GetGroupInfo{RID: d.c.nextRID(), Room: r.room})
		gi := expect[*proto.GroupInfo](d.c)
		g, ext, err := mls.JoinExternal(gi.GroupInfo, d.dev.id, mls.ExternalJoinOptions{})
		if err != nil {
			t.Fatalf("%s: external join: %v", d.dev.uri, err)
		}
		g.PublicHandshake = true
		newGI, err := g.GroupInfo(true)
		if err != nil {
			t.Fatal(err)
		}
		o.ext = g
		o.frame = &proto.RoomOp{RID: d.c.nextRID(), Room: r.room, Op: proto.KindCommit, MLS: ext, GroupInfo: newGI}
	}
}

// reply waits for the answer to the one request in flight on c.
func reply(c *client) proto.Frame {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		switch v := c.next(time.Until(deadline)).(type) {
		case *proto.OK, *proto.Ack, *proto.ErrorFrame:
			return v
		default:
			c.stash = append(c.stash, v)
		}
	}
}

// round runs up to n operations at once and returns how many it ran.
func (r *randRun) round(n int) int {
	r.t.Helper()
	ops := r.start(n)
	for _, o := range ops {
		o.reply = reply(o.d.c)
	}
	r.trace(ops)
	r.settle(ops)
	return len(ops)
}

func (r *randRun) trace(ops []*randOp) {
	if os.Getenv(randTraceEnv) != "" {
		for _, o := range ops {
			r.t.Logf("%s %s %v -> %#v", o.d.dev.uri, o.kind, o.target != nil, o.reply)
		}
	}
}

// start picks, prepares and sends (at once) up to n operations.
func (r *randRun) start(n int) []*randOp {
	r.t.Helper()
	return r.race(r.prepareRound(n))
}

// prepareRound picks and prepares up to n operations, all made at the
// epoch every member is at now: a round racing a killed client's commit
// prepares before the child is told to go, or an external join would read
// the GroupInfo of the child's epoch and commit on top of it.
func (r *randRun) prepareRound(n int) []*randOp {
	t := r.t
	t.Helper()
	busy := map[*randUser]bool{}
	var ops []*randOp
	add := func(o *randOp) bool {
		if o == nil || busy[o.d.user] || (o.target != nil && busy[o.target]) ||
			(r.exclude != nil && (o.d.user == r.exclude || o.target == r.exclude)) {
			return false
		}
		busy[o.d.user] = true
		if o.target != nil {
			busy[o.target] = true
		}
		ops = append(ops, o)
		return true
	}
	// Losers of the last round retry first (when still valid).
	for _, o := range r.retry {
		if len(ops) < n && o.d.in && o.d.user.joined && r.leaving[o.d.user].seq == 0 {
			add(r.pick(o.d, o.kind, busy))
		}
	}
	r.retry = nil
	// The new device joins by external commit while its user is joined.
	bob := r.users[1]
	if tablet := bob.devs[len(bob.devs)-1]; len(ops) < n && bob.joined && (tablet.name != "tablet" || !tablet.in) &&
		len(r.leaving) == 0 && !busy[bob] && r.rng.IntN(4) == 0 {
		if tablet.name != "tablet" {
			tablet = r.newDevice(bob, "tablet")
		}
		add(&randOp{kind: "device", d: tablet})
	}
	devs := r.devices()
	kinds := []string{"send", "send", "send", "send", "update", "update", "invite", "invite", "kick", "leave"}
	for tries := 0; len(ops) < n && tries < 20; tries++ {
		d := devs[r.rng.IntN(len(devs))]
		add(r.pick(d, kinds[r.rng.IntN(len(kinds))], busy))
	}
	// Held leave proposals need a commit: make sure one is attempted.
	if len(ops) == 0 {
		if r.exclude != nil {
			return nil // the killed client's commit is the round
		}
		ops = append(ops, &randOp{kind: "update", d: r.alice})
	}
	if len(r.leaving) > 0 && !slices.ContainsFunc(ops, (*randOp).commits) {
		ops[0] = &randOp{kind: "update", d: ops[0].d}
	}
	for _, o := range ops {
		r.prepare(o)
	}
	return ops
}

// race sends the prepared ops at once.
func (r *randRun) race(ops []*randOp) []*randOp {
	t := r.t
	t.Helper()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, o := range ops {
		data, err := proto.Encode(o.frame)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := o.d.c.trySendRaw(data); err != nil {
				t.Errorf("%s: write: %v", o.d.dev.uri, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	return ops
}

// settle applies the answers of a round to the clients and the model.
func (r *randRun) settle(ops []*randOp) {
	t := r.t
	t.Helper()
	startEpoch := r.alice.g.Epoch() // every member was at it when the round began
	if r.roundEpoch != nil {
		startEpoch = *r.roundEpoch
	}
	var winner *randOp
	var leave *randOp
	for _, o := range ops {
		if ok, isOK := o.reply.(*proto.OK); isOK && o.kind != "send" {
			r.head = max(r.head, ok.Seq)
			if o.kind == "leave" {
				leave = o
				continue
			}
			if winner != nil {
				t.Fatalf("two commits of one epoch accepted: %s's %s and %s's %s", winner.d.dev.uri, winner.kind, o.d.dev.uri, o.kind)
			}
			winner = o
		}
	}
	if winner != nil && leave != nil {
		t.Fatalf("a leave and a commit of the same epoch both accepted (%s's %s)", winner.d.dev.uri, winner.kind)
	}
	for _, o := range ops {
		d := o.d
		switch v := o.reply.(type) {
		case *proto.Ack:
			if o.kind != "send" || v.Dup {
				t.Fatalf("%s: %s acked %+v", d.dev.uri, o.kind, v)
			}
			r.msgs[v.Seq] = randMsg{epoch: o.epoch, text: o.text, from: d}
			d.mine[v.Seq] = true
			r.head = max(r.head, v.Seq)
			r.count["send"]++
		case *proto.ErrorFrame:
			raced := v.Code == proto.CodeStaleEpoch && (winner != nil || r.childWon) && v.Epoch == startEpoch+1
			// A commit made before it saw a leave lost to omitting it.
			if leave != nil && v.Code == proto.CodeBadCommit && o.commits() {
				raced = true
			}
			if v.Code == codeKilled {
				raced = true // the relay died before it stored this one
			}
			if (o.kind == "send" && v.Code != codeKilled) || !raced {
				t.Fatalf("%s: %s refused %s (epoch %d): %s; winner %v", d.dev.uri, o.kind, v.Code, v.Epoch, v.Reason, winner != nil)
			}
			r.lost[v.Code]++
			if o.kind != "device" && o.kind != "leave" {
				d.g.ClearPendingCommit()
			}
			if r.rng.IntN(2) == 0 && o.kind != "device" {
				r.retry = append(r.retry, o)
			}
		case *proto.OK:
			r.count[o.kind]++
			if o.kind == "device" {
				d.g, d.room, d.in, d.joinEpoch = o.ext, r.room, true, o.ext.Epoch()
				d.mine = map[uint64]bool{}
				d.subscribe(v.Seq)
				continue
			}
			if o.kind == "leave" {
				l := randLeave{seq: v.Seq}
				d.user.joined = false
				for _, ld := range d.user.devs {
					if ld.in {
						l.leaves = append(l.leaves, ld)
						ld.in = false
						r.connect(ld)
					}
				}
				r.leaving[d.user] = l
				continue
			}
			if err := d.g.MergePendingCommit(); err != nil {
				t.Fatal(err)
			}
			d.mine[v.Seq] = true
			for u, l := range r.leaving {
				if v.Seq > l.seq {
					delete(r.leaving, u) // the commit carried the held proposals
				}
			}
		}
	}
	if winner != nil && winner.kind == "kick" {
		ok := winner.reply.(*proto.OK)
		winner.target.joined = false
		for _, kd := range winner.target.devs {
			if kd.in {
				if !r.gone[kd.user] {
					r.syncTo(kd, ok.Seq)
					if kd.g.Active() {
						t.Fatalf("%s is still active after its kick #%d", kd.dev.uri, ok.Seq)
					}
				}
				kd.in = false
				r.connect(kd)
			}
		}
	}
	if winner != nil && winner.kind == "invite" {
		u := winner.target
		u.joined = true
		for i, jd := range u.devs {
			r.joinFromWelcome(jd, i == 0)
		}
	}
	clear(r.gone)
	for _, d := range r.devices() {
		r.syncTo(d, r.head)
	}
	if !r.skipCheck {
		r.check()
	}
}

// joinFromWelcome joins d from the one Welcome the relay lists for it.
func (r *randRun) joinFromWelcome(d *randDevice, sendJoin bool) {
	t := r.t
	t.Helper()
	d.c.send(&proto.Welcomes{RID: d.c.nextRID(), Device: d.dev.uri})
	wl := expect[*proto.WelcomeList](d.c)
	if len(wl.Welcomes) != 1 {
		t.Fatalf("%s: %d welcomes, want 1", d.dev.uri, len(wl.Welcomes))
	}
	g, err := d.joinWelcome(wl.Welcomes[0].Welcome)
	if err != nil {
		t.Fatalf("%s: join from Welcome: %v", d.dev.uri, err)
	}
	d.g, d.room, d.in, d.joinEpoch = g, r.room, true, g.Epoch()
	d.mine = map[uint64]bool{}
	d.subscribe(wl.Welcomes[0].Seq)
	if sendJoin {
		ok := d.c.mustOp(r.room, proto.KindJoin, "")
		r.head = max(r.head, ok.Seq)
	}
}

// check: every device in the group agrees on the epoch authenticator, and
// the group's leaves are the model's.
func (r *randRun) check() {
	t := r.t
	t.Helper()
	devs := r.devices()
	for _, d := range devs {
		if d.g.Epoch() != r.alice.g.Epoch() || !bytes.Equal(d.g.EpochAuthenticator(), r.alice.g.EpochAuthenticator()) {
			t.Fatalf("%s at epoch %d disagrees with alice at epoch %d", d.dev.uri, d.g.Epoch(), r.alice.g.Epoch())
		}
	}
	var want, got []string
	for _, l := range r.leaving {
		devs = append(devs, l.leaves...)
	}
	for _, d := range devs {
		want = append(want, d.dev.uri)
	}
	for _, m := range r.alice.g.Members() {
		got = append(got, string(m.Credential.Identity))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		t.Fatalf("group leaves %q, model %q", got, want)
	}
}

// newRandRun starts the room: alice (owner) and four users with one device
// each; bob is invited as a moderator, so invites and kicks race too.
func newRandRun(t *testing.T, addr string, toks map[string]string, deviceToken func(string) string, seed uint64) *randRun {
	r := &randRun{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), addr: addr, deviceToken: deviceToken,
		msgs: map[uint64]randMsg{}, leaving: map[*randUser]randLeave{}, lost: map[proto.Code]int{}, gone: map[*randUser]bool{}, count: map[string]int{}}
	for _, name := range []string{"alice", "bob", "carol", "dave", "erin"} {
		u := &randUser{name: name, uri: proto.UserURI("example.com", name), tok: toks[name], role: proto.RoleMember}
		r.users = append(r.users, u)
		r.newDevice(u, "phone")
	}
	r.users[0].role, r.users[1].role = proto.RoleOwner, proto.RoleModerator
	r.alice = r.users[0].devs[0]
	r.room = r.alice.create("random", proto.CreateRoom{Name: "Random"})
	r.users[0].joined, r.alice.in = true, true
	return r
}

// finish commits held proposals and checks the end state.
func (r *randRun) finish() {
	t := r.t
	t.Helper()
	if len(r.leaving) > 0 {
		ok, ef := r.alice.commitOp(proto.KindCommit, "", mls.CommitOptions{})
		if ef != nil {
			t.Fatalf("final commit: %s: %s", ef.Code, ef.Reason)
		}
		r.head = max(r.head, ok.Seq)
		clear(r.leaving)
		for _, d := range r.devices() {
			r.syncTo(d, r.head)
		}
	}
	r.check()
	r.alice.c.send(&proto.RoomInfo{RID: r.alice.c.nextRID(), Room: r.room})
	if st := expect[*proto.RoomState](r.alice.c); st.Epoch != r.alice.g.Epoch() {
		t.Fatalf("the relay is at epoch %d, the group at %d", st.Epoch, r.alice.g.Epoch())
	}
	// No device got a message twice or missed one: every message after a
	// device's join was decrypted by it, checked as it was processed; here
	// the totals.
	var dec, undec int
	for _, u := range r.users {
		for _, d := range u.devs {
			dec += d.decrypted
			undec += d.undecryptable
		}
	}
	t.Logf("%d ops accepted %v, lost races %v; %d messages, %d decryptions, %d undecryptable as expected (sealed before the reader's join); final epoch %d, %d leaves",
		sumCounts(r.count), r.count, r.lost, len(r.msgs), dec, undec, r.alice.g.Epoch(), len(r.alice.g.Members()))
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func randParams(t *testing.T) (ops int, seed uint64) {
	ops = 60
	if testing.Short() {
		ops = 30
	}
	if v := os.Getenv(randOpsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive count", randOpsEnv, v)
		}
		ops = n
	}
	seed = uint64(time.Now().UnixNano())
	if v := os.Getenv(randSeedEnv); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want a number", randSeedEnv, v)
		}
		seed = s
	}
	t.Logf("%d operations, seed %d (replay with %s=%d)", ops, seed, randSeedEnv, seed)
	return ops, seed
}

// Five users' devices (and a sixth joining by external commit) run random
// operations, several at once at the same epoch: sends, invites, kicks,
// leaves, path updates, a device added. Exactly one commit per epoch wins,
// the losers get stale_epoch (or bad_commit for omitting a leave that won)
// and catch up from the relay's frames. After every round and at the end,
// every member agrees on the epoch authenticator and the leaves; every
// member decrypts exactly the messages sealed in epochs it holds.
func TestE2EERandomOperations(t *testing.T) {
	ops, seed := randParams(t)
	s := startRelay(t, Config{RatePerSec: -1})
	toks := map[string]string{}
	for _, name := range []string{"alice", "bob", "carol", "dave", "erin"} {
		toks[name] = addUser(t, s.Store(), name)
	}
	r := newRandRun(t, s.Addr(), toks, storeDeviceToken(t, s.Store()), seed)
	deadline := time.Now().Add(time.Duration(ops) * time.Second)
	rounds := 0
	for done := 0; done < ops; rounds++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d operations after %d rounds: over the time budget", done, ops, rounds)
		}
		done += r.round(1 + r.rng.IntN(3))
	}
	r.finish()
	t.Logf("%d rounds", rounds)
}

// storeDeviceToken issues extra device tokens from st (a running relay's
// store, or one opened beside a relay process).
func storeDeviceToken(t testing.TB, st *Store) func(string) string {
	return func(user string) string {
		t.Helper()
		tok, _, err := st.AddDeviceToken(user)
		if err != nil {
			t.Fatalf("a device token of %s: %v", user, err)
		}
		return tok
	}
}
