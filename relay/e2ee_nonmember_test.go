package relay

import (
	"slices"
	"strings"
	"testing"

	"mimichat/proto"
)

// TestE2EENonMemberSubmit: a user who is not a member of an encrypted room
// is refused not_member whatever the content is, before any content rule, so
// the refusal says what a client reports as permanent and tells a stranger
// nothing about the room (not even that it is encrypted); a v4 stranger too.
func TestE2EENonMemberSubmit(t *testing.T) {
	e := newE2ERoom(t, "members-only", "mallory")
	for _, v := range []uint64{proto.Version, 4} {
		c := dialVersion(t, e.s.Addr(), e.toks["mallory"], v)
		for i, content := range [][]byte{[]byte("not an MLS message at all"), message(t, c.user, e.room, "plain").Content} {
			c.send(&proto.Submit{RID: uint64(i + 1), Room: e.room, ID: make([]byte, 32), Content: content})
			if ef := c.expectError(proto.CodeNotMember); ef.Field != "" {
				t.Fatalf("v%d, content %d: refusal names field %q: %+v", v, i, ef.Field, ef)
			}
		}
	}
}

// TestE2EEInviteUserWithoutDevice: a user who never connected (no device,
// nothing to add to the group) is invited by policy alone; once their first
// device exists it joins by external commit and reads what follows. A user
// who has a device must be invited with a commit adding it.
func TestE2EEInviteUserWithoutDevice(t *testing.T) {
	e := newE2ERoom(t, "later", "carol", "bob")
	carolURI := proto.UserURI("example.com", "carol")
	if _, ef := e.alice.c.op(e.room, proto.KindInvite, carolURI); ef != nil {
		t.Fatalf("invite of a user without a device: %+v", ef)
	}
	bob := e.device(t, "bob", "phone") // bob has a device now
	_, ef := e.alice.c.op(e.room, proto.KindInvite, bob.c.user)
	if ef == nil || ef.Code != proto.CodeBadField || ef.Field != "mls" || !strings.Contains(ef.Reason, "has 1 device") {
		t.Fatalf("invite of a user with a device, without a commit: %+v", ef)
	}
	carol := e.device(t, "carol", "desk")
	ok := carol.joinExternal(e.room)
	e.alice.syncTo(ok.Seq)
	_, a, _ := e.alice.send("hello carol")
	carol.syncTo(a.Seq)
	if !slices.Contains(carol.got, "hello carol") {
		t.Fatalf("carol decrypted %q", carol.got)
	}
}
