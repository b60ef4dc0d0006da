package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// receiptFor reports whether r is the user's status report giving status
// for id.
func receiptFor(r received, id content.MessageID, st content.Status) bool {
	if !content.IsStatusUpdate(r.msg) {
		return false
	}
	rep, err := r.msg.StatusReport()
	if err != nil {
		return false
	}
	for _, e := range rep {
		if e.ID == id && e.Status == st {
			return true
		}
	}
	return false
}

// TestReadReceiptPolicyEndToEnd: a real relay, the UI user owns the room.
// Read receipts go while the room allows them; /read-receipts off shows a
// system line, and afterwards the peer's messages get delivery receipts
// but no read receipts; /read-receipts on brings them back.
func TestReadReceiptPolicyEndToEnd(t *testing.T) {
	rl := startRelay(t)
	you := rl.session("you")
	peer := rl.session("peer")
	in := collect(peer)
	room := openRoom(t, you, "quiet", "Quiet", peer)
	tm, _, scr := startUI(t, you, 120, 40, Options{Room: room})
	scr.waitText(t, "Quiet", "peer joined")
	me := you.User()
	say := func(text string) content.MessageID {
		msg, _ := peer.Builder(room).Markdown(text)
		it, err := peer.Send(room, msg)
		if err != nil {
			t.Fatal(err)
		}
		scr.waitText(t, text)
		return it.ID
	}

	first := say("before the policy")
	in.wait(t, "a read receipt while allowed", me, func(r received) bool { return receiptFor(r, first, content.StatusRead) })

	tm.Type("/read-receipts off")
	key(tm, "enter")
	scr.waitText(t, "you turned read receipts off")

	second := say("after the policy")
	in.wait(t, "a delivery receipt", me, func(r received) bool { return receiptFor(r, second, content.StatusDelivered) })
	third := say("one more after the policy") // its delivery receipt comes after any read receipt for second
	in.wait(t, "a delivery receipt", me, func(r received) bool { return receiptFor(r, third, content.StatusDelivered) })
	scr.settle(300 * time.Millisecond)
	in.mu.Lock()
	for _, r := range in.msgs {
		if r.e.Sender == me && (receiptFor(r, second, content.StatusRead) || receiptFor(r, third, content.StatusRead)) {
			t.Error("a read receipt went to a room whose policy is off")
		}
	}
	in.mu.Unlock()

	tm.Type("/read-receipts")
	key(tm, "enter")
	scr.waitText(t, "read receipts in Quiet: off")

	tm.Type("/read-receipts on")
	key(tm, "enter")
	scr.waitText(t, "you turned read receipts on")
	fourth := say("policy on again")
	in.wait(t, "a read receipt once allowed again", me, func(r received) bool { return receiptFor(r, fourth, content.StatusRead) })
}

// TestModerationCommandsEndToEnd: the owner completes @names, changes a
// role, kicks and bans with a reason and unbans; a member's attempt is
// refused with the relay's reason.
func TestModerationCommandsEndToEnd(t *testing.T) {
	rl := startRelay(t)
	you := rl.session("you")
	bob := rl.session("bob")
	carol := rl.session("carol")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	room := "mimi://" + testDomain + "/r/mods"
	other := "mimi://" + testDomain + "/r/theirs"
	if _, err := you.CreateRoom(ctx, session.CreateRoomOptions{Slug: "mods", Name: "Mods", Join: proto.JoinOpen}); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.CreateRoom(ctx, session.CreateRoomOptions{Slug: "theirs", Name: "Theirs", Join: proto.JoinOpen}); err != nil {
		t.Fatal(err)
	}
	for _, j := range []struct {
		s    *session.Session
		room string
	}{{bob, room}, {carol, room}, {you, other}} {
		if _, err := j.s.Join(ctx, j.room); err != nil {
			t.Fatal(err)
		}
	}
	tm, _, scr := startUI(t, you, 120, 40, Options{Room: room})
	scr.waitText(t, "Mods", "carol joined")
	scr.waitFor(t, "3 members", func(s string) bool { return strings.Contains(s, "Members 3") })

	// @ completion in the USER argument inserts the URI
	tm.Type("/role @bo")
	scr.waitText(t, "@bob  "+bob.User())
	key(tm, "tab") // the one completion: tab takes it
	scr.waitText(t, "/role "+bob.User())
	tm.Type("moderator")
	key(tm, "enter")
	scr.waitText(t, "you made bob moderator")
	waitRole(t, bob, room, proto.RoleModerator)

	tm.Type("/kick @carol spamming")
	key(tm, "enter")
	scr.waitText(t, "you removed carol")

	tm.Type("/ban bob flooding")
	key(tm, "enter")
	scr.waitText(t, "you banned bob")
	tm.Type("/unban " + bob.User())
	key(tm, "enter")
	scr.waitText(t, "you unbanned bob")

	tm.Type("/kick nobody")
	key(tm, "enter")
	scr.waitText(t, "no member nobody here")

	// in carol's room the user is a member: the client refuses at once, with
	// the reason, and sends nothing (defect 8)
	tm.Type("/room Theirs")
	key(tm, "enter")
	scr.waitText(t, "Theirs")
	scr.waitFor(t, "2 members", func(s string) bool { return strings.Contains(s, "Members 2") })
	tm.Type("/kick carol")
	key(tm, "enter")
	const want = "you cannot use /kick in Theirs: only moderators and owners can (you are a member)"
	scr.waitFor(t, "the client's refusal", func(s string) bool {
		var b strings.Builder // the timeline column, wrapped lines joined
		for _, l := range strings.Split(s, "\n") {
			if _, rest, ok := strings.Cut(l, "│"); ok {
				l, _, _ = strings.Cut(rest, "│")
			}
			b.WriteString(strings.TrimSpace(l) + " ")
		}
		return strings.Contains(b.String(), want)
	})
}

// waitRole waits until s sees user's role in room (the relay's word).
func waitRole(t *testing.T, s *session.Session, room string, want proto.Role) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := s.RoomInfo(ctx, room)
		cancel()
		if err == nil {
			for _, mem := range st.Members {
				if mem.User == s.User() && mem.Role == want {
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became %s in %s", s.User(), want, room)
}
