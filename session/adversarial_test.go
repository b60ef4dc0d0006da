package session

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"mimichat/proto"
)

// A relay that tampers with what it delivers: tamperProxy sits between one
// session and the real relay and rewrites the relay's frames to that session
// (replays, drops, reorders, forgeries). End-to-end encryption must turn
// each into something the user sees for what it is, and nothing may crash.

// tamperProxy forwards websocket frames both ways; every relay → client frame
// goes through tamper, which returns the frames to deliver instead (none
// drops it, two replays it).
type tamperProxy struct {
	t      *testing.T
	target string // the relay's ws URL
	addr   string
	mu     sync.Mutex
	tamper func(f proto.Frame, raw []byte) [][]byte
}

func startTamperProxy(t *testing.T, target string, tamper func(proto.Frame, []byte) [][]byte) *tamperProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tamperProxy{t: t, target: target, addr: ln.Addr().String(), tamper: tamper}
	up := websocket.Upgrader{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := http.Header{}
		if a := r.Header.Get("Authorization"); a != "" {
			h.Set("Authorization", a)
		}
		up2, _, err := websocket.DefaultDialer.Dial(p.target, h)
		if err != nil {
			http.Error(w, "relay unreachable", http.StatusBadGateway)
			return
		}
		down, err := up.Upgrade(w, r, nil)
		if err != nil {
			up2.Close()
			return
		}
		go p.pipe(down, up2, nil)
		p.pipe(up2, down, p.rewrite)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p
}

func (p *tamperProxy) url() string { return "ws://" + p.addr + "/v1" }

// pipe copies src's messages to dst until either side closes, passing each
// through rewrite when given.
func (p *tamperProxy) pipe(src, dst *websocket.Conn, rewrite func([]byte) [][]byte) {
	defer src.Close()
	defer dst.Close()
	for {
		typ, data, err := src.ReadMessage()
		if err != nil {
			return
		}
		out := [][]byte{data}
		if rewrite != nil && typ == websocket.BinaryMessage {
			out = rewrite(data)
		}
		for _, d := range out {
			if err := dst.WriteMessage(typ, d); err != nil {
				return
			}
		}
	}
}

func (p *tamperProxy) rewrite(data []byte) [][]byte {
	f, err := proto.Decode(data)
	if err != nil {
		return [][]byte{data}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tamper(f, data)
}

// encodeFrame re-encodes a tampered frame.
func encodeFrame(t *testing.T, f proto.Frame) []byte {
	b, err := proto.Encode(f)
	if err != nil {
		t.Error(err)
	}
	return b
}

// TestAdversarialRelay: alice sends 12 messages to bob in an encrypted room
// while bob's relay connection replays, drops, reorders and forges frames.
// Bob ends with every genuine message exactly once and in order, the forged
// ones marked as refused or undecryptable with a reason, and his session
// running.
func TestAdversarialRelay(t *testing.T) {
	for _, c := range []struct {
		name string
		// tamper gets the n-th message event (1-based) bob's connection
		// carries live and returns what to deliver; held is for reordering.
		tamper func(t *testing.T, n int, ev *proto.Event, raw []byte, held *[]byte) [][]byte
		// forged says which message numbers bob must see as refused or
		// undecryptable rather than as text, and the reason's words.
		forged map[int]string
	}{
		{name: "replay", tamper: func(t *testing.T, n int, ev *proto.Event, raw []byte, _ *[]byte) [][]byte {
			return [][]byte{raw, raw} // every message twice
		}},
		{name: "drop", tamper: func(t *testing.T, n int, ev *proto.Event, raw []byte, _ *[]byte) [][]byte {
			if n == 3 || n == 7 {
				return nil // a gap the session must fill from the relay's log
			}
			return [][]byte{raw}
		}},
		{name: "reorder", tamper: func(t *testing.T, n int, ev *proto.Event, raw []byte, held *[]byte) [][]byte {
			if n == 4 {
				*held = raw
				return nil
			}
			if n == 5 {
				return [][]byte{raw, *held} // 5 before 4
			}
			return [][]byte{raw}
		}},
		{name: "forge-ciphertext", tamper: func(t *testing.T, n int, ev *proto.Event, raw []byte, _ *[]byte) [][]byte {
			if n == 6 {
				ev.Content = append([]byte(nil), ev.Content...)
				ev.Content[len(ev.Content)-5] ^= 0x40 // inside the AEAD ciphertext
				return [][]byte{encodeFrame(t, ev)}
			}
			return [][]byte{raw}
		}, forged: map[int]string{6: ""}},
		{name: "forge-sender", tamper: func(t *testing.T, n int, ev *proto.Event, raw []byte, _ *[]byte) [][]byte {
			if n == 2 {
				ev.Sender = "mimi://" + testDomain + "/u/carol" // a member who did not send it
				return [][]byte{encodeFrame(t, ev)}
			}
			return [][]byte{raw}
		}, forged: map[int]string{2: "refused"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := startRelay(t)
			alice, carol := r.client("alice", ""), r.client("carol", "")
			online(t, alice)
			online(t, carol)
			var room string
			n := 0
			var held []byte
			proxy := startTamperProxy(t, r.url(), func(f proto.Frame, raw []byte) [][]byte {
				ev, ok := f.(*proto.Event)
				if !ok || ev.Kind != proto.KindMessage || ev.Room != room || room == "" {
					return [][]byte{raw}
				}
				n++
				return c.tamper(t, n, ev, raw, &held)
			})
			bobURI, bobTok := r.user("bob")
			bob, err := Open(Options{Relay: proxy.url(), User: bobURI, Token: bobTok, DataDir: t.TempDir(),
				Backoff: Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}, RoomsPoll: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { bob.Close() })
			bc := collect(bob)
			online(t, bob)
			created := newRoom(t, alice, carol, bob)
			if !alice.Crypto(created).Encrypted {
				t.Fatalf("room %s is not end-to-end encrypted", created)
			}
			proxy.mu.Lock()
			room = created
			proxy.mu.Unlock()
			const total = 12
			for i := 1; i <= total; i++ {
				sendText(t, alice, room, fmt.Sprintf("genuine message %d", i))
			}
			bc.waitFor(t, "bob has all 12 message seqs", 30*time.Second, func() bool {
				return len(messages(bc.entries[room])) >= total
			})
			time.Sleep(300 * time.Millisecond) // any replayed frame arrives meanwhile
			bc.mu.Lock()
			defer bc.mu.Unlock()
			msgs := messages(bc.entries[room])
			if len(msgs) != total {
				t.Fatalf("bob has %d message entries, want %d (a replay showed twice or one was lost)", len(msgs), total)
			}
			for i, e := range msgs {
				if i > 0 && e.Seq <= msgs[i-1].Seq {
					t.Fatalf("message entries out of order: seq %d after %d", e.Seq, msgs[i-1].Seq)
				}
				num := i + 1
				if words, bad := c.forged[num]; bad {
					if e.Undecryptable == "" || !strings.Contains(e.Undecryptable, words) {
						t.Errorf("forged message %d shown as %q (undecryptable %q), want it refused (%q)", num, string(e.Raw), e.Undecryptable, words)
					}
					continue
				}
				if e.Undecryptable != "" {
					t.Errorf("genuine message %d: undecryptable: %s", num, e.Undecryptable)
					continue
				}
				if got, want := textOf(t, e), fmt.Sprintf("genuine message %d", num); got != want {
					t.Errorf("message %d reads %q, want %q", num, got, want)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := bob.WaitOnline(ctx); err != nil {
				t.Errorf("bob's session is not online after the tampering: %v", err)
			}
		})
	}
}
