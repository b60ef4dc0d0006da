package session

import (
	"testing"
	"time"

	"mimichat/content"
	"mimichat/proto"
)

// The kind table covers every timeline kind (iterating to
// content.LastEventKind) and every relay kind (proto.Kinds), and each kind
// round-trips through the two converters.
func TestKindTable(t *testing.T) {
	for k := content.EventJoin; k <= content.LastEventKind; k++ {
		op, ok := OpKind(k)
		if !ok || op == "" {
			t.Errorf("timeline kind %s has no relay kind", k)
			continue
		}
		if back, ok := EventKind(op); !ok || back != k {
			t.Errorf("%s → %s → %s, %v", k, op, back, ok)
		}
		// The timeline names its kinds as the relay does.
		if k.String() != string(op) {
			t.Errorf("timeline kind %q is relay kind %q", k, op)
		}
	}
	for _, k := range []content.RoomEventKind{0, content.LastEventKind + 1} {
		if op, ok := OpKind(k); ok {
			t.Errorf("OpKind(%d) = %q", k, op)
		}
	}
	// The relay kinds the table leaves out, on purpose (see opOfEvent).
	notEvents := map[proto.Kind]bool{proto.KindMessage: true, proto.KindCreate: true,
		proto.KindHistory: true, proto.KindJoinPolicy: true, proto.KindCommit: true, proto.KindExpiry: true}
	for _, op := range proto.Kinds {
		k, ok := EventKind(op)
		if ok == notEvents[op] {
			t.Errorf("EventKind(%q) = %s, %v", op, k, ok)
			continue
		}
		if ok {
			if back, _ := OpKind(k); back != op {
				t.Errorf("%s → %s → %s", op, k, back)
			}
		}
	}
	if k, ok := EventKind("nonsense"); ok {
		t.Errorf("EventKind(nonsense) = %s", k)
	}
}

func TestRoleTable(t *testing.T) {
	for _, r := range []proto.Role{proto.RoleMember, proto.RoleModerator, proto.RoleOwner} {
		m := MemberRole(r)
		if m == content.RoleNone || ProtoRole(m) != r {
			t.Errorf("%s → %s → %s", r, m, ProtoRole(m))
		}
	}
	if m := MemberRole(""); m != content.RoleNone {
		t.Errorf(`MemberRole("") = %s`, m)
	}
	for _, m := range []content.MemberRole{content.RoleNone, content.RoleBanned} {
		if r := ProtoRole(m); r != "" {
			t.Errorf("ProtoRole(%s) = %q", m, r)
		}
	}
}

// Every relay kind becomes the timeline event it stands for: who acted, on
// whom, and for join, leave and create the sender as the member.
func TestTimelineEventOfEveryKind(t *testing.T) {
	const alice, bob = "mimi://example.com/u/alice", "mimi://example.com/u/bob"
	at := time.UnixMilli(1_700_000_000_000).UTC()
	cases := []struct {
		entry Entry
		want  content.RoomEvent
		ok    bool
	}{
		{Entry{Kind: proto.KindMessage, Sender: alice}, content.RoomEvent{}, false},
		{Entry{Kind: proto.KindHistory, Sender: alice, Value: proto.HistoryJoined}, content.RoomEvent{}, false},
		{Entry{Kind: proto.KindExpiry, Sender: alice, Value: "86400"}, content.RoomEvent{}, false},
		{Entry{Kind: proto.KindJoinPolicy, Sender: alice, Value: proto.JoinOpen}, content.RoomEvent{}, false},
		{Entry{Kind: proto.KindCommit, Sender: alice}, content.RoomEvent{}, false}, // MLS bookkeeping, not a timeline event
		{Entry{Kind: proto.KindCreate, Sender: alice}, content.RoomEvent{Kind: content.EventJoin, Actor: alice, Target: alice, Role: content.RoleOwner}, true},
		{Entry{Kind: proto.KindJoin, Sender: bob, Role: proto.RoleMember}, content.RoomEvent{Kind: content.EventJoin, Actor: bob, Target: bob, Role: content.RoleMember}, true},
		{Entry{Kind: proto.KindLeave, Sender: bob}, content.RoomEvent{Kind: content.EventLeave, Actor: bob, Target: bob}, true},
		{Entry{Kind: proto.KindInvite, Sender: alice, Target: bob}, content.RoomEvent{Kind: content.EventInvite, Actor: alice, Target: bob}, true},
		{Entry{Kind: proto.KindKick, Sender: alice, Target: bob}, content.RoomEvent{Kind: content.EventKick, Actor: alice, Target: bob}, true},
		{Entry{Kind: proto.KindBan, Sender: alice, Target: bob}, content.RoomEvent{Kind: content.EventBan, Actor: alice, Target: bob}, true},
		{Entry{Kind: proto.KindUnban, Sender: alice, Target: bob}, content.RoomEvent{Kind: content.EventUnban, Actor: alice, Target: bob}, true},
		{Entry{Kind: proto.KindRole, Sender: alice, Target: bob, Role: proto.RoleModerator}, content.RoomEvent{Kind: content.EventRoleChange, Actor: alice, Target: bob, Role: content.RoleModerator}, true},
		{Entry{Kind: proto.KindName, Sender: alice, Value: "Lobby"}, content.RoomEvent{Kind: content.EventRoomName, Actor: alice, Text: "Lobby"}, true},
		{Entry{Kind: proto.KindTopic, Sender: alice, Value: "chat"}, content.RoomEvent{Kind: content.EventRoomTopic, Actor: alice, Text: "chat"}, true},
		{Entry{Kind: proto.KindAvatar, Sender: alice, Value: "https://example.com/a.png"}, content.RoomEvent{Kind: content.EventRoomAvatar, Actor: alice, Text: "https://example.com/a.png"}, true},
		{Entry{Kind: proto.KindReceipts, Sender: alice, Value: proto.ReceiptsOff}, content.RoomEvent{Kind: content.EventReadReceipts, Actor: alice, Text: content.ReceiptsOff}, true},
	}
	covered := map[proto.Kind]bool{}
	for _, c := range cases {
		covered[c.entry.Kind] = true
	}
	for _, k := range proto.Kinds {
		if !covered[k] {
			t.Errorf("no case for relay kind %q", k)
		}
	}
	for i, c := range cases {
		c.entry.Seq, c.entry.Time = uint64(i+1), at
		got, ok := c.entry.TimelineEvent()
		if c.ok {
			c.want.Seq, c.want.HubTime = uint64(i+1), at.UnixMilli()
		}
		if ok != c.ok || got != c.want {
			t.Errorf("%s: got %+v, %v; want %+v, %v", c.entry.Kind, got, ok, c.want, c.ok)
		}
	}
}
