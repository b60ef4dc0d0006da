package relay

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/proto"
)

// Clients SIGKILLed during commits. A member's device runs as a separate
// process (this test binary again, TestE2EEClientChild): it loads its MLS
// group state from its file, makes a path-update commit, writes the
// commit's bytes to a file and sends it with its own connection, racing the
// round's other operations; on ok it merges and saves its state (write and
// rename), as the session saves a group only after the relay's answer. The
// test SIGKILLs it 0-30 ms after the round starts: before it sent, with the
// commit in flight, or after the answer. The device then restarts from its
// file: its commit was lost (it goes on from its old state), stored and
// saved (it goes on from the new epoch), or stored but not saved; then it
// cannot process its own commit and rejoins by external commit, removing
// its old leaf in the same commit (RFC 9420 §12.4.3.2), as the session does.

const (
	clientChildEnv = "MIMICHAT_E2EE_CLIENT_CHILD" // the child's work directory
	clientKillsEnv = "MIMICHAT_E2EE_CLIENT_KILLS" // kills of a run (default 3)
)

// clientChildArgs is what the child process needs, one per line of
// args.txt in its work directory.
type clientChildArgs struct {
	addr, tok, device, room string
}

// TestE2EEClientChild is the child of the client-kill test; without its
// environment variable it does nothing.
func TestE2EEClientChild(t *testing.T) {
	dir := os.Getenv(clientChildEnv)
	if dir == "" {
		t.Skip("run by TestE2EERandomOperationsClientKilled")
	}
	b, err := os.ReadFile(filepath.Join(dir, "args.txt"))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(f) != 4 {
		t.Fatalf("args: %q", f)
	}
	a := clientChildArgs{addr: f[0], tok: f[1], device: f[2], room: f[3]}
	state, err := os.ReadFile(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := mls.LoadGroup(state)
	if err != nil {
		t.Fatal(err)
	}
	g.PublicHandshake = true
	c := dialDevice(t, a.addr, a.tok, a.device)
	os.Stdout.WriteString("READY\n")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	res, err := g.Commit(mls.CommitOptions{ForcePath: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFileSync(filepath.Join(dir, "commit"), res.Commit); err != nil {
		t.Fatal(err)
	}
	c.send(&proto.RoomOp{RID: c.nextRID(), Room: a.room, Op: proto.KindCommit, MLS: res.Commit, GroupInfo: res.GroupInfo})
	if _, ok := reply(c).(*proto.OK); !ok {
		return // lost the race: the state on disk is still the one to use
	}
	if err := g.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	st, err := g.Save()
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFileSync(filepath.Join(dir, "state.tmp"), st); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "state.tmp"), filepath.Join(dir, "state")); err != nil {
		t.Fatal(err)
	}
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// clientKill is one SIGKILLed client's commit and what became of it.
type clientKill struct {
	lost, saved, resynced int
}

// clientChild is a running TestE2EEClientChild process: d's device with
// its group state in dir, waiting for "go" on in.
type clientChild struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	dir string
}

// spawnClientChild starts d's device as a child process, from d's current
// group state, and waits until it is connected.
func (r *randRun) spawnClientChild(d *randDevice) *clientChild {
	t := r.t
	t.Helper()
	dir := t.TempDir()
	state, err := d.g.Save()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state"), state, 0o600); err != nil {
		t.Fatal(err)
	}
	args := strings.Join([]string{r.addr, d.tok, d.dev.uri, r.room}, "\n")
	if err := os.WriteFile(filepath.Join(dir, "args.txt"), []byte(args), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestE2EEClientChild$")
	cmd.Env = append(os.Environ(), clientChildEnv+"="+dir)
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
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		ready <- s
	}()
	select {
	case s := <-ready:
		if s != "READY\n" {
			t.Fatalf("client child said %q", s)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("client child did not start")
	}
	return &clientChild{cmd: cmd, in: in, dir: dir}
}

// kill sends SIGKILL and reaps the process.
func (cc *clientChild) kill() {
	cc.cmd.Process.Kill()
	cc.cmd.Wait()
}

// storedSeq is the seq of the handshake event carrying msg in the room's
// log after r.head, or 0.
func (r *randRun) storedSeq(msg []byte) uint64 {
	t := r.t
	t.Helper()
	if len(msg) == 0 {
		return 0
	}
	obs := dialDevice(t, r.addr, r.alice.tok, r.alice.dev.uri)
	defer obs.ws.Close()
	sub := obs.subscribe(r.room, r.head)
	if sub.LastSeq <= r.head {
		return 0
	}
	for _, ev := range obs.events(r.room, int(sub.LastSeq-r.head), 10*time.Second) {
		if ev.Kind != proto.KindMessage && bytes.Equal(ev.MLS, msg) {
			return ev.Seq
		}
	}
	return 0
}

// restartChildDevice gives d what a restart of its killed child process
// finds: the group state of its file, and whether the relay stored its
// commit. It sets the round's fields settle uses (roundEpoch, childWon)
// and reports whether d must rejoin by external commit after settle:
// its commit was stored but its state not saved. before is the epoch the
// round began at.
func (r *randRun) restartChildDevice(d *randDevice, cc *clientChild, before uint64, tally *clientKill) (resync bool) {
	t := r.t
	t.Helper()
	saved, err := os.ReadFile(filepath.Join(cc.dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := mls.LoadGroup(saved)
	if err != nil {
		t.Fatal(err)
	}
	g.PublicHandshake = true
	commit, _ := os.ReadFile(filepath.Join(cc.dir, "commit")) // none: killed before it sent
	stored := r.storedSeq(commit)
	r.roundEpoch = &before
	d.g = g
	switch {
	case stored == 0:
		tally.lost++
		if g.Epoch() != before {
			t.Fatalf("%s saved epoch %d for a commit the relay did not store", d.dev.uri, g.Epoch())
		}
	case g.Epoch() == before+1:
		tally.saved++
		d.mine[stored] = true
	default:
		// Stored but not saved: this device cannot process its own
		// commit; it leaves the model until it has rejoined.
		tally.resynced++
		resync = true
		d.in = false
	}
	if stored != 0 {
		r.head = max(r.head, stored)
		r.childWon = true
	}
	return resync
}

// killedClientRound runs a round in which d's commit comes from a child
// process SIGKILLed during it, racing up to n other operations.
func (r *randRun) killedClientRound(d *randDevice, n int, tally *clientKill) int {
	t := r.t
	t.Helper()
	cc := r.spawnClientChild(d)

	// The child's commit and the round's other operations race; the
	// child dies 0-30 ms after it was told to go.
	r.exclude = d.user
	ops := r.prepareRound(n)
	r.exclude = nil
	cc.in.Write([]byte("go\n"))
	r.race(ops)
	time.Sleep(time.Duration(r.rng.IntN(30)) * time.Millisecond)
	cc.kill()
	for _, o := range ops {
		o.reply = reply(o.d.c)
	}
	time.Sleep(100 * time.Millisecond) // a frame the relay read before the close is ordered by now

	// Restart: the device's state is what its file holds; the log says
	// whether its commit was stored.
	resync := r.restartChildDevice(d, cc, d.g.Epoch(), tally)
	r.trace(ops)
	r.skipCheck = resync
	r.settle(ops)
	r.childWon, r.roundEpoch, r.skipCheck = false, nil, false
	if resync {
		r.resync(d)
	}
	return len(ops) + 1
}

// resync rejoins d by external commit from the relay's GroupInfo, removing
// its old leaf in the same commit, and resubscribes it after its commit.
func (r *randRun) resync(d *randDevice) {
	t := r.t
	t.Helper()
	r.connect(d)
	old := d.g.LeafIndex()
	d.c.send(&proto.GetGroupInfo{RID: d.c.nextRID(), Room: r.room})
	gi := expect[*proto.GroupInfo](d.c)
	var selfRemoves [][]byte
	for _, p := range gi.Proposals {
		if isSelfRemoveProposal(p) {
			selfRemoves = append(selfRemoves, p)
		}
	}
	g, ext, err := mls.JoinExternal(gi.GroupInfo, d.dev.id, mls.ExternalJoinOptions{RemoveLeaf: &old, SelfRemoves: selfRemoves})
	if err != nil {
		t.Fatalf("%s: resync by external commit: %v", d.dev.uri, err)
	}
	g.PublicHandshake = true
	newGI, err := g.GroupInfo(true)
	if err != nil {
		t.Fatal(err)
	}
	ok, ef := d.c.op(r.room, proto.KindCommit, "", func(f *proto.RoomOp) { f.MLS, f.GroupInfo = ext, newGI })
	if ef != nil {
		t.Fatalf("%s: resync commit: %s: %s", d.dev.uri, ef.Code, ef.Reason)
	}
	r.head = max(r.head, ok.Seq)
	for u, l := range r.leaving {
		if ok.Seq > l.seq {
			delete(r.leaving, u) // the external commit carried the SelfRemoves
		}
	}
	d.g, d.in, d.joinEpoch = g, true, g.Epoch()
	d.mine = map[uint64]bool{}
	d.last = ok.Seq
	d.subscribe(ok.Seq)
	for _, o := range r.devices() {
		if o != d {
			r.syncTo(o, r.head)
		}
	}
	r.check()
}

func isSelfRemoveProposal(msg []byte) bool {
	m, err := mls.ParseMessage(msg)
	if err != nil || m.Public == nil {
		return false
	}
	c := &m.Public.Content
	return c.ContentType == mls.ContentProposal && c.Proposal != nil && c.Proposal.Type == mls.ProposalSelfRemove
}

// The random operations of TestE2EERandomOperations with members' devices
// SIGKILLed during their commits (MIMICHAT_E2EE_CLIENT_KILLS times, 3 by
// default): each killed commit races the round's other operations; after
// the device restarts from its saved state (lost, saved, or stored but not
// saved: resync by external commit), every member agrees on the epoch
// authenticator and the leaves, and decrypts exactly the messages of the
// epochs it holds, to the end of the run.
func TestE2EERandomOperationsClientKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("process fault test")
	}
	ops, seed := randParams(t)
	kills := 3
	if v := os.Getenv(clientKillsEnv); v != "" {
		if _, err := fmt.Sscan(v, &kills); err != nil || kills <= 0 {
			t.Fatalf("%s=%q: want a positive count", clientKillsEnv, v)
		}
	}
	s := startRelay(t, Config{RatePerSec: -1})
	toks := map[string]string{}
	for _, name := range []string{"alice", "bob", "carol", "dave", "erin"} {
		toks[name] = addUser(t, s.Store(), name)
	}
	r := newRandRun(t, s.Addr(), toks, storeDeviceToken(t, s.Store()), seed)
	deadline := time.Now().Add(time.Duration(ops)*time.Second + time.Duration(kills)*10*time.Second)
	var tally clientKill
	killed, rounds := 0, 0
	for done := 0; done < ops || killed < kills; rounds++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d operations, %d of %d kills after %d rounds: over the time budget", done, ops, killed, kills, rounds)
		}
		if killed < kills && done >= (killed+1)*ops/(kills+1) {
			if d := r.killable(); d != nil {
				done += r.killedClientRound(d, r.rng.IntN(3), &tally)
				killed++
				continue
			}
		}
		done += r.round(1 + r.rng.IntN(3))
	}
	r.finish()
	t.Logf("%d rounds; %d clients SIGKILLed during a commit: %d commits lost, %d stored and saved, %d stored but not saved (resynced by external commit)",
		rounds, killed, tally.lost, tally.saved, tally.resynced)
}

// killable picks a member's device whose user is joined and not leaving,
// or nil.
func (r *randRun) killable() *randDevice {
	if len(r.leaving) > 0 {
		return nil
	}
	var ds []*randDevice
	for _, d := range r.devices() {
		if d.user.joined {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return nil
	}
	return ds[r.rng.IntN(len(ds))]
}
