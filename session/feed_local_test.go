package session

import (
	"testing"
	"time"

	"mimichat/content"
	"mimichat/proto"
)

// TestFeedShowsLocalNotices: a message this device could not decrypt and a
// commit the session annotated become rows where they happened, between the
// rows around them, instead of vanishing.
func TestFeedShowsLocalNotices(t *testing.T) {
	const alice, bob = "mimi://example.com/u/alice", "mimi://example.com/u/bob"
	at := time.UnixMilli(1_763_790_000_000).UTC()
	entries := []Entry{
		{Room: "r", Seq: 1, Time: at, Sender: alice, Kind: proto.KindCreate},
		{Room: "r", Seq: 2, Time: at, Sender: bob, Kind: proto.KindMessage, Undecryptable: "sent before this device's keys of the room begin"},
		{Room: "r", Seq: 3, Time: at, Sender: bob, Kind: proto.KindCommit, Value: "added a device (laptop)"},
		{Room: "r", Seq: 4, Time: at, Sender: bob, Kind: proto.KindCommit}, // a plain commit shows nothing
		{Room: "r", Seq: 5, Time: at, Sender: alice, Kind: proto.KindTopic, Value: "release day"},
	}
	tl := content.NewTimeline(content.TimelineOptions{})
	if err := Feed(tl, entries); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		seq  uint64
		kind content.RoomEventKind
		text string
	}{
		{1, content.EventJoin, ""},
		{2, content.EventUndecryptable, "sent before this device's keys of the room begin"},
		{3, content.EventSecurityNotice, "added a device (laptop)"},
		{5, content.EventRoomTopic, "release day"},
	}
	if tl.Len() != len(want) {
		t.Fatalf("%d rows, want %d", tl.Len(), len(want))
	}
	for i, w := range want {
		it := tl.At(i)
		if it.Kind != content.ItemEvent || it.Seq != w.seq || it.Event.Kind != w.kind || it.Event.Text != w.text {
			t.Errorf("row %d: seq %d %v %q; want seq %d %s %q", i, it.Seq, it.Event.Kind, it.Event.Text, w.seq, w.kind, w.text)
		}
	}
	if a := tl.At(1).Event.Actor; a != bob {
		t.Errorf("undecryptable row's actor %q, want the sender", a)
	}
}
