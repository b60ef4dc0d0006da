package content

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

func TestExtensionsGetSetDelete(t *testing.T) {
	var e Extensions
	e.SetSenderURI("mimi://a.example/u/alice")
	e.SetRoomURI("mimi://a.example/r/room")
	e.SetSenderURI("mimi://a.example/u/bob") // replaces, no duplicate
	e.Set(TextKey("x-private"), []byte{0x01})
	if len(e) != 3 {
		t.Fatalf("%d entries, want 3", len(e))
	}
	if s, ok := e.SenderURI(); !ok || s != "mimi://a.example/u/bob" {
		t.Errorf("SenderURI = %q %v", s, ok)
	}
	if s, ok := e.RoomURI(); !ok || s != "mimi://a.example/r/room" {
		t.Errorf("RoomURI = %q %v", s, ok)
	}
	if v, ok := e.Get(TextKey("x-private")); !ok || string(v) != "\x01" {
		t.Errorf("Get = %x %v", v, ok)
	}
	if !e.Delete(KeyRoomURI) || e.Delete(KeyRoomURI) {
		t.Errorf("Delete did not report presence correctly")
	}
	if _, ok := e.RoomURI(); ok {
		t.Errorf("room URI survived Delete")
	}
	e.Set(KeySenderURI, []byte{0x01})
	if _, ok := e.SenderURI(); ok {
		t.Errorf("non-text sender URI accepted")
	}
	if KeyLastSeen.String() != "256" || TextKey("a").String() != `"a"` {
		t.Errorf("key strings %s %s", KeyLastSeen, TextKey("a"))
	}
}

func TestSenderTimestamp(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1762760377, 0), "a1 01 1a 691196b9"},
		{time.Unix(1762760377, 5_000_000), "a2 01 1a 691196b9 22 05"},
		{time.Unix(1762760377, 462_917_000), "a2 01 1a 691196b9 25 1a 00071045"},
		{time.Unix(1762760377, 1), "a2 01 1a 691196b9 28 01"},
	} {
		var e Extensions
		if err := e.SetSenderTimestamp(c.t); err != nil {
			t.Fatal(err)
		}
		v, _ := e.Get(KeySenderTimestamp)
		if want := x(c.want); string(v) != string(want) {
			t.Errorf("%v: %x, want %x", c.t, v, want)
		}
		got, ok, err := e.SenderTimestamp()
		if err != nil || !ok || !got.Equal(c.t) {
			t.Errorf("read back %v %v %v, want %v", got, ok, err, c.t)
		}
	}
	var e Extensions
	if _, ok, err := e.SenderTimestamp(); ok || err != nil {
		t.Errorf("absent timestamp: ok=%v err=%v", ok, err)
	}
	if err := e.SetSenderTimestamp(time.Unix(-1, 0)); !errors.Is(err, ErrRange) {
		t.Errorf("pre-epoch timestamp: %v", err)
	}
	for name, bad := range map[string]string{
		"not map":      "01",
		"no seconds":   "a1 22 01",
		"millis 1000":  "a2 01 01 22 19 03e8",
		"unknown key":  "a2 01 01 23 01",
		"text key":     "a1 61 61 01",
		"three keys":   "a3 01 01 22 01 25 01",
		"trailing":     "a1 01 01 00",
		"negative sec": "a1 01 20",
	} {
		e := Extensions{{KeySenderTimestamp, x(bad)}}
		_, ok, err := e.SenderTimestamp()
		var de *DecodeError
		if !ok || !errors.As(err, &de) || !strings.HasPrefix(de.Path, "mimiExtensions[3]") {
			t.Errorf("%s: ok=%v err=%v", name, ok, err)
		}
	}
}

func TestExternalMessageID(t *testing.T) {
	for _, c := range []struct {
		x    ExtMessageID
		want string
	}{
		{ExtMessageID{ID: x("08bbeeb8175c4a64a8926a5a23bb2811"), Kind: ScopePEN, PEN: 311}, "82 50 08bbeeb8175c4a64a8926a5a23bb2811 19 0137"},
		{ExtMessageID{ID: []byte{1}, Kind: ScopeDomain, Scope: "example.com"}, "82 41 01 6b 6578616d706c652e636f6d"},
		{ExtMessageID{ID: []byte{1}, Kind: ScopeURI, Scope: "https://e"}, "82 41 01 d8 20 69 68747470733a2f2f65"},
	} {
		var e Extensions
		if err := e.SetExternalMessageID(c.x); err != nil {
			t.Fatal(err)
		}
		if v, _ := e.Get(KeyExternalMessageID); string(v) != string(x(c.want)) {
			t.Errorf("%+v encoded %x, want %s", c.x, v, c.want)
		}
		got, ok, err := e.ExternalMessageID()
		if err != nil || !ok || string(got.ID) != string(c.x.ID) || got.Kind != c.x.Kind || got.PEN != c.x.PEN || got.Scope != c.x.Scope {
			t.Errorf("read back %+v %v %v", got, ok, err)
		}
	}
	var e Extensions
	if err := e.SetExternalMessageID(ExtMessageID{Kind: ScopePEN}); !errors.Is(err, ErrRange) {
		t.Errorf("PEN 0: %v", err)
	}
	for name, bad := range map[string]string{
		"PEN 0": "82 41 01 00", "tag 33": "82 41 01 d8 21 60", "one elem": "81 41 01", "scope bytes": "82 41 01 41 00",
	} {
		e := Extensions{{KeyExternalMessageID, x(bad)}}
		if _, ok, err := e.ExternalMessageID(); !ok || err == nil || !strings.HasPrefix(err.Error(), "mimiExtensions[4]") {
			t.Errorf("%s: ok=%v err=%v", name, ok, err)
		}
	}
}

func TestSubject(t *testing.T) {
	var e Extensions
	if err := e.SetSubject("This space intentionally left blank"); err != nil {
		t.Fatal(err)
	}
	if s, ok, err := e.Subject(); s != "This space intentionally left blank" || !ok || err != nil {
		t.Errorf("Subject = %q %v %v", s, ok, err)
	}
	for _, bad := range []string{"", strings.Repeat("x", 4097), "\xff"} {
		if err := e.SetSubject(bad); err == nil {
			t.Errorf("SetSubject(%.10q) accepted", bad)
		}
	}
	if err := e.SetSubject(strings.Repeat("x", 4096)); err != nil {
		t.Errorf("4096-byte subject: %v", err)
	}
	e = Extensions{{KeySubject, x("60")}}
	if _, ok, err := e.Subject(); !ok || !errors.Is(err, ErrSize) {
		t.Errorf("empty subject: %v", err)
	}
}

func TestLastSeen(t *testing.T) {
	ids := LastSeen{IDs: []MessageID{{0x01, 1}, {0x01, 2}}}
	var e Extensions
	if err := e.SetLastSeen(ids); err != nil {
		t.Fatal(err)
	}
	got, ok, err := e.LastSeen()
	if err != nil || !ok || len(got.IDs) != 2 || got.IDs[1] != ids.IDs[1] || got.External != nil {
		t.Errorf("LastSeen = %+v %v %v", got, ok, err)
	}
	ext := LastSeen{External: []ExtMessageID{{ID: []byte{9}, Kind: ScopePEN, PEN: 5}}}
	if err := e.SetLastSeen(ext); err != nil {
		t.Fatal(err)
	}
	if got, _, err := e.LastSeen(); err != nil || len(got.External) != 1 || got.External[0].PEN != 5 {
		t.Errorf("external lastSeen = %+v %v", got, err)
	}
	if err := e.SetLastSeen(LastSeen{IDs: ids.IDs, External: ext.External}); !errors.Is(err, ErrType) {
		t.Errorf("mixed lastSeen: %v", err)
	}
	if err := e.SetLastSeen(LastSeen{}); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := e.LastSeen(); !ok || err != nil || len(got.IDs)+len(got.External) != 0 {
		t.Errorf("empty lastSeen = %+v %v %v", got, ok, err)
	}
	mixed := Extensions{{KeyLastSeen, x("82" + hID + "82 41 01 01")}}
	if _, _, err := mixed.LastSeen(); !errors.Is(err, ErrType) || !strings.HasPrefix(err.Error(), "mimiExtensions[256][1]") {
		t.Errorf("mixed on the wire: %v", err)
	}
	// the -08 §6.3 depth example is a valid lastSeen
	ex := Extensions{{KeyLastSeen, x("82 82 42 1234 d8 20 72 687474703a2f2f6578616d706c652e636f6d 82 42 3456 19 168b")}}
	if got, _, err := ex.LastSeen(); err != nil || len(got.External) != 2 || got.External[0].Kind != ScopeURI || got.External[1].PEN != 5771 {
		t.Errorf("-08 §6.3 example: %+v %v", got, err)
	}
}

func TestEncodeValue(t *testing.T) {
	v, err := EncodeValue(map[any]any{"a": 1, 256: []any{"x", 1.5}, 1000: cbor.Tag{Number: 32, Content: "u"}, -1: true})
	if err != nil {
		t.Fatal(err)
	}
	want := x("a4 19 0100 82 61 78 f9 3e00 19 03e8 d8 20 61 75 20 f5 61 61 01")
	if string(v) != string(want) {
		t.Errorf("EncodeValue = %x\nwant         %x", v, want)
	}
	if _, err := EncodeValue([]any{[]any{[]any{[]any{1}}}}); !errors.Is(err, ErrDepth) {
		t.Errorf("too deep value: %v", err)
	}
	if _, err := EncodeValue(map[any]any{1.5: 1}); !errors.Is(err, ErrKeyType) {
		t.Errorf("float key: %v", err)
	}
}
