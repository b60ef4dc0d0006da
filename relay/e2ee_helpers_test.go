package relay

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/mls"
	"mimichat/proto"
)

// e2eDevice is one real MLS client of a relay user, connected with a
// hello naming its device, following one encrypted room's group from the
// room log as a member would.
type e2eDevice struct {
	t       testing.TB
	c       *client
	dev     testDevice
	bundles []*mls.KeyPackageBundle
	g       *mls.Group
	room    string
	last    uint64          // last seq of room processed
	mine    map[uint64]bool // seqs of own commits and messages (already applied)
	got     []string        // decrypted texts, in log order
}

// dialDevice connects speaking version 5 with hello.device.
func dialDevice(t testing.TB, addr, token, device string) *client {
	t.Helper()
	// A relay that cannot check the token now (a cluster electing its
	// stream's leader) refuses with internal; a client dials again, as the
	// session does.
	for try := 0; ; try++ {
		c := &client{t: t, ws: dialRaw(t, addr), frames: make(chan proto.Frame, 1<<16), closed: make(chan struct{})}
		t.Cleanup(func() { c.ws.Close() })
		go c.readLoop()
		c.send(&proto.Hello{V: proto.Version, Token: token, Client: "relay-test", Device: device})
		w, ef := answerOrError[*proto.Welcome](c)
		if ef != nil && ef.Code == proto.CodeInternal && try < 50 {
			c.ws.Close()
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if ef != nil {
			t.Fatalf("hello refused: %s: %s", ef.Code, ef.Reason)
		}
		c.user = w.User
		return c
	}
}

// newE2EDevice connects device name of the user holding token and uploads
// kps KeyPackages (and a last-resort one).
func newE2EDevice(t testing.TB, addr, token, user, name string, kps int) *e2eDevice {
	t.Helper()
	d := &e2eDevice{t: t, dev: newTestDevice(t, user, name, mls.CipherSuite(1)), mine: map[uint64]bool{}}
	d.c = dialDevice(t, addr, token, d.dev.uri)
	var upload [][]byte
	for i := 0; i <= kps; i++ {
		var opts []mls.KeyPackageOption
		if i == kps {
			opts = append(opts, mls.WithLastResort())
		}
		b, err := mls.NewKeyPackage(d.dev.id, opts...)
		if err != nil {
			t.Fatal(err)
		}
		d.bundles = append(d.bundles, b)
		upload = append(upload, b.KeyPackage)
	}
	if _, ef := d.c.upload(d.dev.uri, upload); ef != nil {
		t.Fatalf("upload: %s: %s", ef.Code, ef.Reason)
	}
	return d
}

// create makes an encrypted room with d's one-member group.
func (d *e2eDevice) create(slug string, f proto.CreateRoom) string {
	d.t.Helper()
	uri := proto.RoomURI("example.com", slug)
	g, err := mls.NewGroup(d.dev.id, []byte(uri), nil)
	if err != nil {
		d.t.Fatal(err)
	}
	g.PublicHandshake = true
	gi, err := g.GroupInfo(true)
	if err != nil {
		d.t.Fatal(err)
	}
	f.Suite, f.GroupInfo = 1, gi
	room := d.c.createRoom(slug, f)
	d.g, d.room = g, room
	d.subscribe(0)
	return room
}

func (d *e2eDevice) subscribe(since uint64) {
	d.t.Helper()
	d.c.subscribe(d.room, since)
	d.last = since
}

// claim claims one KeyPackage per device of user.
func (d *e2eDevice) claim(user string) [][]byte {
	d.t.Helper()
	d.c.send(&proto.ClaimKeyPackages{RID: d.c.nextRID(), User: user, Suite: 1})
	km, ef := answerOrError[*proto.KeyMaterial](d.c)
	if ef != nil {
		d.t.Fatalf("claim %s: %s: %s", user, ef.Code, ef.Reason)
	}
	var out [][]byte
	for _, dk := range km.Devices {
		if dk.Status == proto.DeviceSuccess {
			out = append(out, dk.KeyPackage)
		}
	}
	return out
}

// commitOp commits opts and sends it as op (target, welcome when adding);
// on ok the commit is merged, on an error frame it is cleared.
func (d *e2eDevice) commitOp(op proto.Kind, target string, opts mls.CommitOptions, mod ...func(*proto.RoomOp)) (*proto.OK, *proto.ErrorFrame) {
	d.t.Helper()
	res, err := d.g.Commit(opts)
	if err != nil {
		d.t.Fatalf("commit: %v", err)
	}
	ok, ef := d.c.op(d.room, op, target, append([]func(*proto.RoomOp){func(f *proto.RoomOp) {
		f.MLS, f.GroupInfo = res.Commit, res.GroupInfo
		if op == proto.KindInvite {
			f.Welcome = res.Welcome
		}
	}}, mod...)...)
	if ef != nil {
		d.g.ClearPendingCommit()
		return nil, ef
	}
	if err := d.g.MergePendingCommit(); err != nil {
		d.t.Fatal(err)
	}
	d.mine[ok.Seq] = true
	return ok, nil
}

// invite claims target's KeyPackages and commits their Adds.
func (d *e2eDevice) invite(target string) *proto.OK {
	d.t.Helper()
	ok, ef := d.commitOp(proto.KindInvite, target, mls.CommitOptions{Add: d.claim(target)})
	if ef != nil {
		d.t.Fatalf("invite %s: %s: %s", target, ef.Code, ef.Reason)
	}
	return ok
}

// leafOf returns the leaf of device uri in d's group.
func (d *e2eDevice) leafOf(uri string) uint32 {
	d.t.Helper()
	for _, m := range d.g.Members() {
		if string(m.Credential.Identity) == uri {
			return m.Leaf
		}
	}
	d.t.Fatalf("no leaf for %s", uri)
	return 0
}

// joinFromWelcome takes the Welcome pushed (mls_welcome) or listed
// (welcomes) for d, joins the group, subscribes from the invite and sends
// room_op join without mls (unless its user has joined already, from
// another device: membership is the user's).
func (d *e2eDevice) joinFromWelcome(userJoined ...bool) {
	d.t.Helper()
	d.c.send(&proto.Welcomes{RID: d.c.nextRID(), Device: d.dev.uri})
	wl := expect[*proto.WelcomeList](d.c)
	if len(wl.Welcomes) != 1 {
		d.t.Fatalf("%s: %d welcomes, want 1", d.dev.uri, len(wl.Welcomes))
	}
	w := wl.Welcomes[0]
	g, err := d.joinWelcome(w.Welcome)
	if err != nil {
		d.t.Fatal(err)
	}
	d.g, d.room = g, w.Room
	d.subscribe(w.Seq)
	if len(userJoined) == 0 || !userJoined[0] {
		d.c.mustOp(d.room, proto.KindJoin, "")
	}
}

func (d *e2eDevice) joinWelcome(welcome []byte) (*mls.Group, error) {
	var last error
	for _, b := range d.bundles {
		g, err := mls.JoinFromWelcome(welcome, b, mls.JoinOptions{})
		if err == nil {
			g.PublicHandshake = true
			return g, nil
		}
		last = err
	}
	return nil, last
}

// send encrypts text as MIMI content and submits it; it returns the ack
// or the error.
func (d *e2eDevice) send(text string) (*proto.Submit, *proto.Ack, *proto.ErrorFrame) {
	d.t.Helper()
	s := d.seal(text)
	a, ef := d.submit(s)
	if a != nil && !a.Dup {
		d.mine[a.Seq] = true
	}
	return s, a, ef
}

func (d *e2eDevice) seal(text string) *proto.Submit {
	d.t.Helper()
	m := message(d.t, d.c.user, d.room, text)
	ct, err := d.g.Encrypt(m.Content, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	return &proto.Submit{Room: d.room, ID: m.ID, Content: ct}
}

func (d *e2eDevice) submit(s *proto.Submit) (*proto.Ack, *proto.ErrorFrame) {
	d.t.Helper()
	s.RID = d.c.nextRID()
	d.c.send(s)
	deadline := time.Now().Add(5 * time.Second)
	for {
		switch v := d.c.next(time.Until(deadline)).(type) {
		case *proto.Ack:
			return v, nil
		case *proto.ErrorFrame:
			return nil, v
		default:
			d.c.stash = append(d.c.stash, v)
		}
	}
}

// syncTo processes the room log up to seq: handshakes into the group,
// application messages decrypted into got.
func (d *e2eDevice) syncTo(seq uint64) {
	d.t.Helper()
	for d.last < seq {
		evs := d.c.events(d.room, 1, 10*time.Second)
		if len(evs) == 0 {
			d.t.Fatalf("%s: no event after %d (want up to %d)", d.dev.uri, d.last, seq)
		}
		d.apply(evs[0])
	}
}

func (d *e2eDevice) apply(e *proto.Event) {
	d.t.Helper()
	if e.Seq != d.last+1 {
		d.t.Fatalf("%s: event %d after %d", d.dev.uri, e.Seq, d.last)
	}
	d.last = e.Seq
	if d.mine[e.Seq] || d.g == nil {
		return
	}
	if e.Kind == proto.KindMessage {
		r, err := d.g.Process(e.Content)
		if err != nil {
			d.t.Fatalf("%s: decrypt #%d: %v", d.dev.uri, e.Seq, err)
		}
		msg, err := content.Decode(r.Data)
		if err != nil {
			d.t.Fatalf("%s: content #%d: %v", d.dev.uri, e.Seq, err)
		}
		d.got = append(d.got, string(msg.Body.Content))
		return
	}
	for _, h := range append([][]byte{e.MLS}, e.Proposals...) {
		if len(h) == 0 {
			continue
		}
		if _, err := d.g.Process(h); err != nil && !errors.Is(err, mls.ErrOwnMessage) {
			d.t.Fatalf("%s: handshake of #%d (%s): %v", d.dev.uri, e.Seq, e.Kind, err)
		}
	}
}

// sameEpoch checks that every device agrees on the epoch authenticator.
func sameEpoch(t *testing.T, ds ...*e2eDevice) {
	t.Helper()
	for _, d := range ds[1:] {
		if d.g.Epoch() != ds[0].g.Epoch() || !bytes.Equal(d.g.EpochAuthenticator(), ds[0].g.EpochAuthenticator()) {
			t.Fatalf("%s at epoch %d disagrees with %s at epoch %d", d.dev.uri, d.g.Epoch(), ds[0].dev.uri, ds[0].g.Epoch())
		}
	}
}

// joinExternal joins d to room by an external commit from the relay's
// GroupInfo (op join: an open room, or an invited user's first device) and
// subscribes it from the commit's event.
func (d *e2eDevice) joinExternal(room string) *proto.OK {
	d.t.Helper()
	d.c.send(&proto.GetGroupInfo{RID: d.c.nextRID(), Room: room})
	gi := expect[*proto.GroupInfo](d.c)
	g, commit, err := mls.JoinExternal(gi.GroupInfo, d.dev.id, mls.ExternalJoinOptions{})
	if err != nil {
		d.t.Fatal(err)
	}
	g.PublicHandshake = true
	newGI, err := g.GroupInfo(true)
	if err != nil {
		d.t.Fatal(err)
	}
	ok := d.c.mustOp(room, proto.KindJoin, "", func(f *proto.RoomOp) { f.MLS, f.GroupInfo = commit, newGI })
	d.g, d.room = g, room
	d.subscribe(ok.Seq)
	return ok
}
