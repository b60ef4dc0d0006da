package relay

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"mimichat/proto"
)

// TestSlowReaderDisconnected: a subscriber that stops reading fills its
// bounded queue and is disconnected; a fast subscriber gets every event
// meanwhile, and the sender's acks keep coming.
func TestSlowReaderDisconnected(t *testing.T) {
	// A write timeout far above the bound below: were the relay to wait on
	// the slow socket, the fast subscriber would stall for 2 minutes. The
	// bound leaves room for a loaded machine or -race (16 s seen under both;
	// about 1-5 s otherwise).
	s := startRelay(t, Config{RatePerSec: -1, SendQueue: 32, WriteTimeout: 2 * time.Minute})
	st := s.Store()
	alice := dial(t, s.Addr(), addUser(t, st, "alice"))
	fast := dial(t, s.Addr(), addUser(t, st, "fast"))
	room := alice.createRoom("r", proto.CreateRoom{Join: proto.JoinOpen})
	fast.mustOp(room, proto.KindJoin, "")
	fast.subscribe(room, 0)

	// The slow client subscribes, then never reads again.
	slowTok := addUser(t, st, "slow")
	slow, err := connect(s.Addr(), slowTok)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.close()
	if _, err := slow.call(&proto.RoomOp{RID: 1, Room: room, Op: proto.KindJoin}); err != nil {
		t.Fatal(err)
	}
	if err := slow.write(&proto.Subscribe{RID: 2, Room: room}); err != nil {
		t.Fatal(err)
	}

	const n = 400
	body := strings.Repeat("x", 60<<10)
	msgs := make([]*proto.Submit, n)
	for i := range msgs {
		msgs[i] = message(t, alice.user, room, body)
		msgs[i].RID = uint64(i + 1)
	}
	start := time.Now()
	go func() {
		for _, m := range msgs {
			alice.send(m)
		}
	}()
	for i := 0; i < n; i++ {
		expect[*proto.Ack](alice)
	}
	evs := fast.events(room, 3+n, 90*time.Second)
	elapsed := time.Since(start)
	if len(evs) != 3+n {
		t.Fatalf("fast subscriber got %d of %d events", len(evs), 3+n)
	}
	if elapsed > time.Minute {
		t.Fatalf("fast subscriber took %v: the slow one held it back", elapsed)
	}
	if s.metrics.slowKills.Load() == 0 {
		t.Fatal("the slow reader was not disconnected")
	}
	// The slow client finds its connection closed once it reads again.
	got := 0
	for {
		f, err := slow.read(5 * time.Second)
		if err != nil {
			// 1008 when the close frame still fits the socket, else a bare close.
			if ce, ok := err.(*websocket.CloseError); ok && ce.Code != websocket.ClosePolicyViolation && ce.Code != websocket.CloseAbnormalClosure {
				t.Fatalf("closed with %v", err)
			}
			break
		}
		if _, ok := f.(*proto.Event); ok {
			got++
		}
	}
	if got >= 3+n {
		t.Fatalf("slow reader received all %d events; it should have been cut off", got)
	}
	t.Logf("%d × 60 KiB to the fast subscriber in %v; slow one got %d events before the cut", n, elapsed, got)
}

// TestSlowAckReaderPushedBack: a pipelining sender that stops reading its
// acks is pushed back (the relay reads no more of its requests while
// MaxInflight answers are unwritten), not disconnected, and gets every ack
// once it reads again. Before, a request's slot was freed when its answer
// was queued, so answers piled up behind the blocked socket until the
// queue was full and the relay closed the connection ("send queue full":
// BenchmarkSubmitsStored's senders at 40,000 submits each).
func TestSlowAckReaderPushedBack(t *testing.T) {
	s := startRelay(t, Config{RatePerSec: -1, SendQueue: 8, MaxInflight: 4, WriteTimeout: 2 * time.Minute})
	st := s.Store()
	alice := dial(t, s.Addr(), addUser(t, st, "alice"))
	room := alice.createRoom("r", proto.CreateRoom{Join: proto.JoinOpen})

	// The sender's socket takes little, so the relay's writes block soon.
	small := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048)
		})
		return errors.Join(err, serr)
	}}
	bulk, err := connectWith(websocket.Dialer{HandshakeTimeout: 5 * time.Second, NetDialContext: small.DialContext}, s.Addr(), addUser(t, st, "bulk"))
	if err != nil {
		t.Fatal(err)
	}
	defer bulk.close()
	if _, err := bulk.call(&proto.RoomOp{RID: 1, Room: room, Op: proto.KindJoin}); err != nil {
		t.Fatal(err)
	}

	const n = 3000
	msgs := make([]*proto.Submit, n)
	for i := range msgs {
		msgs[i] = message(t, bulk.user, room, fmt.Sprintf("bulk %d", i))
		msgs[i].RID = uint64(i + 2)
	}
	wrote := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			if err := bulk.write(m); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	// Not reading meanwhile: the relay commits what it has read and its
	// answers wait behind the full socket.
	var writeErr error
	done := false
	select {
	case writeErr = <-wrote:
		done = true
	case <-time.After(4 * time.Second): // pushed back before the last: the point
	}
	if writeErr != nil {
		t.Fatalf("writing the submits: %v", writeErr)
	}
	time.Sleep(time.Second)
	acks := 0
	for acks < n {
		f, err := bulk.read(30 * time.Second)
		if err != nil {
			t.Fatalf("after %d of %d acks: %v", acks, n, err)
		}
		switch f := f.(type) {
		case *proto.Ack:
			acks++
		case *proto.ErrorFrame:
			t.Fatalf("after %d acks: %s: %s", acks, f.Code, f.Reason)
		}
	}
	if !done {
		if err := <-wrote; err != nil {
			t.Fatalf("writing the submits: %v", err)
		}
	}
	if k := s.metrics.slowKills.Load(); k != 0 {
		t.Fatalf("%d connections closed as slow readers", k)
	}
}
