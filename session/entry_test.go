package session

import (
	"bytes"
	"testing"

	"mimichat/content"
	"mimichat/proto"
)

// TestEntryIDIsDerived: a message entry's ID comes from its sender, room and
// content, whatever ID the event claims (the relay does not check it).
func TestEntryIDIsDerived(t *testing.T) {
	const alice, mallory, room = "mimi://example.com/u/alice", "mimi://example.com/u/mallory", "mimi://example.com/r/r"
	m, err := (&content.Builder{Sender: alice, Room: room}).Text("hi")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	aliceID, err := content.ComputeID(alice, room, raw)
	if err != nil {
		t.Fatal(err)
	}
	malloryID, err := content.ComputeID(mallory, room, raw)
	if err != nil {
		t.Fatal(err)
	}
	claimed := bytes.Repeat([]byte{7}, proto.MessageIDSize)
	for _, tt := range []struct {
		name   string
		ev     proto.Event
		wantID content.MessageID
	}{
		{"honest", proto.Event{Sender: alice, Kind: proto.KindMessage, ID: aliceID[:], Content: raw}, aliceID},
		{"claims another id", proto.Event{Sender: alice, Kind: proto.KindMessage, ID: claimed, Content: raw}, aliceID},
		{"copies alice's id and bytes", proto.Event{Sender: mallory, Kind: proto.KindMessage, ID: aliceID[:], Content: raw}, malloryID},
		{"no salt", proto.Event{Sender: mallory, Kind: proto.KindMessage, ID: aliceID[:], Content: []byte{0xa0}}, content.MessageID{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.ev.Room, tt.ev.Seq = room, 1
			if got := entryFromProto(&tt.ev).ID; got != tt.wantID {
				t.Fatalf("ID %x, want %x", got, tt.wantID)
			}
		})
	}
}
