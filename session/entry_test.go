package session

import (
	"bytes"
	"fmt"
	"testing"
	"time"

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

// TestFeedGoesOnAfterRefusals: an entry the timeline refuses (a forged ID,
// content that is not a message, a malformed operation) is listed in
// Refused() and the entries after it are still applied.
func TestFeedGoesOnAfterRefusals(t *testing.T) {
	const alice, bob, room = "mimi://example.com/u/alice", "mimi://example.com/u/bob", "mimi://example.com/r/r"
	at := func(seq uint64) time.Time { return time.UnixMilli(int64(seq) * 1000) }
	msg := func(seq uint64, from, text string) Entry {
		m, err := (&content.Builder{Sender: from, Room: room}).Text(text)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		id, err := content.ComputeID(from, room, raw)
		if err != nil {
			t.Fatal(err)
		}
		return Entry{Room: room, Seq: seq, Time: at(seq), Sender: from, Kind: proto.KindMessage, ID: id, Raw: raw}
	}
	create := Entry{Room: room, Seq: 1, Time: at(1), Sender: alice, Kind: proto.KindCreate}
	forged := msg(2, bob, "forged")
	forged.ID[5] ^= 1                                                                                          // not the hash of its sender, room and bytes
	garbage := Entry{Room: room, Seq: 3, Time: at(3), Sender: bob, Kind: proto.KindMessage, Raw: []byte{0x80}} // no salt: zero ID
	badKick := Entry{Room: room, Seq: 4, Time: at(4), Sender: alice, Kind: proto.KindKick}                     // no target
	after := msg(5, alice, "after the refusals")
	for _, tc := range []struct {
		name    string
		entries []Entry
		refused []content.RefuseReason
		applied []content.MessageID // messages the timeline must hold
	}{
		{"refusals then a message", []Entry{create, forged, garbage, badKick, after},
			[]content.RefuseReason{content.RefuseBadID, content.RefuseBadID, content.RefuseBadEvent},
			[]content.MessageID{after.ID}},
		{"a refused operation first", []Entry{badKick, create, after},
			[]content.RefuseReason{content.RefuseBadEvent}, []content.MessageID{after.ID}},
		{"only a refusal", []Entry{forged}, []content.RefuseReason{content.RefuseBadID}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := content.NewTimeline(content.TimelineOptions{LocalUser: bob, RoomURI: room})
			if err := Feed(tl, tc.entries); err != nil {
				t.Fatalf("Feed: %v", err)
			}
			var got []content.RefuseReason
			for _, r := range tl.Refused() {
				got = append(got, r.Reason)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.refused) {
				t.Errorf("refused %v, want %v", got, tc.refused)
			}
			for _, id := range tc.applied {
				if _, ok := tl.Get(id); !ok {
					t.Errorf("message %s, after the refusals, is not in the timeline", id)
				}
			}
		})
	}
}
