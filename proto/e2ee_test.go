package proto

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

const (
	bob       = "mimi://example.com/u/bob"
	bobDevice = "mimi://example.com/d/bob/phone"
)

// Version 5 frames and keys survive a round trip unchanged.
func TestRoundTripE2EE(t *testing.T) {
	mls := []byte{0x00, 0x01, 0x00, 0x01, 0x42}
	frames := []Frame{
		&Hello{V: Version, Token: "tok", Device: bobDevice},
		&CreateRoom{RID: 1, Room: "lobby", Suite: 1, GroupInfo: mls},
		&RoomOp{RID: 2, Room: room, Op: KindInvite, Target: bob, MLS: mls, Welcome: mls, GroupInfo: mls},
		&RoomOp{RID: 3, Room: room, Op: KindLeave, MLS: mls, Proposals: [][]byte{mls, mls}},
		&RoomOp{RID: 4, Room: room, Op: KindCommit, MLS: mls, GroupInfo: mls},
		&RoomOp{RID: 5, Room: room, Op: KindJoin, MLS: mls, GroupInfo: mls},
		&RoomOp{RID: 6, Room: room, Op: KindKick, Target: bob, MLS: mls, GroupInfo: mls},
		&Event{Room: room, Seq: 4, TS: 5, Sender: bob, Kind: KindLeave, MLS: mls, Proposals: [][]byte{mls}},
		&Event{Room: room, Seq: 5, TS: 5, Sender: bob, Kind: KindCommit, MLS: mls},
		&RoomList{RID: 7, Rooms: []RoomSummary{{Room: room, Role: RoleOwner, State: StateJoined, Head: 3, Encrypted: true, Suite: 1, Epoch: 9}}},
		&RoomState{RID: 8, Room: room, History: HistoryShared, Join: JoinInvite, Members: []Member{}, Encrypted: true, Suite: 3, Epoch: 2},
		&ErrorFrame{RID: 9, Room: room, Code: CodeStaleEpoch, Field: "mls", Reason: "epoch 3, room at 4", Epoch: 4},
		&Welcomes{RID: 10, Device: bobDevice},
		&WelcomeList{RID: 10, Device: bobDevice, Welcomes: []PendingWelcome{{Room: room, Seq: 7, Welcome: mls}}},
		&WelcomeList{RID: 11, Device: bobDevice, Welcomes: []PendingWelcome{}},
		&WelcomeList{RID: 12, Device: bobDevice, Welcomes: []PendingWelcome{{Room: room, Seq: 8, Welcome: mls, RatchetTree: mls}}},
		&MLSWelcome{Room: room, Seq: 7, Device: bobDevice, Welcome: mls},
		&GetGroupInfo{RID: 12, Room: room},
		&GroupInfo{RID: 12, Room: room, Epoch: 4, GroupInfo: mls, Proposals: [][]byte{mls}},
		&GroupInfo{RID: 13, Room: room, Epoch: 5, GroupInfo: mls, RatchetTree: mls},
	}
	for i, f := range frames {
		t.Run(fmt.Sprintf("%s/%d", f.FrameType(), i), func(t *testing.T) {
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
				t.Fatal("re-encoding differs")
			}
		})
	}
}

// Every rule of the version 5 keys is a typed bad_field naming the key.
func TestDecodeErrorsE2EE(t *testing.T) {
	type m = map[string]any
	mls := []byte{1, 2, 3}
	big := make([]byte, MaxMLSMessage+1)
	tests := []struct {
		name  string
		in    map[string]any
		field string
	}{
		{"hello user uri as device", m{"t": "hello", "v": 5, "device": bob}, "device"},
		{"hello device not uri", m{"t": "hello", "v": 5, "device": "phone"}, "device"},
		{"create group_info without room", m{"t": "create_room", "suite": 1, "group_info": mls}, "room"},
		{"create group_info without suite", m{"t": "create_room", "room": "x", "group_info": mls}, "suite"},
		{"create suite without group_info", m{"t": "create_room", "room": "x", "suite": 1}, "suite"},
		{"create huge group_info", m{"t": "create_room", "room": "x", "suite": 1, "group_info": big}, "group_info"},
		{"commit without mls", m{"t": "room_op", "room": room, "op": "commit"}, "mls"},
		{"commit without group_info", m{"t": "room_op", "room": room, "op": "commit", "mls": mls}, "group_info"},
		{"invite group_info without mls", m{"t": "room_op", "room": room, "op": "invite", "target": bob, "group_info": mls}, "group_info"},
		{"welcome on kick", m{"t": "room_op", "room": room, "op": "kick", "target": bob, "mls": mls, "group_info": mls, "welcome": mls}, "welcome"},
		{"welcome without commit", m{"t": "room_op", "room": room, "op": "invite", "target": bob, "welcome": mls}, "welcome"},
		{"proposals on join", m{"t": "room_op", "room": room, "op": "join", "mls": mls, "group_info": mls, "proposals": [][]byte{mls}}, "proposals"},
		{"proposals without self remove", m{"t": "room_op", "room": room, "op": "leave", "proposals": [][]byte{mls}}, "proposals"},
		{"empty proposal", m{"t": "room_op", "room": room, "op": "leave", "mls": mls, "proposals": [][]byte{{}}}, "proposals"},
		{"group_info on leave", m{"t": "room_op", "room": room, "op": "leave", "mls": mls, "group_info": mls}, "group_info"},
		{"mls on topic", m{"t": "room_op", "room": room, "op": "topic", "value": "x", "mls": mls}, "mls"},
		{"group_info on role", m{"t": "room_op", "room": room, "op": "role", "target": bob, "role": "member", "group_info": mls}, "group_info"},
		{"huge mls", m{"t": "room_op", "room": room, "op": "commit", "mls": big, "group_info": mls}, "mls"},
		{"commit event without mls", m{"t": "event", "room": room, "seq": 1, "from": bob, "kind": "commit"}, "mls"},
		{"proposals in a join event", m{"t": "event", "room": room, "seq": 1, "from": bob, "kind": "join", "proposals": [][]byte{mls}}, "proposals"},
		{"welcomes user not device", m{"t": "welcomes", "rid": 1, "device": bob}, "device"},
		{"welcome_list no seq", m{"t": "welcome_list", "rid": 1, "device": bobDevice, "welcomes": []m{{"room": room, "welcome": mls}}}, "seq"},
		{"welcome_list empty welcome", m{"t": "welcome_list", "rid": 1, "device": bobDevice, "welcomes": []m{{"room": room, "seq": 1}}}, "welcome"},
		{"mls_welcome no room", m{"t": "mls_welcome", "seq": 1, "device": bobDevice, "welcome": mls}, "room"},
		{"mls_welcome no device", m{"t": "mls_welcome", "room": room, "seq": 1, "welcome": mls}, "device"},
		{"get_group_info no room", m{"t": "get_group_info", "rid": 1}, "room"},
		{"group_info empty", m{"t": "group_info", "rid": 1, "room": room, "epoch": 2}, "group_info"},
		{"group_info huge ratchet_tree", m{"t": "group_info", "rid": 1, "room": room, "group_info": mls, "ratchet_tree": big}, "ratchet_tree"},
		{"group_info empty proposal", m{"t": "group_info", "rid": 1, "room": room, "group_info": mls, "proposals": [][]byte{{}}}, "proposals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode(mustCBOR(t, tt.in))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Decode = %v, %v; want *Error", f, err)
			}
			if pe.Code != CodeBadField || pe.Field != tt.field {
				t.Fatalf("got code %q field %q (%v); want bad_field %q", pe.Code, pe.Field, err, tt.field)
			}
		})
	}
}
