package relay

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/proto"
)

// BenchmarkE2EELatency: submit-to-delivery latency through the relay, one
// sender paced at 1,000 messages per second, 50 subscribers, in a
// plaintext room and in an encrypted room (PrivateMessages of a real MLS
// group; the relay parses each one's header and checks its epoch) in the
// same run. Messages are built (and encrypted) before timing: this is the
// relay's path, not the clients' encryption.
func BenchmarkE2EELatency(b *testing.B) {
	for _, mode := range []string{"plaintext", "encrypted"} {
		b.Run(mode, func(b *testing.B) { benchE2EELatency(b, mode == "encrypted") })
	}
}

func benchE2EELatency(b *testing.B, encrypted bool) {
	const nsubs = 50
	s := startRelay(b, benchLimits(Config{}))
	senderTok, subTok := addUser(b, s.Store(), "s0"), addUser(b, s.Store(), "sub")
	sender := newE2EDevice(b, s.Addr(), senderTok, proto.UserURI("example.com", "s0"), "d", 1)
	reader := newE2EDevice(b, s.Addr(), subTok, proto.UserURI("example.com", "sub"), "d", 1)
	var msgs []*proto.Submit
	if encrypted {
		sender.create("bench", proto.CreateRoom{})
		sender.invite(reader.c.user)
		reader.c.mustOp(sender.room, proto.KindJoin, "")
		for i := range b.N {
			msgs = append(msgs, sender.seal(fmt.Sprintf("benchmark message %d", i)))
		}
	} else {
		sender.room = sender.c.createRoom("bench", proto.CreateRoom{Join: proto.JoinOpen})
		reader.c.mustOp(sender.room, proto.KindJoin, "")
		for i := range b.N {
			msgs = append(msgs, message(b, sender.c.user, sender.room, fmt.Sprintf("benchmark message %d", i)))
		}
	}
	for i, m := range msgs {
		m.RID = uint64(i + 1)
	}
	room := sender.room
	p, err := connect(s.Addr(), senderTok)
	if err != nil {
		b.Fatal(err)
	}
	defer p.close()
	sent := make([]atomic.Int64, b.N)
	index := make(map[string]int, b.N)
	for i, m := range msgs {
		index[string(m.Content[:min(len(m.Content), 64)])+string(m.ID)] = i
	}
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	head := s.hub.room(room).head
	for range nsubs {
		sub, err := connect(s.Addr(), subTok)
		if err != nil {
			b.Fatal(err)
		}
		defer sub.close()
		if err := sub.write(&proto.Subscribe{RID: 1, Room: room, Since: head}); err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, b.N)
			for len(local) < b.N {
				f, err := sub.read(30 * time.Second)
				if err != nil {
					break
				}
				if e, ok := f.(*proto.Event); ok && e.Kind == proto.KindMessage {
					now := time.Now().UnixNano()
					i := index[string(e.Content[:min(len(e.Content), 64)])+string(e.ID)]
					local = append(local, time.Duration(now-sent[i].Load()))
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	go func() { // drain acks
		for n := 0; n < b.N; n++ {
			if _, err := p.read(30 * time.Second); err != nil {
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	b.ResetTimer()
	start := time.Now()
	for i, m := range msgs {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Millisecond)))
		sent[i].Store(time.Now().UnixNano())
		if err := p.write(m); err != nil {
			b.Fatal(err)
		}
	}
	rate := float64(b.N) / time.Since(start).Seconds()
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(rate, "sent/s")
	if len(lat) != b.N*nsubs {
		b.Fatalf("%d deliveries, want %d", len(lat), b.N*nsubs)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkE2EECommit1000: the relay's processing of one commit (verify,
// policy and leaf checks, GroupInfo check, hub save, store) in a room whose
// group has 1,000 members: a member's path-update commit, timed from
// room_op to ok.
func BenchmarkE2EECommit1000(b *testing.B) {
	const members = 1000
	s := startRelay(b, benchLimits(Config{}))
	ownerTok := addUser(b, s.Store(), "owner")
	owner := newE2EDevice(b, s.Addr(), ownerTok, proto.UserURI("example.com", "owner"), "d", 1)
	owner.create("big", proto.CreateRoom{})
	// Add 999 users' devices in batches of 100 invites' worth: each user
	// is invited by its own commit (the relay checks one target per invite).
	for i := 1; i < members; i++ {
		name := fmt.Sprintf("u%d", i)
		tok := addUser(b, s.Store(), name)
		d := newTestDevice(b, proto.UserURI("example.com", name), "d", mls.CipherSuite(1))
		kp, err := mls.NewKeyPackage(d.id)
		if err != nil {
			b.Fatal(err)
		}
		c := dialDevice(b, s.Addr(), tok, d.uri)
		if _, ef := c.upload(d.uri, [][]byte{kp.KeyPackage}); ef != nil {
			b.Fatal(ef.Reason)
		}
		c.ws.Close()
		owner.invite(proto.UserURI("example.com", name))
	}
	if n := len(owner.g.Members()); n != members {
		b.Fatalf("%d members", n)
	}
	b.ResetTimer()
	var relayTime time.Duration
	for range b.N {
		res, err := owner.g.Commit(mls.CommitOptions{ForcePath: true})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		_, ef := owner.c.op(owner.room, proto.KindCommit, "", func(f *proto.RoomOp) { f.MLS, f.GroupInfo = res.Commit, res.GroupInfo })
		relayTime += time.Since(start)
		if ef != nil {
			b.Fatal(ef.Reason)
		}
		if err := owner.g.MergePendingCommit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(relayTime.Microseconds())/float64(b.N)/1000, "relay-ms/commit")
}
