package content

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Who may replace what, under the default policy and role changes carried
// as room events.
func TestTimelineAuthorization(t *testing.T) {
	cases := []struct {
		name   string
		setup  []RoomEvent
		by     string
		op     func(msg, react MessageID) *Message
		reason RefuseReason // 0 = applied
	}{
		{"owner edits own", nil, alice, func(m, _ MessageID) *Message { return tlEdit(m, "x") }, 0},
		{"member edits other's", nil, bob, func(m, _ MessageID) *Message { return tlEdit(m, "x") }, RefuseUnauthorized},
		{"moderator edits other's text", []RoomEvent{{Kind: EventRoleChange, Target: mod, Role: RoleModerator}}, mod,
			func(m, _ MessageID) *Message { return tlEdit(m, "x") }, RefuseUnauthorized},
		{"member deletes own", nil, alice, func(m, _ MessageID) *Message { return tlDelete(m) }, 0},
		{"member deletes other's", nil, bob, func(m, _ MessageID) *Message { return tlDelete(m) }, RefuseUnauthorized},
		{"moderator deletes other's", []RoomEvent{{Kind: EventRoleChange, Target: mod, Role: RoleModerator}}, mod,
			func(m, _ MessageID) *Message { return tlDelete(m) }, 0},
		{"owner deletes other's", []RoomEvent{{Kind: EventJoin, Target: mod, Role: RoleOwner}}, mod,
			func(m, _ MessageID) *Message { return tlDelete(m) }, 0},
		{"demoted moderator", []RoomEvent{{Kind: EventRoleChange, Target: mod, Role: RoleModerator},
			{Kind: EventRoleChange, Target: mod, Role: RoleMember}}, mod,
			func(m, _ MessageID) *Message { return tlDelete(m) }, RefuseUnauthorized},
		{"banned sender deletes own", []RoomEvent{{Kind: EventBan, Target: alice}}, alice,
			func(m, _ MessageID) *Message { return tlDelete(m) }, RefuseUnauthorized},
		{"left sender deletes own", []RoomEvent{{Kind: EventLeave, Target: alice}}, alice,
			func(m, _ MessageID) *Message { return tlDelete(m) }, RefuseUnauthorized},
		{"kicked sender keeps role", []RoomEvent{{Kind: EventKick, Target: alice}}, alice,
			func(m, _ MessageID) *Message { return tlDelete(m) }, 0},
		{"reactor unlikes own", nil, bob, func(m, rx MessageID) *Message { return tlUnlike(rx, m) }, 0},
		{"member unlikes other's", nil, carol, func(m, rx MessageID) *Message { return tlUnlike(rx, m) }, RefuseUnauthorized},
		{"moderator removes other's reaction", []RoomEvent{{Kind: EventRoleChange, Target: mod, Role: RoleModerator}}, mod,
			func(m, rx MessageID) *Message { return tlUnlike(rx, m) }, 0},
		{"reactor changes own", nil, bob, func(m, rx MessageID) *Message { return tlChangeReaction(rx, m, "❤") }, 0},
		{"moderator changes other's reaction", []RoomEvent{{Kind: EventRoleChange, Target: mod, Role: RoleModerator}}, mod,
			func(m, rx MessageID) *Message { return tlChangeReaction(rx, m, "❤") }, RefuseUnauthorized},
		{"edit changes inReplyTo", nil, alice, func(m, rx MessageID) *Message {
			e := tlEdit(m, "x")
			e.InReplyTo = &rx
			return e
		}, RefuseChangesFields},
		{"edit adds expiry", nil, alice, func(m, _ MessageID) *Message {
			e := tlEdit(m, "x")
			e.Expires = &Expiration{Time: 5}
			return e
		}, RefuseChangesFields},
		{"edit of a reaction as text", nil, bob, func(_, rx MessageID) *Message { return tlEdit(rx, "text") }, RefuseKindMismatch},
		{"delete of a reaction", nil, bob, func(_, rx MessageID) *Message { return tlDelete(rx) }, RefuseKindMismatch},
		{"unlike of a message", nil, alice, func(m, _ MessageID) *Message { return tlUnlike(m, m) }, RefuseKindMismatch},
		{"reaction change on a message", nil, alice, func(m, _ MessageID) *Message { return tlChangeReaction(m, m, "❤") }, RefuseKindMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newTLRoom(t, TimelineOptions{})
			msg := r.send(alice, tlText("hello"))
			react := r.send(bob, tlReact(msg, "👍"))
			for _, ev := range c.setup {
				r.event(ev)
			}
			if c.reason == 0 {
				r.send(c.by, c.op(msg, react))
				return
			}
			r.refused(c.by, c.op(msg, react), c.reason)
			refs := r.tl.Refused()
			if len(refs) != 1 || refs[0].Reason != c.reason || refs[0].Sender != c.by || refs[0].Detail == "" {
				t.Fatalf("Refused() = %+v", refs)
			}
		})
	}
}

// A custom policy: members may not edit at all; moderators may edit topics.
func TestTimelineCustomPolicy(t *testing.T) {
	pol := RoomPolicy{Roles: map[MemberRole]Capabilities{
		RoleMember:    Capabilities(CanDeleteOwnMessage),
		RoleModerator: Capabilities(CanDeleteOwnMessage | CanEditOwnMessage),
	}, DefaultRole: RoleMember}
	r := newTLRoom(t, TimelineOptions{Policy: pol, InitialRoles: map[string]MemberRole{carol: RoleModerator}})
	a := r.send(alice, tlText("a"))
	c := r.send(carol, tlText("c"))
	r.refused(alice, tlEdit(a, "a2"), RefuseUnauthorized)
	r.send(carol, tlEdit(c, "c2"))
	mv := tlEdit(c, "c3")
	mv.TopicID = []byte("t")
	r.refused(carol, mv, RefuseChangesFields) // no canEditOwnTopic in this policy
	if it := r.tl.At(1); string(it.Body.Content) != "c2" {
		t.Fatalf("body = %q", it.Body.Content)
	}
}

func TestTimelineSuspiciousInput(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	first := r.send(alice, tlText("hello"))
	edit := r.send(alice, tlEdit(first, "hello 2"))

	// Replaces must name the first version.
	r.refused(alice, tlEdit(edit, "hello 3"), RefuseNotFirstVersion)

	// The same envelope twice: duplicate ID.
	e := r.env(bob, tlText("twice"))
	if _, err := r.tl.Apply(e); err != nil {
		t.Fatal(err)
	}
	e.Seq = r.seq + 1
	if out, err := r.tl.Apply(e); out != Refused || !isReason(err, RefuseDuplicateID) {
		t.Fatalf("duplicate: %d %v", out, err)
	}
	// Zero ID and an unknown hash algorithm octet.
	e = r.env(bob, tlText("x"))
	e.ID = MessageID{}
	if _, err := r.tl.Apply(e); !isReason(err, RefuseBadID) {
		t.Fatalf("zero ID: %v", err)
	}
	e.ID[0] = 0x07
	if _, err := r.tl.Apply(e); !isReason(err, RefuseBadID) {
		t.Fatalf("bad hash octet: %v", err)
	}
	// senderUri extension that is not the authenticated sender.
	m := tlText("I am alice")
	m.Extensions = Extensions{{Key: KeySenderURI, Value: append([]byte{0x78, byte(len(alice))}, alice...)}}
	r.refused(bob, m, RefuseSenderMismatch)
	m = tlText("I am bob")
	m.Extensions = Extensions{{Key: KeySenderURI, Value: append([]byte{0x78, byte(len(bob))}, bob...)}}
	r.send(bob, m)
	// With RoomURI set, IDs are recomputed: a forged one is refused.
	rv := newTLRoom(t, TimelineOptions{RoomURI: tlRoomURI})
	good := rv.env(bob, tlText("real"))
	forged := rv.env(bob, tlText("forged"))
	forged.ID = good.ID
	if _, err := rv.tl.Apply(forged); !isReason(err, RefuseBadID) {
		t.Fatalf("forged ID: %v", err)
	}
	if out, err := rv.tl.Apply(good); out != Applied || err != nil {
		t.Fatalf("verified ID: %d %v", out, err)
	}

	// No decoded message: Apply decodes Raw, and refuses bytes that do not decode.
	r2 := newTLRoom(t, TimelineOptions{})
	e2 := r2.env(bob, tlText("raw only"))
	e2.Msg = nil
	if out, err := r2.tl.Apply(e2); err != nil || out != Applied || string(r2.tl.At(0).Body.Content) != "raw only" {
		t.Fatalf("decode on apply: %d %v", out, err)
	}
	e2 = r2.env(bob, tlText("x"))
	e2.Msg, e2.Raw = nil, []byte{0x87, 0x00}
	if _, err := r2.tl.Apply(e2); !isReason(err, RefuseUndecodable) {
		t.Fatalf("garbage: %v", err)
	}
	// Reactions to a status report or to a reaction are kind mismatches.
	rep := r.send(carol, tlReceipt(t, StatusEntry{ID: first, Status: StatusRead}))
	r.refused(bob, tlReact(rep, "👍"), RefuseKindMismatch)
	rx := r.send(bob, tlReact(first, "👍"))
	r.refused(carol, tlReact(rx, "😂"), RefuseKindMismatch)
	// A replacement ordered before its original (a relay reordering).
	late := r.envAt(1, alice, tlDelete(first))
	if _, err := r.tl.Apply(late); !isReason(err, RefuseBeforeOriginal) {
		t.Fatalf("delete before original: %v", err)
	}

	// A malformed status report.
	bad := &Message{Body: NestedPart{Cardinality: Single, ContentType: StatusMediaType, Content: []byte{0x01}}}
	r.refused(bob, bad, RefuseBadReport)
	// Malformed room events.
	if err := r.tl.ApplyEvent(RoomEvent{Seq: 99, Kind: 0}); !isReason(err, RefuseBadEvent) {
		t.Fatalf("bad event kind: %v", err)
	}
	if err := r.tl.ApplyEvent(RoomEvent{Seq: 99, Kind: EventBan}); !isReason(err, RefuseBadEvent) {
		t.Fatalf("ban without target: %v", err)
	}
}

func isReason(err error, reason RefuseReason) bool {
	var re *RefusalError
	return errors.As(err, &re) && re.Refusal.Reason == reason
}

func TestTimelineRoomEventsAreRows(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	r.event(RoomEvent{Kind: EventJoin, Actor: alice, Target: alice})
	r.send(alice, tlText("hi"))
	r.event(RoomEvent{Kind: EventRoomName, Actor: alice, Text: "Lunch"})
	r.event(RoomEvent{Kind: EventRoleChange, Actor: alice, Target: bob, Role: RoleModerator})
	if r.tl.Len() != 4 {
		t.Fatalf("Len = %d", r.tl.Len())
	}
	kinds := []ItemKind{ItemEvent, ItemMessage, ItemEvent, ItemEvent}
	for i, k := range kinds {
		if it := r.tl.At(i); it.Kind != k {
			t.Fatalf("row %d kind %d, want %d", i, it.Kind, k)
		}
	}
	if ev := r.tl.At(2).Event; ev.Kind != EventRoomName || ev.Text != "Lunch" || ev.Kind.String() != "name" {
		t.Fatalf("event = %+v", ev)
	}
	// A late event (lower seq) is inserted in hub order.
	if err := r.tl.ApplyEvent(RoomEvent{Seq: 0, Kind: EventInvite, Actor: alice, Target: carol}); err != nil {
		t.Fatal(err)
	}
	if it := r.tl.At(0); it.Event.Kind != EventInvite {
		t.Fatalf("late event at %+v", it)
	}
}

// The refusal list keeps the most recent MaxRefusals, oldest first.
func TestTimelineRefusalRing(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{MaxRefusals: 3})
	first := r.send(alice, tlText("a"))
	for range 5 {
		r.refused(bob, tlEdit(first, "x"), RefuseUnauthorized)
	}
	refs := r.tl.Refused()
	if len(refs) != 3 || refs[0].Seq != 4 || refs[1].Seq != 5 || refs[2].Seq != 6 {
		t.Fatalf("refused = %+v", refs)
	}
	var total int
	r.tl.Read(func(v View) { total = v.RefusedTotal() })
	if total != 5 {
		t.Fatalf("total = %d", total)
	}
}

// Every relayed kind has a distinct name that parses back to it; 0 and the
// values past the local kinds are not kinds (the local kinds, right after
// LastEventKind, are TestLocalEventKinds').
func TestEventKindNames(t *testing.T) {
	seen := map[string]RoomEventKind{}
	for k := EventJoin; k <= LastEventKind; k++ {
		name := k.String()
		if name == "" || strings.HasPrefix(name, "event(") {
			t.Errorf("kind %d has no name", k)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("kinds %d and %d are both %q", prev, k, name)
		}
		seen[name] = k
		if back, ok := ParseRoomEventKind(name); !ok || back != k {
			t.Errorf("ParseRoomEventKind(%q) = %d, %v; want %d", name, back, ok, k)
		}
	}
	for _, k := range []RoomEventKind{0, EventSecurityNotice + 1, 255} {
		if k.Valid() {
			t.Errorf("kind %d is valid", k)
		}
		if got := k.String(); got != fmt.Sprintf("event(%d)", k) {
			t.Errorf("kind %d is named %q", k, got)
		}
	}
	if _, ok := ParseRoomEventKind("message"); ok {
		t.Error(`"message" parses as a room event kind`)
	}
}

// TestLocalEventKinds: the client's own notices are shown in hub order, change
// nobody's role, have names of their own, and are not relay kinds (no
// document can name them).
func TestLocalEventKinds(t *testing.T) {
	tl := NewTimeline(TimelineOptions{})
	const bob = "mimi://example.com/u/bob"
	for i, ev := range []RoomEvent{
		{Seq: 1, Kind: EventJoin, Actor: bob, Target: bob},
		{Seq: 2, Kind: EventUndecryptable, Actor: bob, Text: "sent before this device's keys of the room begin"},
		{Seq: 3, Kind: EventSecurityNotice, Actor: bob, Text: "bob added a device: laptop"},
	} {
		if err := tl.ApplyEvent(ev); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	if tl.Len() != 3 {
		t.Fatalf("%d items, want 3", tl.Len())
	}
	for i, want := range []RoomEventKind{EventJoin, EventUndecryptable, EventSecurityNotice} {
		if it := tl.At(i); it.Kind != ItemEvent || it.Event.Kind != want {
			t.Errorf("item %d: %v, want event %s", i, it.Kind, want)
		}
	}
	for _, k := range []RoomEventKind{EventUndecryptable, EventSecurityNotice} {
		if k.Valid() || !k.Local() {
			t.Errorf("%s: Valid %v Local %v", k, k.Valid(), k.Local())
		}
		if _, ok := ParseRoomEventKind(k.String()); ok {
			t.Errorf("ParseRoomEventKind(%q) names a local kind", k)
		}
	}
	if EventUndecryptable.String() != "undecryptable" || EventSecurityNotice.String() != "security" {
		t.Errorf("names %q %q", EventUndecryptable, EventSecurityNotice)
	}
	if EventJoin.Local() || RoomEventKind(0).Local() || (EventSecurityNotice + 1).Local() {
		t.Error("Local() holds outside the local kinds")
	}
}
