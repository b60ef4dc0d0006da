package relay

import (
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"mimichat/proto"
)

// expectLimited waits for a rate_limited error and checks its retry time.
func expectLimited(t *testing.T, c *client, v uint64) *proto.ErrorFrame {
	t.Helper()
	ef := c.expectError(proto.CodeRateLimited)
	if v >= 4 && (ef.RetryMS == 0 || ef.RetryMS > 60_000) {
		t.Fatalf("retry_ms %d, want a wait in (0, 60 s]", ef.RetryMS)
	}
	if v < 4 && ef.RetryMS != 0 {
		t.Fatalf("version %d client got retry_ms %d", v, ef.RetryMS)
	}
	return ef
}

// TestUserBudgets: reads, pings and subscribes are limited per user across
// all of the user's connections, refused with rate_limited and a retry
// time after which the same request succeeds; another user is unaffected.
func TestUserBudgets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		allowed int // requests of the burst
		request func(c *client, room string) proto.Frame
	}{
		{"room_info reads", Config{ReadBytesPerSec: 16 << 10, ReadBurst: 32 << 10, ReadMinCost: 4 << 10}, 8,
			func(c *client, room string) proto.Frame { return &proto.RoomInfo{RID: c.nextRID(), Room: room} }},
		{"history reads", Config{ReadBytesPerSec: 16 << 10, ReadBurst: 32 << 10, ReadMinCost: 4 << 10}, 8,
			func(c *client, room string) proto.Frame { return &proto.History{RID: c.nextRID(), Room: room} }},
		{"rooms reads", Config{ReadBytesPerSec: 16 << 10, ReadBurst: 32 << 10, ReadMinCost: 4 << 10}, 8,
			func(c *client, room string) proto.Frame { return &proto.Rooms{RID: c.nextRID()} }},
		{"subscribes", Config{SubscribeRate: 2, SubscribeBurst: 5}, 5,
			func(c *client, room string) proto.Frame { return &proto.Subscribe{RID: c.nextRID(), Room: room} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.ErrorBudget = 100
			s := startRelay(t, tc.cfg)
			tok := addUser(t, s.Store(), "alice")
			conns := []*client{dial(t, s.Addr(), tok), dial(t, s.Addr(), tok)}
			room := conns[0].createRoom("r", proto.CreateRoom{})
			answered := func(c *client) *proto.ErrorFrame {
				c.send(tc.request(c, room))
				for {
					switch f := c.next(5 * time.Second).(type) {
					case *proto.ErrorFrame:
						return f
					case *proto.RoomState, *proto.HistoryPage, *proto.RoomList, *proto.Subscribed:
						return nil
					}
				}
			}
			for i := 0; i < tc.allowed; i++ {
				if ef := answered(conns[i%2]); ef != nil {
					t.Fatalf("request %d of the burst refused: %s %s", i+1, ef.Code, ef.Reason)
				}
			}
			// A read is admitted while the budget is not in debt, so the
			// tokens earned meanwhile may let one more through.
			if ef := answered(conns[0]); ef == nil && tc.name != "subscribes" {
				t.Logf("one request over the burst admitted into debt")
			} else if ef == nil || ef.Code != proto.CodeRateLimited {
				t.Fatalf("request over the budget answered %+v", ef)
			}
			// The other connection is over too: the budget is the user's.
			// (The refused one is not read for retry_ms, long enough to
			// earn a token again.)
			ef := answered(conns[1])
			if ef == nil || ef.Code != proto.CodeRateLimited || ef.RetryMS == 0 {
				t.Fatalf("request over the budget answered %+v, want rate_limited with retry_ms", ef)
			}
			// Another user is not limited by alice's spending.
			bob := dial(t, s.Addr(), addUser(t, s.Store(), "bob"))
			conns[0].mustOp(room, proto.KindInvite, bob.user)
			bob.mustOp(room, proto.KindJoin, "")
			if ef := answered(bob); ef != nil {
				t.Fatalf("bob refused: %s %s", ef.Code, ef.Reason)
			}
			// After the retry time the request goes through.
			time.Sleep(time.Duration(ef.RetryMS)*time.Millisecond + 20*time.Millisecond)
			if ef := answered(conns[0]); ef != nil {
				t.Fatalf("after retry_ms %d: %s %s", ef.RetryMS, ef.Code, ef.Reason)
			}
		})
	}
}

// TestPingBudget: pings beyond the user's budget get rate_limited instead
// of a pong, and a ping flood is held back to the budget's rate without
// ending the connection.
func TestPingBudget(t *testing.T) {
	s := startRelay(t, Config{PingRate: 1, PingBurst: 3, ErrorBudget: 5})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	pongs := make(chan struct{}, 100)
	alice.ws.SetPongHandler(func(string) error { pongs <- struct{}{}; return nil })
	for i := 0; i < 4; i++ {
		if err := alice.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	expectLimited(t, alice, proto.Version)
	if len(pongs) != 3 {
		t.Fatalf("%d pongs, want 3", len(pongs))
	}
	start := time.Now()
	for i := 0; i < 100; i++ {
		if err := alice.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if alice.waitClosed(1500 * time.Millisecond) {
		t.Fatalf("ping flood ended the connection: %v", alice.err)
	}
	if most := 3 + 1 + int(time.Since(start).Seconds()) + 1; len(pongs) > most {
		t.Fatalf("%d pongs to a flood of 100 in %v; at most %d within the budget", len(pongs), time.Since(start), most)
	}
}

// TestRetryOnlyForVersion4: a version 3 client gets rate_limited without
// the retry_ms key its strict decoder would reject.
func TestRetryOnlyForVersion4(t *testing.T) {
	s := startRelay(t, Config{RatePerSec: 1, RateBurst: 1, ErrorBudget: 100})
	tok := addUser(t, s.Store(), "alice")
	for _, v := range []uint64{3, 4} {
		c := dialVersion(t, s.Addr(), tok, v)
		c.send(&proto.CreateRoom{RID: c.nextRID()})
		if v == 3 {
			expect[*proto.OK](c)
		}
		c.send(&proto.CreateRoom{RID: c.nextRID()})
		expectLimited(t, c, v)
	}
}

// TestConnectionCaps: connections beyond the per-user or the total cap are
// refused at hello with a fatal rate_limited and a retry time; a slot
// freed is usable again.
func TestConnectionCaps(t *testing.T) {
	s := startRelay(t, Config{MaxConnsPerUser: 2, MaxConns: 3})
	tokA, tokB, tokC := addUser(t, s.Store(), "alice"), addUser(t, s.Store(), "bob"), addUser(t, s.Store(), "carol")
	refused := func(tok string) *proto.ErrorFrame {
		t.Helper()
		ws := dialRaw(t, s.Addr())
		defer ws.Close()
		data, _ := proto.Encode(&proto.Hello{V: proto.Version, Token: tok})
		ws.WriteMessage(websocket.BinaryMessage, data)
		f, err := readRaw(t, ws)
		ef, ok := f.(*proto.ErrorFrame)
		if err != nil || !ok || !ef.Fatal || ef.Code != proto.CodeRateLimited || ef.RetryMS == 0 {
			t.Fatalf("hello over the cap answered %#v, %v; want fatal rate_limited with retry_ms", f, err)
		}
		return ef
	}
	a1 := dial(t, s.Addr(), tokA)
	dial(t, s.Addr(), tokA)
	refused(tokA)
	dial(t, s.Addr(), tokB)
	refused(tokC)
	a1.ws.Close()
	waitFor(t, func() bool { return s.connections() == 2 })
	dial(t, s.Addr(), tokC)
	if n := s.connections(); n != 3 {
		t.Fatalf("%d connections, want 3", n)
	}
	_ = fmt.Sprint()
}
