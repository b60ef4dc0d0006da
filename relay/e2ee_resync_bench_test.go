package relay

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"mimichat/proto"
)

// BenchmarkE2EEResync200: BenchmarkResync200 (after a relay restart, 200
// clients, each 500 events behind, reconnect, authenticate, resubscribe
// from their cursor and catch up) in a plaintext room and in an encrypted
// room, alternating in every iteration so both see the same load; it
// reports each mode's median, min and max. The encrypted room's log is
// PrivateMessages of a real two-member MLS group; its restart also loads
// the room's hub group.
func BenchmarkE2EEResync200(b *testing.B) {
	modes := []string{"plaintext", "encrypted"}
	setups := map[string]resyncSetup{}
	for _, mode := range modes {
		setups[mode] = prepareResync(b, mode == "encrypted")
	}
	times := map[string][]time.Duration{}
	i := 0
	for b.Loop() {
		order := slices.Clone(modes)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		i++
		for _, mode := range order {
			times[mode] = append(times[mode], setups[mode].resync(b, mode == "encrypted"))
		}
	}
	for mode, ts := range times {
		slices.Sort(ts)
		b.ReportMetric(ts[len(ts)/2].Seconds(), mode+"-median-s")
		b.ReportMetric(ts[0].Seconds(), mode+"-min-s")
		b.ReportMetric(ts[len(ts)-1].Seconds(), mode+"-max-s")
	}
}

// resyncSetup is a relay's data directory with a room 1,000 events long.
type resyncSetup struct {
	dir, subTok, room string
	head              uint64
}

const resyncSubs, resyncBehind = 200, 500

func prepareResync(b *testing.B, encrypted bool) resyncSetup {
	dir := b.TempDir()
	s := startRelay(b, benchLimits(Config{Data: dir}))
	senderTok, subTok := addUser(b, s.Store(), "s0"), addUser(b, s.Store(), "sub")
	sender := newE2EDevice(b, s.Addr(), senderTok, proto.UserURI("example.com", "s0"), "d", 1)
	var msgs []*proto.Submit
	if encrypted {
		reader := newE2EDevice(b, s.Addr(), subTok, proto.UserURI("example.com", "sub"), "d", 1)
		sender.create("bench", proto.CreateRoom{})
		sender.invite(reader.c.user)
		reader.c.mustOp(sender.room, proto.KindJoin, "")
		reader.c.ws.Close()
		for i := range 2 * resyncBehind {
			msgs = append(msgs, sender.seal(fmt.Sprintf("resync message %d", i)))
		}
	} else {
		sender.room = sender.c.createRoom("bench", proto.CreateRoom{Join: proto.JoinOpen})
		p, err := connect(s.Addr(), subTok)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.call(&proto.RoomOp{RID: 1, Room: sender.room, Op: proto.KindJoin}); err != nil {
			b.Fatal(err)
		}
		p.close()
		for i := range 2 * resyncBehind {
			msgs = append(msgs, message(b, sender.c.user, sender.room, fmt.Sprintf("resync message %d", i)))
		}
	}
	sender.c.ws.Close()
	for i, m := range msgs {
		m.RID = uint64(i + 1)
	}
	p, err := connect(s.Addr(), senderTok)
	if err != nil {
		b.Fatal(err)
	}
	if err := pump(p, msgs, 0); err != nil {
		b.Fatal(err)
	}
	p.close()
	head := s.hub.room(sender.room).head
	s.Shutdown(b.Context())
	return resyncSetup{dir: dir, subTok: subTok, room: sender.room, head: head}
}

// resync starts the relay on the setup's data and times the 200 clients'
// catching up.
func (rs resyncSetup) resync(b *testing.B, encrypted bool) time.Duration {
	start := time.Now()
	s := startRelay(b, benchLimits(Config{Data: rs.dir}))
	subs := make([]*rawSubscriber, resyncSubs)
	var wg sync.WaitGroup
	for j := range subs {
		wg.Add(1)
		go func() { defer wg.Done(); subs[j] = subscribeRaw(b, s.Addr(), rs.subTok, rs.room, rs.head-resyncBehind) }()
	}
	wg.Wait()
	if !waitCount(subs, resyncBehind, time.Now().Add(30*time.Second)) {
		b.Fatal("clients did not catch up in 30 s")
	}
	elapsed := time.Since(start)
	for _, sub := range subs {
		sub.ws.Close()
	}
	if encrypted && !s.hub.room(rs.room).encrypted {
		b.Fatal("the room is not encrypted after the restart")
	}
	s.Shutdown(b.Context())
	return elapsed
}
