package cache

import (
	"testing"

	"mimichat/content"
	"mimichat/history"
)

// Every room event kind survives the trip to a cache entry and back, with
// its actor, target, role and text; a join by another member comes back as
// the self join the cache records.
func TestEntryRoundTripsEveryEventKind(t *testing.T) {
	const alice, bob, room = "mimi://example.com/u/alice", "mimi://example.com/u/bob", "mimi://example.com/r/r"
	texts := map[content.RoomEventKind]string{content.EventRoomName: "Lobby", content.EventRoomTopic: "chat",
		content.EventRoomAvatar: "https://example.com/a.png", content.EventReadReceipts: content.ReceiptsOff}
	roles := map[content.RoomEventKind]content.MemberRole{content.EventJoin: content.RoleMember,
		content.EventRoleChange: content.RoleModerator}
	for k := content.EventJoin; k <= content.LastEventKind; k++ {
		ev := content.RoomEvent{Seq: 7, HubTime: 1_700_000_000_000, Kind: k, Actor: alice, Role: roles[k], Text: texts[k]}
		switch k {
		case content.EventJoin, content.EventLeave:
			ev.Target = alice
		case content.EventRoomName, content.EventRoomTopic, content.EventRoomAvatar, content.EventReadReceipts:
		default:
			ev.Target = bob
		}
		it := history.Item{Seq: 7, Time: ev.HubTime, Sender: alice, Event: &ev}
		e := EntryFromItem(room, 7, &it)
		back, ok := ItemFromEntry(&e)
		if !ok || back.Event == nil || *back.Event != ev || back.Seq != 7 || back.Time != it.Time {
			t.Errorf("%s: entry %+v came back as %+v (%v)", k, e, back.Event, ok)
		}
	}
	ev := content.RoomEvent{Seq: 3, HubTime: 1_700_000_000_000, Kind: content.EventJoin, Actor: alice, Target: bob, Role: content.RoleMember}
	it := history.Item{Seq: 3, Time: ev.HubTime, Sender: alice, Event: &ev}
	e := EntryFromItem(room, 3, &it)
	back, ok := ItemFromEntry(&e)
	want := ev
	want.Actor = bob
	if !ok || *back.Event != want {
		t.Errorf("join by another: %+v, want %+v", back.Event, want)
	}
}
