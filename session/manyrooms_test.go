package session

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"mimichat/content"
	"mimichat/internal/roomseed"
	"mimichat/proto"
	"mimichat/relay"
)

// seededRelay is a real relay on 127.0.0.1 serving a user in many rooms,
// seeded through the relay's bulk store path, speaking at most maxVersion.
type seededRelay struct {
	srv  *relay.Server
	seed roomseed.Seeded
}

func startSeededRelay(t testing.TB, rooms, messages int, maxVersion uint64) *seededRelay {
	t.Helper()
	dir := t.TempDir()
	seed, err := roomseed.Seed(dir, roomseed.Options{Domain: testDomain, Rooms: rooms, Messages: messages})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := relay.Start(relay.Config{Listen: "127.0.0.1:0", Data: dir, Domain: testDomain, RatePerSec: -1,
		MaxVersion: maxVersion, SubscribeBurst: 2 * rooms, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &seededRelay{srv: srv, seed: seed}
}

func (r *seededRelay) open(t testing.TB, user, token, dir string) *Session {
	t.Helper()
	s, err := Open(Options{Relay: "ws://" + r.srv.Addr() + "/v1", User: user, Token: token, DataDir: dir,
		Backoff: Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}, RoomsPoll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// post has the rooms' owner post text into each room of rooms, over a
// websocket of its own, and waits for every ack.
func (r *seededRelay) post(t testing.TB, rooms map[string]bool, text string) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+r.srv.Addr()+"/v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	write := func(f proto.Frame) {
		b, err := proto.Encode(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
			t.Fatal(err)
		}
	}
	write(&proto.Hello{V: 5, Token: r.seed.OwnerToken}) // every relay of these tests serves 5
	rid := uint64(0)
	for room := range rooms {
		m, err := (&content.Builder{Sender: r.seed.Owner, Room: room}).Markdown(text)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		id, err := content.ComputeID(r.seed.Owner, room, raw)
		if err != nil {
			t.Fatal(err)
		}
		rid++
		write(&proto.Submit{RID: rid, Room: room, ID: id[:], Content: raw})
	}
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for acks := 0; acks < len(rooms); {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		switch f, err := proto.Decode(data); f := f.(type) {
		case *proto.Ack:
			acks++
		case *proto.Welcome:
		default:
			t.Fatalf("posting: got %#v (%v)", f, err)
		}
	}
}

// onlineWithin starts s and waits until it is online, failing after d.
func onlineWithin(t testing.TB, s *Session, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	s.Start()
	if err := s.WaitOnline(ctx); err != nil {
		t.Fatalf("%s: not online after %v: %v", s.User(), d, err)
	}
}

// checkNeverOffline fails if the session lost its connection after it
// first came online.
func (c *collector) checkNeverOffline(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	wasOnline := false
	for _, st := range c.states {
		if st == Online {
			wasOnline = true
		} else if wasOnline {
			t.Fatalf("went %v after coming online (errors: %v)", st, c.errs)
		}
	}
}

// checkResumed fails unless each room of news got exactly entry head+1 and
// every other room nothing.
func (c *collector) checkResumed(t testing.TB, rooms []string, news map[string]bool, head uint64) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, room := range rooms {
		if news[room] {
			checkSeqs(t, c.entries[room], head+1, head+1)
		} else if es := c.entries[room]; len(es) != 0 {
			t.Fatalf("%s: %d entries replayed again from seq %d", room, len(es), es[0].Seq)
		}
	}
}

// TestManyRoomsOnlineAndResume: a user in 1,000 rooms with history comes
// online without being disconnected and gets every room's log, each from
// seq 1 exactly once and in order; after a restart, with new messages in
// some rooms meanwhile, every room resumes from its cursor: the rooms with
// news get exactly the new entries, the others nothing. Against a relay of
// the newest protocol (subscribe_rooms, version 6 and up) and one of version
// 5 (the session falls back and subscribes room by room, paced).
func TestManyRoomsOnlineAndResume(t *testing.T) {
	const rooms, messages = 1000, 10
	for _, v := range []uint64{proto.Version, 5} {
		t.Run(fmt.Sprintf("relay v%d", v), func(t *testing.T) {
			r := startSeededRelay(t, rooms, messages, v)
			head := r.seed.Head
			dir := t.TempDir()
			me := r.open(t, r.seed.User, r.seed.UserToken, dir)
			got := collect(me)
			start := time.Now()
			onlineWithin(t, me, 60*time.Second) // a loaded machine: the bound is generous
			got.waitFor(t, "every room's log", 60*time.Second, func() bool {
				for _, room := range r.seed.Rooms {
					if got.lastSeq(room) != head {
						return false
					}
				}
				return true
			})
			t.Logf("%d rooms online and caught up in %v", rooms, time.Since(start))
			for _, room := range r.seed.Rooms {
				got.checkRun(t, room, 1, head)
			}
			got.checkNeverOffline(t)
			me.mu.Lock()
			hello := me.helloV
			me.mu.Unlock()
			if want := map[uint64]uint64{proto.Version: 0, 5: 5}[v]; hello != want {
				t.Fatalf("says hello with version %d (0: the newest), want %d", hello, want)
			}
			me.Close()
			<-got.done

			// News in every 10th room while the user is away.
			news := map[string]bool{}
			for i := 0; i < rooms; i += 10 {
				news[r.seed.Rooms[i]] = true
			}
			r.post(t, news, "while you were away")

			me = r.open(t, r.seed.User, r.seed.UserToken, dir)
			got = collect(me)
			onlineWithin(t, me, 60*time.Second) // a loaded machine: the bound is generous
			got.waitFor(t, "the news", 60*time.Second, func() bool {
				for room := range news {
					if got.lastSeq(room) != head+1 {
						return false
					}
				}
				return true
			})
			time.Sleep(200 * time.Millisecond) // anything more would come now
			got.checkResumed(t, r.seed.Rooms, news, head)
			got.checkNeverOffline(t)
		})
	}
}
