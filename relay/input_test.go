package relay

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/gorilla/websocket"

	"mimichat/proto"
)

// readRaw reads one frame straight off a websocket (no client goroutine).
func readRaw(t *testing.T, ws *websocket.Conn) (proto.Frame, error) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	return proto.Decode(data)
}

func TestHandshakeRefusals(t *testing.T) {
	s := startRelay(t, Config{})
	tok := addUser(t, s.Store(), "alice")
	hello := func(v uint64, token string) []byte {
		b, _ := proto.Encode(&proto.Hello{V: v, Token: token})
		return b
	}
	rooms, _ := proto.Encode(&proto.Rooms{RID: 1})
	tests := []struct {
		name  string
		first []byte
		text  bool
		code  proto.Code
	}{
		{"unknown version", hello(proto.Version+1, tok), false, proto.CodeUnsupportedVersion},
		{"bad token", hello(proto.Version, "mct_nope"), false, proto.CodeAuthFailed},
		{"no token", hello(proto.Version, ""), false, proto.CodeAuthFailed},
		{"not hello first", rooms, false, proto.CodeAuthRequired},
		{"garbage first", []byte{0xff, 0x01}, false, proto.CodeAuthRequired},
		{"text first", []byte(`{"t":"hello"}`), true, proto.CodeAuthRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := dialRaw(t, s.Addr())
			defer ws.Close()
			mt := websocket.BinaryMessage
			if tt.text {
				mt = websocket.TextMessage
			}
			ws.WriteMessage(mt, tt.first)
			f, err := readRaw(t, ws)
			if err != nil {
				t.Fatal(err)
			}
			ef, ok := f.(*proto.ErrorFrame)
			if !ok || ef.Code != tt.code || !ef.Fatal {
				t.Fatalf("got %#v, want fatal %s", f, tt.code)
			}
			if _, err := readRaw(t, ws); !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
				t.Fatalf("connection not closed after fatal error: %v", err)
			}
		})
	}
	t.Run("bearer header", func(t *testing.T) {
		h := map[string][]string{"Authorization": {"Bearer " + tok}}
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.Addr()+"/v1", h)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		ws.WriteMessage(websocket.BinaryMessage, hello(proto.Version, ""))
		if f, err := readRaw(t, ws); err != nil || f.(*proto.Welcome).User != "mimi://example.com/u/alice" {
			t.Fatalf("got %#v, %v", f, err)
		}
	})
}

// TestBadFrames: each bad frame gets an error with its code, the request id
// when it can be read, and the connection keeps working.
func TestBadFrames(t *testing.T) {
	s := startRelay(t, Config{MaxFrame: 2048, MaxContent: 1024, MaxHandshakeFrame: 4096})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	room := alice.createRoom("r", proto.CreateRoom{})
	enc := func(v any) []byte {
		b, err := cbor.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	big := message(t, alice.user, room, string(bytes.Repeat([]byte("x"), 1500)))
	big.RID = 77
	bigFrame, _ := proto.Encode(big)
	tests := []struct {
		name  string
		data  []byte
		code  proto.Code
		rid   uint64
		field string
	}{
		{"garbage", []byte{0x1f, 0xff, 0x00}, proto.CodeMalformed, 0, ""},
		{"not a map", enc([]int{1}), proto.CodeMalformed, 0, ""},
		{"unknown type", enc(map[string]any{"t": "teleport", "rid": 5}), proto.CodeUnknownType, 5, "t"},
		{"unknown key", enc(map[string]any{"t": "rooms", "rid": 6, "extra": 1}), proto.CodeBadField, 6, ""},
		{"bad field", enc(map[string]any{"t": "subscribe", "rid": 7, "room": 3}), proto.CodeBadField, 7, "room"},
		{"short id", enc(map[string]any{"t": "submit", "rid": 8, "room": room, "id": []byte{1}, "content": []byte{1}}), proto.CodeBadField, 8, "id"},
		{"oversized", bytes.Repeat([]byte{0}, 3000), proto.CodeFrameTooLarge, 0, ""},
		{"content too large", bigFrame, proto.CodeContentTooLarge, 77, ""},
		{"server frame", enc(map[string]any{"t": "ack", "rid": 9, "room": room, "id": make([]byte, 32)}), proto.CodeUnknownType, 0, ""},
		{"second hello", enc(map[string]any{"t": "hello", "v": 1}), proto.CodeInvalidOp, 0, ""},
		{"no such room", enc(map[string]any{"t": "room_info", "rid": 10, "room": "mimi://example.com/r/x"}), proto.CodeNoSuchRoom, 10, ""},
	}
	for _, tt := range tests {
		alice.sendRaw(tt.data)
		e := alice.expectError(tt.code)
		if e.RID != tt.rid || e.Field != tt.field || e.Fatal {
			t.Fatalf("%s: error %+v, want rid %d field %q, not fatal", tt.name, e, tt.rid, tt.field)
		}
	}
	alice.wmu.Lock()
	alice.ws.WriteMessage(websocket.TextMessage, []byte("hi"))
	alice.wmu.Unlock()
	alice.expectError(proto.CodeNotBinary)
	// Still usable, and nothing half-written: the log has only create.
	alice.send(&proto.History{RID: 11, Room: room})
	if p := expect[*proto.HistoryPage](alice); len(p.Events) != 1 {
		t.Fatalf("log has %d events, want 1", len(p.Events))
	}
	// A frame beyond 4 × max_frame (version 5: or beyond the handshake
	// limit + 4 KiB, here the same) ends the connection (1009).
	alice.trySendRaw(bytes.Repeat([]byte{0}, 4*2048+1)) // the relay may close before the write ends
	if !alice.waitClosed(5 * time.Second) {
		t.Fatal("huge frame did not close the connection")
	}
	var ce *websocket.CloseError
	if !errors.As(alice.err, &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("closed with %v, want 1009", alice.err)
	}
}

// TestFloodDisconnects: a client that keeps sending bad frames is cut off.
func TestFloodDisconnects(t *testing.T) {
	s := startRelay(t, Config{ErrorBudget: 5})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	// The relay may close the connection after the sixth bad frame, before
	// the client has written all ten: a failed write then is the behaviour
	// under test, not an error. The close must come with the fatal frame.
	for i := 0; i < 10; i++ {
		if err := alice.trySendRaw([]byte{0xff}); err != nil {
			if i <= 5 {
				t.Fatalf("write %d failed before the error budget of 5 was spent: %v", i+1, err)
			}
			break
		}
	}
	var fatal *proto.ErrorFrame
	for fatal == nil {
		select {
		case f := <-alice.frames:
			if ef, ok := f.(*proto.ErrorFrame); ok && ef.Fatal {
				fatal = ef
			}
		case <-alice.closed:
			for len(alice.frames) > 0 {
				if ef, ok := (<-alice.frames).(*proto.ErrorFrame); ok && ef.Fatal {
					fatal = ef
				}
			}
			if fatal == nil {
				t.Fatal("closed without a fatal error frame")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("flood did not disconnect")
		}
	}
	if fatal.Code != proto.CodeTooManyErrors {
		t.Fatalf("fatal %s, want too_many_errors", fatal.Code)
	}
	if !alice.waitClosed(5 * time.Second) {
		t.Fatal("connection still open")
	}
}

func TestRateLimit(t *testing.T) {
	s := startRelay(t, Config{RatePerSec: 2, RateBurst: 5, ErrorBudget: 100})
	alice := dial(t, s.Addr(), addUser(t, s.Store(), "alice"))
	// The bucket refills from before create_room takes its token, and a
	// rate-limited connection is not read for its retry time, during which
	// it refills too: count from here and round the refill up.
	start := time.Now()
	room := alice.createRoom("r", proto.CreateRoom{})
	const n = 12
	for i := 0; i < n; i++ {
		m := message(t, alice.user, room, "flood")
		m.RID = uint64(100 + i)
		alice.send(m)
	}
	acks, limited := 0, 0
	for acks+limited < n {
		switch f := alice.next(5 * time.Second).(type) {
		case *proto.Ack:
			acks++
		case *proto.ErrorFrame:
			if f.Code != proto.CodeRateLimited {
				t.Fatalf("error %s", f.Code)
			}
			limited++
		}
	}
	// The burst of 5 less create_room's token, plus the tokens refilled
	// while the test ran.
	most := 4 + int(math.Ceil(2*time.Since(start).Seconds()))
	if acks < 4 || acks > most || limited != n-acks {
		t.Fatalf("%d acked, %d rate limited; want 4-%d acked", acks, limited, most)
	}
	time.Sleep(600 * time.Millisecond) // refills at least one token
	alice.post(room, "later")
	// Room operations draw on the same budget.
	for i := 0; i < 6; i++ {
		alice.send(&proto.RoomOp{RID: uint64(200 + i), Room: room, Op: proto.KindTopic, Value: "t"})
	}
	for limited := false; !limited; {
		switch f := alice.next(5 * time.Second).(type) {
		case *proto.ErrorFrame:
			if f.Code != proto.CodeRateLimited {
				t.Fatalf("error %s", f.Code)
			}
			limited = true
		case *proto.OK, *proto.Event:
		default:
			t.Fatalf("unexpected %#v", f)
		}
	}
}
