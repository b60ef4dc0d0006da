package proto

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

var testID = append([]byte{1}, bytes.Repeat([]byte{7}, 31)...)

const room = "mimi://example.com/r/lobby"

func TestRoundTrip(t *testing.T) {
	frames := []Frame{
		&Hello{V: Version, Token: "tok", Client: "test"},
		&Welcome{V: Version, User: "mimi://example.com/u/alice", Domain: "example.com", MaxFrame: 10, MaxContent: 5, RatePerSec: 50},
		&CreateRoom{RID: 1, Room: "lobby", Name: "Lobby", History: HistoryJoined, Join: JoinOpen},
		&RoomOp{RID: 2, Room: room, Op: KindRole, Target: "mimi://example.com/u/bob", Role: RoleModerator},
		&RoomOp{RID: 3, Room: room, Op: KindJoin},
		&OK{RID: 2, Room: room, Seq: 9, TS: 1700000000000},
		&Submit{RID: 4, Room: room, ID: testID, Content: []byte{0x87, 0x50}},
		&Ack{RID: 4, Room: room, ID: testID, Seq: 10, TS: 1700000000001, Dup: true},
		&Event{Room: room, Seq: 10, TS: 5, Sender: "mimi://example.com/u/alice", Kind: KindMessage, ID: testID, Content: []byte{1}},
		&Subscribe{RID: 5, Room: room, Since: 3},
		&Subscribed{RID: 5, Room: room, LastSeq: 10, FirstSeq: 1},
		&Unsubscribe{RID: 6, Room: room},
		&History{RID: 7, Room: room, Before: 10, Limit: 50},
		&HistoryPage{RID: 7, Room: room, Events: []Event{{Room: room, Seq: 1, Kind: KindCreate, Sender: "mimi://example.com/u/alice"}}, More: true},
		&Signal{Room: room, Kind: SignalTyping, Value: "start", From: "mimi://example.com/u/alice"},
		&Rooms{RID: 8},
		&RoomList{RID: 8, Rooms: []RoomSummary{{Room: room, Role: RoleOwner, State: StateJoined, Head: 3}}},
		&RoomInfo{RID: 9, Room: room},
		&RoomState{RID: 9, Room: room, History: HistoryShared, Join: JoinInvite, Members: []Member{{User: "mimi://example.com/u/alice", Role: RoleOwner, State: StateJoined}}},
		&RoomOp{RID: 10, Room: room, Op: KindReceipts, Value: ReceiptsOff},
		&RoomList{RID: 11, Rooms: []RoomSummary{{Room: room, Role: RoleMember, State: StateInvited, Head: 3, Receipts: ReceiptsOff}}},
		&RoomState{RID: 12, Room: room, History: HistoryShared, Join: JoinInvite, Receipts: ReceiptsOn, Members: []Member{}},
		&RoomOp{RID: 13, Room: room, Op: KindExpiry, Value: "86400"},
		&RoomState{RID: 14, Room: room, History: HistoryShared, Join: JoinInvite, Members: []Member{}, Expiry: 86400},
		&RoomList{RID: 15, Rooms: []RoomSummary{{Room: room, Role: RoleOwner, State: StateJoined, Head: 3, Expiry: 3600}}},
		&Notice{Room: room, Seq: 4, Kind: KindInvite, From: "mimi://example.com/u/alice", State: StateInvited, Role: RoleMember},
		&ErrorFrame{RID: 4, Code: CodeForbidden, Reason: "members cannot kick"},
	}
	for _, f := range frames {
		t.Run(string(f.FrameType()), func(t *testing.T) {
			b, err := Encode(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, f) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got, f)
			}
			again, _ := Encode(got)
			if !bytes.Equal(again, b) {
				t.Fatal("re-encoding differs: encoding is not deterministic")
			}
		})
	}
}

func mustCBOR(t *testing.T, v any) []byte {
	t.Helper()
	b, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeErrors(t *testing.T) {
	type m = map[string]any
	tests := []struct {
		name  string
		in    []byte
		code  Code
		field string
	}{
		{"empty", nil, CodeMalformed, ""},
		{"not cbor", []byte{0xff, 0x00}, CodeMalformed, ""},
		{"array", mustCBOR(t, []int{1, 2}), CodeMalformed, ""},
		{"trailing bytes", append(mustCBOR(t, m{"t": "rooms"}), 0x00), CodeMalformed, ""},
		{"no type", mustCBOR(t, m{"rid": 1}), CodeBadField, "t"},
		{"unknown type", mustCBOR(t, m{"t": "launch"}), CodeUnknownType, "t"},
		{"unknown key", mustCBOR(t, m{"t": "rooms", "rid": 1, "x": 2}), CodeBadField, ""},
		{"wrong type", mustCBOR(t, m{"t": "rooms", "rid": "one"}), CodeBadField, "rid"},
		{"case mismatch", mustCBOR(t, m{"t": "rooms", "RID": 1}), CodeBadField, ""},
		{"tag", []byte{0xa1, 0x61, 't', 0xc1, 0x01}, CodeMalformed, ""},
		{"hello no version", mustCBOR(t, m{"t": "hello", "token": "x"}), CodeBadField, "v"},
		{"submit short id", mustCBOR(t, m{"t": "submit", "room": room, "id": []byte{1}, "content": []byte{1}}), CodeBadField, "id"},
		{"submit no content", mustCBOR(t, m{"t": "submit", "room": room, "id": testID}), CodeBadField, "content"},
		{"submit no room", mustCBOR(t, m{"t": "submit", "id": testID, "content": []byte{1}}), CodeBadField, "room"},
		{"room not uri", mustCBOR(t, m{"t": "subscribe", "room": "lobby"}), CodeBadField, "room"},
		{"bad op", mustCBOR(t, m{"t": "room_op", "room": room, "op": "explode"}), CodeBadField, "op"},
		{"kick no target", mustCBOR(t, m{"t": "room_op", "room": room, "op": "kick"}), CodeBadField, "target"},
		{"bad role", mustCBOR(t, m{"t": "room_op", "room": room, "op": "role", "target": room, "role": "god"}), CodeBadField, "role"},
		{"bad history", mustCBOR(t, m{"t": "create_room", "history": "forever"}), CodeBadField, "history"},
		{"bad slug", mustCBOR(t, m{"t": "create_room", "room": "Big Room"}), CodeBadField, "room"},
		{"big limit", mustCBOR(t, m{"t": "history", "room": room, "limit": 501}), CodeBadField, "limit"},
		{"bad signal", mustCBOR(t, m{"t": "signal", "room": room, "kind": "typing", "value": "maybe"}), CodeBadField, "value"},
		{"bad receipts", mustCBOR(t, m{"t": "room_op", "room": room, "op": "receipts", "value": "maybe"}), CodeBadField, "value"},
		{"receipts no value", mustCBOR(t, m{"t": "room_op", "room": room, "op": "receipts"}), CodeBadField, "value"},
		{"notice bad kind", mustCBOR(t, m{"t": "notice", "room": room, "seq": 1, "kind": "message", "from": room, "state": "joined"}), CodeBadField, "kind"},
		{"notice no seq", mustCBOR(t, m{"t": "notice", "room": room, "kind": "kick", "from": room, "state": "none"}), CodeBadField, "seq"},
		{"notice bad state", mustCBOR(t, m{"t": "notice", "room": room, "seq": 2, "kind": "kick", "from": room, "state": "gone"}), CodeBadField, "state"},
		{"invalid utf8", []byte{0xa1, 0x61, 't', 0x62, 0xff, 0xfe}, CodeMalformed, ""},
		// {"t": "rooms", "rid": 1, "rid": 2} and {"t": "rooms", "t": "rooms"}
		{"duplicate key", []byte{0xa3, 0x61, 't', 0x65, 'r', 'o', 'o', 'm', 's', 0x63, 'r', 'i', 'd', 0x01, 0x63, 'r', 'i', 'd', 0x02}, CodeMalformed, ""},
		{"duplicate type", []byte{0xa2, 0x61, 't', 0x65, 'r', 'o', 'o', 'm', 's', 0x61, 't', 0x65, 'r', 'o', 'o', 'm', 's'}, CodeMalformed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode(tt.in)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Decode = %v, %v; want *Error", f, err)
			}
			if pe.Code != tt.code || pe.Field != tt.field {
				t.Fatalf("got code %q field %q (%v); want %q %q", pe.Code, pe.Field, err, tt.code, tt.field)
			}
		})
	}
}

// TestExpiryValue: an expiry operation's value is whole seconds from 0 to
// MaxExpiry in plain decimal; anything else is bad_field on value.
func TestExpiryValue(t *testing.T) {
	const room = "mimi://example.com/r/lobby"
	for _, tc := range []struct {
		value string
		want  uint32
		ok    bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{"86400", 86400, true},
		{"4294967295", MaxExpiry, true},
		{"4294967296", 0, false},
		{"99999999999", 0, false},
		{"", 0, false},
		{"007", 0, false},
		{"-1", 0, false},
		{"1h", 0, false},
		{" 60", 0, false},
	} {
		got, err := ParseExpiry(tc.value)
		verr := Validate(&RoomOp{RID: 1, Room: room, Op: KindExpiry, Value: tc.value})
		if tc.ok {
			if err != nil || got != tc.want || verr != nil {
				t.Errorf("%q: %d, %v (validate %v); want %d", tc.value, got, err, verr, tc.want)
			}
			continue
		}
		var pe *Error
		if !errors.As(verr, &pe) || pe.Code != CodeBadField || pe.Field != "value" || err == nil {
			t.Errorf("%q: parse %v, validate %v; want bad_field on value", tc.value, err, verr)
		}
	}
}
