package proto

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecodeFrame checks that Decode never panics, that every failure is a
// typed *Error, and that whatever it accepts re-encodes to a frame that
// decodes to the same encoding.
const device = "mimi://example.com/d/alice/laptop"

func FuzzDecodeFrame(f *testing.F) {
	seeds := []Frame{
		&Hello{V: Version, Token: "t"},
		&Submit{RID: 1, Room: room, ID: testID, Content: []byte{0x87}},
		&RoomOp{RID: 2, Room: room, Op: KindKick, Target: room, Reason: "spam"},
		&HistoryPage{Room: room, Events: []Event{{Room: room, Seq: 1, Kind: KindJoin}}},
		&Signal{Room: room, Kind: SignalPresence, Value: "away"},
		&Notice{Room: room, Seq: 3, Kind: KindInvite, From: room, State: StateInvited, Role: RoleMember},
		&RoomOp{RID: 3, Room: room, Op: KindReceipts, Value: ReceiptsOff},
		&RoomState{RID: 4, Room: room, History: HistoryShared, Join: JoinInvite, Receipts: ReceiptsOn, Members: []Member{}},
		&UploadKeyPackages{RID: 5, Device: device, KeyPackages: [][]byte{{0x00, 0x01, 0x00, 0x05}, {0x00, 0x01}}},
		&KeyPackagesStored{RID: 5, Device: device, Count: 20, LastResort: true},
		&ClaimKeyPackages{RID: 6, User: room, Suite: 1},
		&KeyMaterial{RID: 6, User: room, Status: ClaimPartialSuccess, Devices: []DeviceKeyMaterial{
			{Device: device, Status: DeviceSuccess, KeyPackage: []byte{0x00, 0x01}},
			{Device: device + "2", Status: DeviceExhausted}}},
		&KeyMaterial{RID: 7, User: room, Status: ClaimUserUnknown, Devices: []DeviceKeyMaterial{}},
		&Devices{RID: 8},
		&DeviceList{RID: 8, Devices: []DeviceInfo{{Device: device, Created: 1763790000000, Count: 3, LastResort: true}}},
		&RemoveDevice{RID: 9, Device: device},
		&KeyPackagesLow{Device: device, Count: 4},
		&Hello{V: Version, Token: "t", Device: device},
		&CreateRoom{RID: 10, Room: "lobby", Suite: 1, GroupInfo: []byte{0x00, 0x01, 0x00, 0x04}},
		&RoomOp{RID: 11, Room: room, Op: KindInvite, Target: room, MLS: []byte{0x00, 0x01}, Welcome: []byte{3}, GroupInfo: []byte{4}},
		&RoomOp{RID: 12, Room: room, Op: KindLeave, MLS: []byte{0x00, 0x01}, Proposals: [][]byte{{5}, {6}}},
		&RoomOp{RID: 13, Room: room, Op: KindCommit, MLS: []byte{0x00, 0x01}, GroupInfo: []byte{4}},
		&Event{Room: room, Seq: 9, Kind: KindCommit, Sender: room, MLS: []byte{1}},
		&HistoryPage{Room: room, Events: []Event{{Room: room, Seq: 2, Kind: KindLeave, MLS: []byte{1}, Proposals: [][]byte{{2}}}}},
		&RoomList{RID: 14, Rooms: []RoomSummary{{Room: room, Role: RoleOwner, State: StateJoined, Encrypted: true, Suite: 1, Epoch: 3}}},
		&RoomState{RID: 15, Room: room, History: HistoryJoined, Join: JoinOpen, Members: []Member{}, Encrypted: true, Suite: 1, Epoch: 7},
		&ErrorFrame{RID: 16, Code: CodeStaleEpoch, Field: "mls", Reason: "r", Epoch: 8},
		&Welcomes{RID: 17, Device: device},
		&WelcomeList{RID: 17, Device: device, Welcomes: []PendingWelcome{{Room: room, Seq: 4, Welcome: []byte{9}}}},
		&WelcomeList{RID: 17, Device: device, Welcomes: []PendingWelcome{{Room: room, Seq: 4, Welcome: []byte{9}, RatchetTree: []byte{1, 0}}}},
		&MLSWelcome{Room: room, Seq: 4, Device: device, Welcome: []byte{9}},
		&GetGroupInfo{RID: 18, Room: room},
		&GroupInfo{RID: 18, Room: room, Epoch: 3, GroupInfo: []byte{8}, Proposals: [][]byte{{7}}},
		&NewDeviceToken{RID: 19},
		&DeviceToken{RID: 19, Token: "mct_x", Expires: 1763790000000},
		&ErrorFrame{Code: CodeDeviceRevoked, Reason: "r", Fatal: true},
		&Welcomes{RID: 20, Device: device, Room: room, AfterRoom: room, AfterSeq: 3},
		&WelcomeList{RID: 20, Device: device, More: true, Welcomes: []PendingWelcome{{Room: room, Seq: 4, WelcomeSize: 9, TreeSize: 10}}},
		&GetWelcomePart{RID: 21, Device: device, Room: room, Seq: 4, Part: PartRatchetTree, Offset: 3},
		&WelcomePart{RID: 21, Device: device, Room: room, Seq: 4, Part: PartWelcome, Offset: 3, Size: 10, Data: []byte{1, 2}},
		&ErrorFrame{RID: 20, Code: CodeWelcomesTooLarge, Reason: "r"},
	}
	for _, s := range seeds {
		b, err := Encode(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xa1, 0x61, 't', 0x61, 'x'})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := Decode(data)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Code == "" {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		b, err := Encode(fr)
		if err != nil {
			t.Fatalf("accepted frame does not encode: %v", err)
		}
		fr2, err := Decode(b)
		if err != nil {
			t.Fatalf("re-encoded frame does not decode: %v", err)
		}
		b2, _ := Encode(fr2)
		if !bytes.Equal(b, b2) {
			t.Fatalf("encoding not stable:\n%x\n%x", b, b2)
		}
	})
}
