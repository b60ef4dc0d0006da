package mls

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// tsClient drives interop/driver.mjs, a ts-mls client, over JSON lines.
type tsClient struct {
	t   *testing.T
	in  io.WriteCloser
	out *bufio.Scanner
}

// startTS starts the ts-mls driver, or skips (fails under CI) when Node or
// the npm packages are missing.
func startTS(t *testing.T) *tsClient {
	t.Helper()
	missing := func(what string) {
		msg := fmt.Sprintf("ts-mls interop needs %s; install with: npm ci --prefix mls/interop", what)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node on PATH")
	}
	if _, err := os.Stat(filepath.Join("interop", "node_modules", "ts-mls", "package.json")); err != nil {
		missing("interop/node_modules/ts-mls")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, node, "driver.mjs")
	cmd.Dir = "interop"
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
	return &tsClient{t: t, in: in, out: sc}
}

// call sends one request and decodes the reply into a string map.
func (c *tsClient) call(req map[string]any) map[string]any {
	c.t.Helper()
	b, _ := json.Marshal(req)
	if _, err := c.in.Write(append(b, '\n')); err != nil {
		c.t.Fatal(err)
	}
	if !c.out.Scan() {
		c.t.Fatalf("ts-mls driver exited during %v: %v", req["op"], c.out.Err())
	}
	var reply map[string]any
	if err := json.Unmarshal(c.out.Bytes(), &reply); err != nil {
		c.t.Fatal(err)
	}
	if reply["ok"] != true {
		c.t.Fatalf("ts-mls %v failed: %v", req["op"], reply["error"])
	}
	return reply
}

func (c *tsClient) bytes(reply map[string]any, key string) []byte {
	c.t.Helper()
	s, _ := reply[key].(string)
	b, err := hex.DecodeString(s)
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

// agree checks ts-mls and every Go member share the epoch authenticator and an exported secret.
func (c *tsClient) agree(gs ...*Group) {
	c.t.Helper()
	st := c.call(map[string]any{"op": "status", "label": "mimi interop", "context": "0102", "length": 32})
	for _, g := range gs {
		exp, _ := g.Export("mimi interop", []byte{1, 2}, 32)
		if int(st["epoch"].(float64)) != int(g.Epoch()) || !bytes.Equal(c.bytes(st, "epochAuthenticator"), g.EpochAuthenticator()) ||
			!bytes.Equal(c.bytes(st, "exported"), exp) {
			c.t.Fatalf("ts-mls (epoch %v) and Go member %d (epoch %d) disagree", st["epoch"], g.LeafIndex(), g.Epoch())
		}
	}
}

func (c *tsClient) send(text string) []byte {
	return c.bytes(c.call(map[string]any{"op": "send", "text": text}), "message")
}

func (c *tsClient) receive(msg []byte) map[string]any {
	return c.call(map[string]any{"op": "process", "message": hex.EncodeToString(msg)})
}

func TestInteropTSMLS(t *testing.T) {
	for _, tc := range []struct {
		cs   CipherSuite
		name string
	}{
		{X25519_AES128GCM_SHA256_Ed25519, "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"},
		{P256_AES128GCM_SHA256_P256, "MLS_128_DHKEMP256_AES128GCM_SHA256_P256"},
		{P384_AES256GCM_SHA384_P384, "MLS_256_DHKEMP384_AES256GCM_SHA384_P384"},
		{P521_AES256GCM_SHA512_P521, "MLS_256_DHKEMP521_AES256GCM_SHA512_P521"},
	} {
		t.Run(tc.name, func(t *testing.T) { interopTSMLS(t, tc.cs, tc.name) })
	}
}

func interopTSMLS(t *testing.T, cs CipherSuite, suiteName string) {
	ts := startTS(t)
	tsKP := ts.bytes(ts.call(map[string]any{"op": "init", "suite": suiteName, "name": "ts"}), "keyPackage")

	// Go creates the group and adds the ts-mls client.
	goID, _ := NewIdentity(cs, []byte("go"))
	g1, err := NewGroup(goID, []byte("interop group"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := g1.Commit(CommitOptions{Add: [][]byte{tsKP}})
	if err != nil {
		t.Fatalf("Go adding the ts-mls key package: %v", err)
	}
	if err := g1.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	ts.call(map[string]any{"op": "join", "welcome": hex.EncodeToString(res.Welcome)})
	ts.agree(g1)

	// Application messages both ways.
	msg, _ := g1.Encrypt([]byte("hello from Go"), nil)
	if r := ts.receive(msg); r["text"] != "hello from Go" {
		t.Fatalf("ts-mls read %v", r)
	}
	r, err := g1.Process(ts.send("hello from ts-mls"))
	if err != nil || string(r.Data) != "hello from ts-mls" {
		t.Fatalf("Go read %q: %v", r.Data, err)
	}

	// ts-mls commits a path update (private), then Go does (private and public).
	commit := ts.bytes(ts.call(map[string]any{"op": "commit"}), "commit")
	if _, err := g1.Process(commit); err != nil {
		t.Fatalf("Go processing the ts-mls commit: %v", err)
	}
	ts.agree(g1)
	for _, public := range []bool{false, true} {
		g1.PublicHandshake = public
		res, err = g1.Commit(CommitOptions{ForcePath: true})
		if err != nil {
			t.Fatal(err)
		}
		ts.receive(res.Commit)
		g1.MergePendingCommit()
		ts.agree(g1)
	}

	// ts-mls adds a second Go client, with a public commit.
	kp2 := newMember(t, cs, "go2")
	reply := ts.call(map[string]any{"op": "commit", "add": []string{hex.EncodeToString(kp2.KeyPackage)}, "public": true})
	if _, err := g1.Process(ts.bytes(reply, "commit")); err != nil {
		t.Fatalf("Go processing the ts-mls add: %v", err)
	}
	g2, err := JoinFromWelcome(ts.bytes(reply, "welcome"), kp2, JoinOptions{})
	if err != nil {
		t.Fatalf("Go joining from the ts-mls Welcome: %v", err)
	}
	ts.agree(g1, g2)
	msg, _ = g2.Encrypt([]byte("go2 here"), nil)
	if r := ts.receive(msg); r["text"] != "go2 here" {
		t.Fatalf("ts-mls read %v", r)
	}
	if r, err := g1.Process(msg); err != nil || string(r.Data) != "go2 here" {
		t.Fatal(err)
	}
	tm := ts.send("to both Go clients")
	for _, g := range []*Group{g1, g2} {
		if r, err := g.Process(tm); err != nil || string(r.Data) != "to both Go clients" {
			t.Fatalf("Go member %d: %v", g.LeafIndex(), err)
		}
	}

	// A third Go client joins by external commit from a ts-mls GroupInfo.
	gi := ts.bytes(ts.call(map[string]any{"op": "groupInfo"}), "groupInfo")
	id3, _ := NewIdentity(cs, []byte("go3"))
	g3, ext, err := JoinExternal(gi, id3, ExternalJoinOptions{})
	if err != nil {
		t.Fatalf("Go external join from a ts-mls GroupInfo: %v", err)
	}
	ts.receive(ext)
	for _, g := range []*Group{g1, g2} {
		if _, err := g.Process(ext); err != nil {
			t.Fatal(err)
		}
	}
	ts.agree(g1, g2, g3)

	// ts-mls proposes removing go2 by reference; Go commits it.
	prop := ts.bytes(ts.call(map[string]any{"op": "proposeRemove", "leaf": g2.LeafIndex(), "public": false}), "proposal")
	for _, g := range []*Group{g1, g2, g3} {
		if _, err := g.Process(prop); err != nil {
			t.Fatalf("Go member %d processing the ts-mls proposal: %v", g.LeafIndex(), err)
		}
	}
	g1.PublicHandshake = false
	res, err = g1.Commit(CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g1.MergePendingCommit()
	ts.receive(res.Commit)
	if _, err := g3.Process(res.Commit); err != nil {
		t.Fatal(err)
	}
	if _, err := g2.Process(res.Commit); err != nil || g2.Active() {
		t.Fatalf("removed go2: active=%v err=%v", g2.Active(), err)
	}
	ts.agree(g1, g3)

	// ts-mls commits the removal of go3.
	reply = ts.call(map[string]any{"op": "commit", "remove": []int{int(g3.LeafIndex())}})
	for _, g := range []*Group{g1, g3} {
		if _, err := g.Process(ts.bytes(reply, "commit")); err != nil {
			t.Fatal(err)
		}
	}
	if g3.Active() {
		t.Fatal("go3 still active after ts-mls removed it")
	}
	ts.agree(g1)
	msg, _ = g1.Encrypt([]byte("after removals"), nil)
	if r := ts.receive(msg); r["text"] != "after removals" {
		t.Fatalf("ts-mls read %v", r)
	}

	// Go proposes an Add by reference (PrivateMessage); ts-mls commits it and Welcomes the new Go client.
	kp4 := newMember(t, cs, "go4")
	prop, err = g1.ProposeAdd(kp4.KeyPackage)
	if err != nil {
		t.Fatal(err)
	}
	ts.receive(prop)
	reply = ts.call(map[string]any{"op": "commit"})
	if _, err := g1.Process(ts.bytes(reply, "commit")); err != nil {
		t.Fatalf("Go processing the ts-mls commit of a Go proposal: %v", err)
	}
	g4, err := JoinFromWelcome(ts.bytes(reply, "welcome"), kp4, JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts.agree(g1, g4)
	t.Logf("ts-mls interop: %d epochs agreed, messages both ways, Welcome both ways, external join, proposals by reference both ways, removals", g1.Epoch())
}
