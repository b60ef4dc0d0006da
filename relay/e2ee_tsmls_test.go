package relay

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/proto"
)

// tsMember drives mls/interop/driver.mjs (a ts-mls client) over JSON lines,
// as mls/interop_tsmls_test.go does; the test feeds it the relay's frames.
type tsMember struct {
	t   *testing.T
	in  io.WriteCloser
	out *bufio.Scanner
}

// startTSMember starts the driver, or skips (fails under CI) when Node or
// the npm packages are missing.
func startTSMember(t *testing.T) *tsMember {
	t.Helper()
	dir := filepath.Join("..", "mls", "interop")
	missing := func(what string) {
		msg := fmt.Sprintf("ts-mls through the relay needs %s; install with: npm ci --prefix mls/interop", what)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node on PATH")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ts-mls", "package.json")); err != nil {
		missing("mls/interop/node_modules/ts-mls")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, node, "driver.mjs")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		cmd.Wait()
		cancel()
	})
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	return &tsMember{t: t, in: in, out: sc}
}

// try sends one request and returns the reply, or the driver's error.
func (m *tsMember) try(req map[string]any) (map[string]any, error) {
	m.t.Helper()
	b, _ := json.Marshal(req)
	if _, err := m.in.Write(append(b, '\n')); err != nil {
		m.t.Fatal(err)
	}
	if !m.out.Scan() {
		m.t.Fatalf("ts-mls driver exited during %v: %v", req["op"], m.out.Err())
	}
	var reply map[string]any
	if err := json.Unmarshal(m.out.Bytes(), &reply); err != nil {
		m.t.Fatal(err)
	}
	if reply["ok"] != true {
		return nil, fmt.Errorf("ts-mls %v: %v", req["op"], reply["error"])
	}
	return reply, nil
}

func (m *tsMember) call(req map[string]any) map[string]any {
	m.t.Helper()
	r, err := m.try(req)
	if err != nil {
		m.t.Fatal(err)
	}
	return r
}

func (m *tsMember) bytes(reply map[string]any, key string) []byte {
	m.t.Helper()
	s, _ := reply[key].(string)
	b, err := hex.DecodeString(s)
	if err != nil {
		m.t.Fatal(err)
	}
	return b
}

// agree checks ts-mls shares the epoch and authenticator of every Go member.
func (m *tsMember) agree(ds ...*e2eDevice) {
	m.t.Helper()
	st := m.call(map[string]any{"op": "status", "label": "mimi", "context": "00", "length": 32})
	for _, d := range ds {
		if uint64(st["epoch"].(float64)) != d.g.Epoch() || hex.EncodeToString(d.g.EpochAuthenticator()) != st["epochAuthenticator"] {
			m.t.Fatalf("ts-mls at epoch %v disagrees with %s at epoch %d", st["epoch"], d.dev.uri, d.g.Epoch())
		}
	}
}

// A ts-mls member of a relay user: its KeyPackage goes through the relay's
// directory, a Go member claims it and invites it, the Welcome reaches it
// through the relay, it processes the room's frames (handshakes and the Go
// members' messages), sends a message the Go members decrypt, and is
// removed by a kick commit after which it cannot read the room.
func TestE2EETSMLSMember(t *testing.T) {
	ts := startTSMember(t)
	e := newE2ERoom(t, "interop", "bob", "tess")
	bob := e.member(t, "bob", "phone")

	// tess's device is the ts-mls client: its credential names the device URI.
	tessUser := proto.UserURI("example.com", "tess")
	tessDev := "mimi://example.com/d/tess/node"
	kp := ts.bytes(ts.call(map[string]any{"op": "init", "suite": "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", "name": tessDev, "lastResort": true}), "keyPackage")
	tess := dialDevice(t, e.s.Addr(), e.toks["tess"], tessDev)
	if _, ef := tess.upload(tessDev, [][]byte{kp}); ef != nil {
		t.Fatalf("uploading the ts-mls KeyPackage: %s: %s", ef.Code, ef.Reason)
	}
	_, a, ef := e.alice.send("before tess")
	if ef != nil {
		t.Fatal(ef.Reason)
	}
	bob.syncTo(a.Seq)

	// Claims tess's KeyPackage from the directory and invites as a version 8
	// session does: the Welcome may leave the tree out, but tess's ts-mls
	// KeyPackage does not list mls.ExtensionWelcomeTreeApart, so hers
	// carries it.
	invite, ef := e.alice.commitOp(proto.KindInvite, tessUser,
		mls.CommitOptions{Add: e.alice.claim(tessUser), GroupInfoWithoutTree: true, WelcomeTreeApart: true})
	if ef != nil {
		t.Fatalf("invite tess: %s: %s", ef.Code, ef.Reason)
	}
	bob.syncTo(invite.Seq)
	w := expect[*proto.MLSWelcome](tess)
	if w.Device != tessDev || w.Seq != invite.Seq {
		t.Fatalf("mls_welcome %+v", w)
	}
	ts.call(map[string]any{"op": "join", "welcome": hex.EncodeToString(w.Welcome)})
	ts.agree(e.alice, bob)
	tess.subscribe(e.room, w.Seq)
	last := w.Seq
	join := tess.mustOp(e.room, proto.KindJoin, "")

	// The Go members talk and bob refreshes his path; ts-mls follows the log.
	_, _, ef = e.alice.send("hello tess")
	if ef != nil {
		t.Fatal(ef.Reason)
	}
	_, ef = bob.commitOp(proto.KindCommit, "", mls.CommitOptions{ForcePath: true})
	if ef != nil {
		t.Fatal(ef.Reason)
	}
	_, a2, ef := bob.send("bob after his update")
	if ef != nil {
		t.Fatal(ef.Reason)
	}
	var read []string
	own := map[uint64]bool{} // the member's own messages: it does not decrypt its echoes
	follow := func(upTo uint64) {
		t.Helper()
		for last < upTo {
			evs := tess.events(e.room, 1, 10*time.Second)
			if len(evs) == 0 {
				t.Fatalf("ts-mls member: no event after %d", last)
			}
			ev := evs[0]
			if ev.Seq != last+1 {
				t.Fatalf("ts-mls member: event %d after %d", ev.Seq, last)
			}
			last = ev.Seq
			if own[ev.Seq] {
				continue
			}
			if ev.Kind == proto.KindMessage {
				r := ts.call(map[string]any{"op": "process", "message": hex.EncodeToString(ev.Content)})
				read = append(read, r["text"].(string))
				continue
			}
			if len(ev.MLS) > 0 {
				ts.call(map[string]any{"op": "process", "message": hex.EncodeToString(ev.MLS)})
			}
		}
	}
	follow(a2.Seq)
	if len(read) != 2 || !strings.Contains(read[0], "hello tess") || !strings.Contains(read[1], "bob after his update") {
		t.Fatalf("ts-mls read %q", read)
	}
	for _, d := range []*e2eDevice{e.alice, bob} {
		d.syncTo(max(a2.Seq, join.Seq))
	}
	ts.agree(e.alice, bob)

	// ts-mls sends; the relay orders it and the Go members decrypt it.
	ct := ts.bytes(ts.call(map[string]any{"op": "send", "text": "hello from ts-mls"}), "message")
	id := sha256.Sum256(ct)
	tess.send(&proto.Submit{RID: tess.nextRID(), Room: e.room, ID: id[:], Content: ct})
	ack := expect[*proto.Ack](tess)
	own[ack.Seq] = true
	for _, d := range []*e2eDevice{e.alice, bob} {
		for d.last < ack.Seq {
			evs := d.c.events(e.room, 1, 10*time.Second)
			if len(evs) == 0 {
				t.Fatalf("%s: no event after %d", d.dev.uri, d.last)
			}
			ev := evs[0]
			if ev.Seq != ack.Seq {
				d.apply(ev)
				continue
			}
			d.last = ev.Seq
			r, err := d.g.Process(ev.Content)
			if err != nil || string(r.Data) != "hello from ts-mls" || ev.Sender != tessUser {
				t.Fatalf("%s read %q from %s: %v", d.dev.uri, r.Data, ev.Sender, err)
			}
			if sender := string(d.g.Members()[slices.IndexFunc(d.g.Members(), func(m mls.Member) bool { return m.Leaf == r.Sender.Index })].Credential.Identity); sender != tessDev {
				t.Fatalf("%s: the message's leaf is %s", d.dev.uri, sender)
			}
		}
	}
	follow(ack.Seq)

	// alice kicks tess: the commit removes the ts-mls leaf; ts-mls processes
	// its removal and cannot read what follows.
	kick, ef := e.alice.commitOp(proto.KindKick, tessUser, mls.CommitOptions{Remove: []uint32{e.alice.leafOf(tessDev)}})
	if ef != nil {
		t.Fatalf("kick: %s: %s", ef.Code, ef.Reason)
	}
	follow(kick.Seq)
	bob.syncTo(kick.Seq)
	sameEpoch(t, e.alice, bob)
	if n := len(e.alice.g.Members()); n != 2 {
		t.Fatalf("%d leaves after the kick, want 2", n)
	}
	after := e.alice.seal("after tess")
	if _, ef := e.alice.submit(after); ef != nil {
		t.Fatal(ef.Reason)
	}
	if evs := tess.events(e.room, 1, 300*time.Millisecond); len(evs) != 0 {
		t.Fatalf("kicked tess got event %d", evs[0].Seq)
	}
	if r, err := ts.try(map[string]any{"op": "process", "message": hex.EncodeToString(after.Content)}); err == nil {
		t.Fatalf("the removed ts-mls member read a later message: %v", r)
	}
}
