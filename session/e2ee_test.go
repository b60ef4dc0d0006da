package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/mls"
	"mimichat/proto"
)

// The end-to-end encryption tests run real sessions against a real relay
// on loopback: every room a version 5 session creates is an MLS group.

// ctx10 is a request context for a test step.
func ctx10(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// textsOf lists the decrypted texts of a collector's messages in room, and
// the reasons of those it could not decrypt.
func textsOf(t testing.TB, c *collector, room string) (texts []string, undecryptable []string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range messages(c.entries[room]) {
		if e.Undecryptable != "" {
			undecryptable = append(undecryptable, e.Undecryptable)
			continue
		}
		texts = append(texts, textOf(t, e))
	}
	return texts, undecryptable
}

func hasText(t testing.TB, c *collector, room, text string) bool {
	texts, _ := textsOf(t, c, room)
	for _, x := range texts {
		if x == text {
			return true
		}
	}
	return false
}

func waitText(t testing.TB, c *collector, room, text string) {
	t.Helper()
	c.waitFor(t, "text "+text, 10*time.Second, func() bool {
		c.mu.Unlock()
		defer c.mu.Lock()
		return hasText(t, c, room, text)
	})
}

// waitEpochs waits until every session's group of room is at the same
// epoch with the same epoch authenticator, and returns that epoch.
func waitEpochs(t testing.TB, room string, ss ...*Session) uint64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var (
			first []byte
			epoch uint64
			same  = true
		)
		for i, s := range ss {
			auth, e, ok := s.EpochAuthenticator(room)
			if !ok {
				same = false
				break
			}
			if i == 0 {
				first, epoch = auth, e
			} else if e != epoch || !bytes.Equal(auth, first) {
				same = false
			}
		}
		if same {
			return epoch
		}
		if time.Now().After(deadline) {
			for _, s := range ss {
				_, e, ok := s.EpochAuthenticator(room)
				t.Logf("%s: epoch %d (state %v) %+v", s.User(), e, ok, s.Crypto(room))
			}
			t.Fatalf("members of %s did not converge on one epoch", room)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wireOf is the ciphertext a session submitted for one of its messages.
func wireOf(t testing.TB, s *Session, id content.MessageID) []byte {
	t.Helper()
	it, err := s.Store().OutboxItem(id)
	if err != nil {
		t.Fatal(err)
	}
	if it.Wire == nil {
		t.Fatalf("outbox item %s has no ciphertext", id)
	}
	return it.Wire
}

// tryDecrypt runs s's group of room on a ciphertext (a test-only probe; it
// does not save the group).
func tryDecrypt(s *Session, room string, wire []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rg, err := s.groupLocked(room)
	if err != nil {
		return err
	}
	if rg == nil {
		return errors.New("no group state")
	}
	_, err = rg.g.Process(wire)
	return err
}

func TestEncryptedRoomChat(t *testing.T) {
	r := startRelay(t)
	alice, bob, carol := r.client("alice", ""), r.client("bob", ""), r.client("carol", "")
	ca, cb, cc := collect(alice), collect(bob), collect(carol)
	for _, s := range []*Session{alice, bob, carol} {
		online(t, s)
	}
	room := newRoom(t, alice, bob)
	if rc := alice.Crypto(room); !rc.Encrypted || !rc.HasState || rc.Suite != uint16(DeviceSuite) {
		t.Fatalf("alice's room crypto %+v, want encrypted with suite %d", rc, DeviceSuite)
	}
	sendText(t, alice, room, "two of us")
	waitText(t, cb, room, "two of us")
	if _, err := alice.Invite(ctx10(t), room, carol.User()); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.Join(ctx10(t), room); err != nil {
		t.Fatal(err)
	}
	waitEpochs(t, room, alice, bob, carol)
	for i, s := range []*Session{alice, bob, carol, alice, bob, carol} {
		sendText(t, s, room, fmt.Sprintf("three of us %d", i))
	}
	for _, c := range []*collector{ca, cb, cc} {
		for i := range 6 {
			waitText(t, c, room, fmt.Sprintf("three of us %d", i))
		}
	}
	// Carol's backfill reaches the message from before her invitation:
	// it shows as not decryptable, with the reason; all later ones read.
	_, bad := textsOf(t, cc, room)
	if len(bad) != 1 || !strings.Contains(bad[0], "before it joined") {
		t.Errorf("carol's undecryptable messages: %q, want the one from before her invitation", bad)
	}
	// The relay's copy is ciphertext: the event's content is not the text.
	it := sendText(t, bob, room, "the relay cannot read this")
	waitText(t, ca, room, "the relay cannot read this")
	if w := wireOf(t, bob, it.ID); bytes.Contains(w, []byte("cannot read")) || !isCiphertext(room, w) {
		t.Fatal("bob's submitted bytes are not an MLS PrivateMessage of the room")
	}
	page, _, err := carol.History(ctx10(t), room, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page {
		if e.IsMessage() && e.Undecryptable == "" && textOf(t, e) == "two of us" {
			t.Fatal("carol reads a message sent before she was invited")
		}
	}
}

// TestRemovedMemberCannotDecrypt: after a kick or ban, the removed user's
// device cannot decrypt what is sent next, and the others go on.
func TestRemovedMemberCannotDecrypt(t *testing.T) {
	for _, op := range []proto.Kind{proto.KindKick, proto.KindBan} {
		t.Run(string(op), func(t *testing.T) {
			r := startRelay(t)
			alice, bob, carol := r.client("alice", ""), r.client("bob", ""), r.client("carol", "")
			_, cb, cc := collect(alice), collect(bob), collect(carol)
			for _, s := range []*Session{alice, bob, carol} {
				online(t, s)
			}
			room := newRoom(t, alice, bob, carol)
			before := sendText(t, alice, room, "before the removal")
			waitText(t, cc, room, "before the removal")
			var err error
			if op == proto.KindKick {
				_, err = alice.Kick(ctx10(t), room, carol.User(), "bye")
			} else {
				_, err = alice.Ban(ctx10(t), room, carol.User(), "bye")
			}
			if err != nil {
				t.Fatal(err)
			}
			waitEpochs(t, room, alice, bob)
			after := sendText(t, alice, room, "after the removal")
			waitText(t, cb, room, "after the removal")
			if err := tryDecrypt(carol, room, wireOf(t, alice, after.ID)); !errors.Is(err, mls.ErrInactive) {
				t.Fatalf("carol's device on a message sent after her removal: %v, want %v", err, mls.ErrInactive)
			}
			if hasText(t, cc, room, "after the removal") {
				t.Fatal("carol received the plaintext of a message sent after her removal")
			}
			// Her device followed the room up to the commit removing it.
			if rc := carol.Crypto(room); !rc.Removed {
				t.Fatalf("carol's device does not know it was removed: %+v", rc)
			}
			if err := tryDecrypt(bob, room, wireOf(t, alice, before.ID)); err == nil {
				t.Fatal("a ciphertext decrypted twice (bob's ratchet kept a used key)")
			}
		})
	}
}

// TestNewMemberCannotDecryptEarlier: a member invited later holds no keys
// of the epochs before its join.
func TestNewMemberCannotDecryptEarlier(t *testing.T) {
	r := startRelay(t)
	alice, bob, carol := r.client("alice", ""), r.client("bob", ""), r.client("carol", "")
	_, cb, cc := collect(alice), collect(bob), collect(carol)
	for _, s := range []*Session{alice, bob, carol} {
		online(t, s)
	}
	room := newRoom(t, alice, bob)
	early := sendText(t, alice, room, "before carol")
	waitText(t, cb, room, "before carol")
	if _, err := alice.Invite(ctx10(t), room, carol.User()); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.Join(ctx10(t), room); err != nil {
		t.Fatal(err)
	}
	sendText(t, bob, room, "after carol")
	waitText(t, cc, room, "after carol")
	err := tryDecrypt(carol, room, wireOf(t, alice, early.ID))
	if err == nil || !errors.Is(err, mls.ErrWrongEpoch) {
		t.Fatalf("carol decrypting a message from before her join: %v, want a wrong-epoch refusal", err)
	}
	// Her log shows it where it was, as not decryptable, with the reason.
	cc.mu.Lock()
	defer cc.mu.Unlock()
	found := false
	for _, e := range messages(cc.entries[room]) {
		if e.Sender == alice.User() && e.Time.Before(time.Now()) && len(e.Raw) == 0 {
			found = true
			if !strings.Contains(e.Undecryptable, "before it joined") || !e.ID.IsZero() {
				t.Fatalf("seq %d from before carol's join: undecryptable %q, ID %s", e.Seq, e.Undecryptable, e.ID)
			}
		}
	}
	if !found {
		t.Fatal("carol's log has no entry for the message from before her join")
	}
}

// TestSecondDeviceJoinsByExternalCommit: a user's new device joins the
// user's encrypted rooms by external commit and reads new messages.
func TestSecondDeviceJoinsByExternalCommit(t *testing.T) {
	r := startRelay(t)
	alice, bob := r.client("alice", ""), r.client("bob", "")
	ca, cb := collect(alice), collect(bob)
	online(t, alice)
	online(t, bob)
	room := newRoom(t, alice, bob)
	sendText(t, alice, room, "before the new device")
	waitText(t, cb, room, "before the new device")
	number, err := alice.SafetyNumber(room, bob.User())
	if err != nil {
		t.Fatal(err)
	}
	if back, err := bob.SafetyNumber(room, alice.User()); err != nil || back != number {
		t.Fatalf("bob's safety number %q (%v), alice's %q", back, err, number)
	}
	if _, err := alice.MarkVerified(room, bob.User()); err != nil {
		t.Fatal(err)
	}
	if v, err := alice.Verification(room, bob.User()); v != Verified || err != nil {
		t.Fatalf("bob is %v (%v) right after alice marked him", v, err)
	}
	bob2 := r.client("bob", "")
	cb2 := collect(bob2)
	online(t, bob2)
	waitEpochs(t, room, alice, bob, bob2)
	// Alice is told of bob's new device, and her verification of him no
	// longer holds: the safety number changed.
	ca.waitFor(t, "a device event for bob's new device", 5*time.Second, func() bool {
		for _, ev := range ca.devices {
			if ev.User == bob.User() && len(ev.Added) == 1 && ev.Added[0] == bob2.Device() && ev.Verification == VerificationChanged {
				return true
			}
		}
		return false
	})
	// The commit's entry carries the notice a UI shows.
	ca.waitFor(t, "the new device's notice on its commit", 5*time.Second, func() bool {
		for _, e := range ca.entries[room] {
			if e.Kind == proto.KindCommit && e.Sender == bob.User() &&
				strings.HasPrefix(e.Value, "added a device ("+bob2.Device()[strings.LastIndexByte(bob2.Device(), '/')+1:]+")") &&
				strings.Contains(e.Value, "safety number changed") {
				return true
			}
		}
		return false
	})
	if v, _ := alice.Verification(room, bob.User()); v != VerificationChanged {
		t.Fatalf("bob is %v after adding a device, want %v", v, VerificationChanged)
	}
	if n, _ := alice.SafetyNumber(room, bob.User()); n == number {
		t.Fatal("the safety number did not change with bob's new device")
	}
	if n := alice.Crypto(room).Members; n != 3 {
		t.Fatalf("the group has %d devices, want 3 (alice, bob's two)", n)
	}
	sendText(t, alice, room, "to both of bob's devices")
	waitText(t, cb, room, "to both of bob's devices")
	waitText(t, cb2, room, "to both of bob's devices")
	sendText(t, bob2, room, "from bob's new device")
	waitText(t, ca, room, "from bob's new device")
	waitText(t, cb, room, "from bob's new device")
	if hasText(t, cb2, room, "before the new device") {
		t.Fatal("the new device reads a message from before it joined")
	}
}

// TestConcurrentInvitesConverge: two members invite at the same time; the
// relay takes one commit, refuses the other stale_epoch, and the loser
// catches up and commits again: every member ends in the same epoch.
func TestConcurrentInvitesConverge(t *testing.T) {
	r := startRelay(t)
	ss := map[string]*Session{}
	cs := map[string]*collector{}
	for _, n := range []string{"alice", "bob", "carol", "dave"} {
		ss[n] = r.client(n, "")
		cs[n] = collect(ss[n])
		online(t, ss[n])
	}
	alice, bob, carol, dave := ss["alice"], ss["bob"], ss["carol"], ss["dave"]
	room := newRoom(t, alice, bob)
	if _, err := alice.SetRole(ctx10(t), room, bob.User(), proto.RoleModerator); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, p := range [][2]*Session{{alice, carol}, {bob, dave}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = p[0].Invite(ctx10(t), room, p[1].User())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("invite %d: %v", i, err)
		}
	}
	for _, s := range []*Session{carol, dave} {
		if _, err := s.Join(ctx10(t), room); err != nil {
			t.Fatalf("%s joins: %v", s.User(), err)
		}
	}
	epoch := waitEpochs(t, room, alice, bob, carol, dave)
	if epoch < 3 {
		t.Fatalf("epoch %d after two invites and bob's, want at least 3", epoch)
	}
	for i, s := range []*Session{alice, bob, carol, dave} {
		sendText(t, s, room, fmt.Sprintf("converged %d", i))
	}
	for _, c := range cs {
		for i := range 4 {
			waitText(t, c, room, fmt.Sprintf("converged %d", i))
		}
	}
}

// TestLeaveIsCommittedByAnother: a leaver's SelfRemove is committed by a
// remaining member automatically; the leaver cannot read what follows.
func TestLeaveIsCommittedByAnother(t *testing.T) {
	r := startRelay(t)
	alice, bob, carol := r.client("alice", ""), r.client("bob", ""), r.client("carol", "")
	_, cb, _ := collect(alice), collect(bob), collect(carol)
	for _, s := range []*Session{alice, bob, carol} {
		online(t, s)
	}
	room := newRoom(t, alice, bob, carol)
	e0 := waitEpochs(t, room, alice, bob, carol)
	if _, err := carol.Leave(ctx10(t), room); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for alice.Crypto(room).Members != 2 || bob.Crypto(room).Members != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("nobody committed carol's SelfRemove: alice %+v, bob %+v", alice.Crypto(room), bob.Crypto(room))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if e := waitEpochs(t, room, alice, bob); e != e0+1 {
		t.Fatalf("epoch %d after the leave's commit, want %d (one commit)", e, e0+1)
	}
	it := sendText(t, alice, room, "after carol left")
	waitText(t, cb, room, "after carol left")
	if carol.Crypto(room).HasState {
		t.Fatal("carol's device kept the group after leaving")
	}
	_ = it
}

// TestDeclineRemovesTheInviteesDevices: declining an invitation (leave
// while invited) proposes the device's removal from the Welcome's group,
// and a member commits it.
func TestDeclineRemovesTheInviteesDevices(t *testing.T) {
	r := startRelay(t)
	alice, bob := r.client("alice", ""), r.client("bob", "")
	collect(alice)
	cb := collect(bob)
	online(t, alice)
	online(t, bob)
	res, err := alice.CreateRoom(ctx10(t), CreateRoomOptions{Name: "Declined"})
	if err != nil {
		t.Fatal(err)
	}
	room := res.Room
	if _, err := alice.Invite(ctx10(t), room, bob.User()); err != nil {
		t.Fatal(err)
	}
	if n := alice.Crypto(room).Members; n != 2 {
		t.Fatalf("%d devices after the invitation, want 2", n)
	}
	cb.waitFor(t, "the invitation", 5*time.Second, func() bool {
		rm, ok := bob.Room(room)
		return ok && rm.State == proto.StateInvited
	})
	if _, err := bob.Leave(ctx10(t), room); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for alice.Crypto(room).Members != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("bob's device is still in the group after he declined: %+v", alice.Crypto(room))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if bob.Crypto(room).HasState {
		t.Fatal("bob's device kept the group after declining")
	}
}
