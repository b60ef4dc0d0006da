package history

import (
	"bytes"
	"testing"

	"mimichat/content"
)

// Every room event kind has a vCon event (only the read-receipt policy has
// none), and a vCon holding one event of each kind reads back as that kind
// with its actor, target, role and text.
func TestVConEventTable(t *testing.T) {
	for k := content.EventJoin; k <= content.LastEventKind; k++ {
		name := vconEventName(k)
		if (name == "") != (k == content.EventReadReceipts) {
			t.Errorf("%s: vCon event %q", k, name)
			continue
		}
		if name == "" {
			continue
		}
		r := &testRoom{t: t}
		r.event(content.EventJoin, alice, alice, content.RoleOwner, "")
		switch {
		case name == "room":
			r.event(k, alice, "", 0, "value of "+k.String())
		case k == content.EventRoleChange:
			r.event(k, alice, bob, content.RoleModerator, "")
		case k == content.EventLeave:
			r.event(k, bob, bob, 0, "")
		default:
			r.event(k, alice, bob, 0, "")
		}
		doc := exportVCon(t, r.items, t0.UnixMilli())
		h, _ := readAll(t, func(s func(*Item) error) (*History, *Report, error) { return ReadVCon(bytes.NewReader(doc), s) })
		if len(h.Items) != 2 || h.Items[1].Event == nil {
			t.Errorf("%s: read back %d items", k, len(h.Items))
			continue
		}
		got, want := *h.Items[1].Event, *r.items[1].Event
		got.Seq, want.Seq = 0, 0
		if got != want {
			t.Errorf("%s as %q: read back %+v, want %+v", k, name, got, want)
		}
	}
	if vconEventName(0) != "" || vconEventName(content.LastEventKind+1) != "" {
		t.Error("a value that is no kind has a vCon event")
	}
}

// The names a party_history event may carry: the draft's, and the kinds'
// own (mimichat_event); merged and room names are not a member's event.
func TestPartyEventKind(t *testing.T) {
	for name, want := range map[string]content.RoomEventKind{
		"add": content.EventJoin, "self_add": content.EventJoin, "join": content.EventJoin,
		"leave": content.EventLeave, "remove": content.EventKick, "kick": content.EventKick,
		"ban": content.EventBan, "invite": content.EventInvite, "unban": content.EventUnban,
		"update": 0, "room": 0, "name": 0, "topic": 0, "avatar": 0, "receipts": 0, "hold": 0, "": 0,
	} {
		got, ok := partyEventKind(name)
		if got != want || ok != (want != 0) {
			t.Errorf("partyEventKind(%q) = %s, %v; want %s", name, got, ok, want)
		}
	}
}
