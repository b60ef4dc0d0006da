package relay

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mimichat/proto"
)

// follower reads a room's log across reconnects, as a client resuming from
// its cursor does, and records any gap or duplicate it sees.
type follower struct {
	token, room string
	addr        func() string
	churn       func() int // events to read before dropping the connection; nil: never

	cursor     uint64
	events     []*proto.Event
	problems   []string
	reconnects int
}

// run follows until the cursor reaches target() (once non-zero) or deadline.
func (f *follower) run(target func() uint64, deadline time.Time) {
	for time.Now().Before(deadline) {
		if t := target(); t > 0 && f.cursor >= t {
			return
		}
		p, err := connect(f.addr(), f.token)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		f.follow(p, target, deadline)
		p.close()
		f.reconnects++
	}
	f.problems = append(f.problems, fmt.Sprintf("deadline at cursor %d (target %d)", f.cursor, target()))
}

func (f *follower) follow(p *peer, target func() uint64, deadline time.Time) {
	if err := p.write(&proto.Subscribe{RID: 1, Room: f.room, Since: f.cursor}); err != nil {
		return
	}
	budget := -1
	if f.churn != nil {
		budget = f.churn()
	}
	for time.Now().Before(deadline) {
		if t := target(); t > 0 && f.cursor >= t {
			return
		}
		fr, err := p.read(time.Second)
		if err != nil {
			return
		}
		switch e := fr.(type) {
		case *proto.ErrorFrame:
			f.problems = append(f.problems, "error "+string(e.Code)+": "+e.Reason)
			return
		case *proto.Event:
			if e.Seq != f.cursor+1 {
				f.problems = append(f.problems, fmt.Sprintf("after seq %d got seq %d", f.cursor, e.Seq))
				if e.Seq <= f.cursor {
					continue
				}
			}
			f.cursor = e.Seq
			f.events = append(f.events, e)
			if budget--; budget == 0 {
				return
			}
		}
	}
}

// sender posts msgs pipelined (up to window unacked) and records acks by
// index. It returns when all are acked or the connection fails.
type sender struct {
	token string
	msgs  []*proto.Submit
	mu    sync.Mutex
	acks  map[int]*proto.Ack
}

func (s *sender) ack(i int) *proto.Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acks[i]
}

func (s *sender) run(addr string, total *atomic.Int64, window int) error {
	p, err := connect(addr, s.token)
	if err != nil {
		return err
	}
	defer p.close()
	var todo []int
	for i := range s.msgs {
		if s.ack(i) == nil {
			todo = append(todo, i)
		}
	}
	next, outstanding := 0, 0
	for next < len(todo) || outstanding > 0 {
		for outstanding < window && next < len(todo) {
			m := *s.msgs[todo[next]]
			m.RID = uint64(todo[next]) + 1
			if err := p.write(&m); err != nil {
				return err
			}
			next++
			outstanding++
		}
		fr, err := p.read(10 * time.Second)
		if err != nil {
			return err
		}
		switch a := fr.(type) {
		case *proto.Ack:
			i := int(a.RID) - 1
			if !bytes.Equal(a.ID, s.msgs[i].ID) {
				return fmt.Errorf("ack for rid %d carries another message ID", a.RID)
			}
			s.mu.Lock()
			if prev := s.acks[i]; prev != nil && (prev.Seq != a.Seq || prev.TS != a.TS) {
				s.mu.Unlock()
				return fmt.Errorf("message %d acked twice differently: seq %d then %d", i, prev.Seq, a.Seq)
			}
			s.acks[i] = a
			s.mu.Unlock()
			total.Add(1)
			outstanding--
		case *proto.ErrorFrame:
			return fmt.Errorf("submit refused: %s: %s", a.Code, a.Reason)
		}
	}
	return nil
}

// setupRoom has the first token create a room and every other user join.
func setupRoom(t *testing.T, addr string, tokens []string) string {
	t.Helper()
	owner, err := connect(addr, tokens[0])
	if err != nil {
		t.Fatal(err)
	}
	defer owner.close()
	r, err := owner.call(&proto.CreateRoom{RID: 1, Room: "burst", Join: proto.JoinOpen})
	if err != nil {
		t.Fatal(err)
	}
	room := r.(*proto.OK).Room
	for _, tok := range tokens[1:] {
		p, err := connect(addr, tok)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.call(&proto.RoomOp{RID: 1, Room: room, Op: proto.KindJoin}); err != nil {
			t.Fatal(err)
		}
		p.close()
	}
	return room
}

func makeSenders(t *testing.T, tokens, users []string, room string, per int) []*sender {
	out := make([]*sender, len(tokens))
	for i := range tokens {
		s := &sender{token: tokens[i], acks: map[int]*proto.Ack{}}
		for j := 0; j < per; j++ {
			s.msgs = append(s.msgs, message(t, users[i], room, fmt.Sprintf("%s #%d", users[i], j)))
		}
		out[i] = s
	}
	return out
}

// checkLogs verifies every follower holds the same events, with every
// message of every sender exactly once, each acked one at its acked seq.
func checkLogs(t *testing.T, followers []*follower, senders []*sender) {
	t.Helper()
	for _, f := range followers {
		for _, p := range f.problems {
			t.Errorf("follower %s: %s", f.token[:8], p)
		}
	}
	want := map[string]*proto.Ack{}
	for _, s := range senders {
		for i, m := range s.msgs {
			want[string(m.ID)] = s.ack(i)
		}
	}
	ref := followers[0].events
	for _, f := range followers {
		seen := map[string]bool{}
		for i, e := range f.events {
			if e.Seq != uint64(i+1) {
				t.Fatalf("event %d has seq %d", i, e.Seq)
			}
			if e.Seq != ref[i].Seq || !bytes.Equal(e.ID, ref[i].ID) || e.TS != ref[i].TS {
				t.Fatalf("followers disagree at seq %d", e.Seq)
			}
			if e.Kind != proto.KindMessage {
				continue
			}
			a, ok := want[string(e.ID)]
			switch {
			case !ok:
				t.Fatalf("seq %d: a message nobody sent", e.Seq)
			case seen[string(e.ID)]:
				t.Fatalf("seq %d: message delivered twice", e.Seq)
			case a == nil:
				t.Fatalf("seq %d: message never acked", e.Seq)
			case a.Seq != e.Seq || a.TS != e.TS:
				t.Fatalf("seq %d ts %d, but acked as seq %d ts %d", e.Seq, e.TS, a.Seq, a.TS)
			}
			seen[string(e.ID)] = true
		}
		if len(seen) != len(want) {
			t.Fatalf("follower has %d of %d messages", len(seen), len(want))
		}
	}
}

// TestSIGKILLDuringBurst kills the relay process in the middle of a burst,
// restarts it on the same data directory, and checks that nothing acked is
// lost and nothing is delivered twice.
func TestSIGKILLDuringBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("process fault test")
	}
	for _, mode := range []string{SyncFull, SyncNormal} {
		t.Run(mode, func(t *testing.T) { sigkillDuringBurst(t, mode) })
	}
}

func sigkillDuringBurst(t *testing.T, mode string) {
	dir := t.TempDir()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Domain("example.com"); err != nil {
		t.Fatal(err)
	}
	var tokens, users []string
	for _, n := range []string{"s0", "s1", "s2", "s3", "f0", "f1"} {
		tokens = append(tokens, addUser(t, st, n))
		users = append(users, proto.UserURI("example.com", n))
	}
	st.Close()

	relay := startChild(t, dir, mode)
	var addr atomic.Value
	addr.Store(relay.addr)
	room := setupRoom(t, relay.addr, tokens)
	const per = 1000
	senders := makeSenders(t, tokens[:4], users[:4], room, per)

	var target atomic.Uint64
	deadline := time.Now().Add(90 * time.Second)
	followers := []*follower{}
	var fwg sync.WaitGroup
	for _, tok := range tokens[4:] {
		f := &follower{token: tok, room: room, addr: func() string { return addr.Load().(string) }}
		followers = append(followers, f)
		fwg.Add(1)
		go func() { defer fwg.Done(); f.run(target.Load, deadline) }()
	}

	var acked atomic.Int64
	var swg sync.WaitGroup
	for _, s := range senders {
		swg.Add(1)
		go func() { defer swg.Done(); s.run(relay.addr, &acked, 64) }()
	}
	for acked.Load() < int64(len(senders)*per)*2/5 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	relay.kill()
	swg.Wait()
	before := map[string]proto.Ack{}
	for _, s := range senders {
		for i, a := range s.acks {
			before[string(s.msgs[i].ID)] = *a
		}
	}
	t.Logf("killed after %d acks", len(before))
	if len(before) == len(senders)*per {
		t.Fatal("the burst ended before the kill; nothing was tested")
	}

	relay = startChild(t, dir, mode)
	addr.Store(relay.addr)
	for _, s := range senders {
		swg.Add(1)
		go func() {
			defer swg.Done()
			if err := s.run(relay.addr, &acked, 64); err != nil {
				t.Errorf("resubmit: %v", err)
			}
		}()
	}
	swg.Wait()
	var head uint64
	for _, s := range senders {
		for i, a := range s.acks {
			if b, ok := before[string(s.msgs[i].ID)]; ok && (b.Seq != a.Seq || b.TS != a.TS) {
				t.Fatalf("ack changed across the kill: seq %d -> %d", b.Seq, a.Seq)
			}
			head = max(head, a.Seq)
		}
	}
	target.Store(head)
	fwg.Wait()
	checkLogs(t, followers, senders)
	t.Logf("%d messages, head %d, follower reconnects %d and %d", len(senders)*per, head, followers[0].reconnects, followers[1].reconnects)
}

// TestResubscribeDuringBurst: a subscriber that keeps dropping its
// connection and resuming from its cursor misses nothing and sees nothing
// twice.
func TestResubscribeDuringBurst(t *testing.T) {
	s := startRelay(t, Config{RatePerSec: -1})
	var tokens, users []string
	for _, n := range []string{"s0", "s1", "s2", "f0", "f1"} {
		tokens = append(tokens, addUser(t, s.Store(), n))
		users = append(users, proto.UserURI("example.com", n))
	}
	room := setupRoom(t, s.Addr(), tokens)
	senders := makeSenders(t, tokens[:3], users[:3], room, 700)
	var target atomic.Uint64
	deadline := time.Now().Add(60 * time.Second)
	rng := rand.New(rand.NewPCG(1, 2))
	var rmu sync.Mutex
	churn := func() int { rmu.Lock(); defer rmu.Unlock(); return 1 + rng.IntN(150) }
	steady := &follower{token: tokens[3], room: room, addr: s.Addr}
	flappy := &follower{token: tokens[4], room: room, addr: s.Addr, churn: churn}
	var fwg sync.WaitGroup
	for _, f := range []*follower{steady, flappy} {
		fwg.Add(1)
		go func() { defer fwg.Done(); f.run(target.Load, deadline) }()
	}
	var acked atomic.Int64
	var swg sync.WaitGroup
	for _, snd := range senders {
		swg.Add(1)
		go func() {
			defer swg.Done()
			if err := snd.run(s.Addr(), &acked, 32); err != nil {
				t.Error(err)
			}
		}()
	}
	swg.Wait()
	var head uint64
	for _, snd := range senders {
		for _, a := range snd.acks {
			head = max(head, a.Seq)
		}
	}
	target.Store(head)
	fwg.Wait()
	if flappy.reconnects < 10 {
		t.Fatalf("flappy follower reconnected only %d times", flappy.reconnects)
	}
	checkLogs(t, []*follower{steady, flappy}, senders)
	t.Logf("head %d, flappy reconnects %d", head, flappy.reconnects)
}
