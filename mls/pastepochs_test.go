package mls

import (
	"errors"
	"fmt"
	"testing"
)

// TestPastEpochMessages: a message encrypted in epoch e decrypts at a member
// already in e+1 .. e+N and fails in e+N+1 with ErrEpochExpired.
func TestPastEpochMessages(t *testing.T) {
	for _, keep := range []int{1, DefaultPastEpochs, 5} {
		for later := 1; later <= keep+1; later++ {
			t.Run(fmt.Sprintf("keep %d, %d epochs later", keep, later), func(t *testing.T) {
				gs := groupOf(t, false, "alice", "bob")
				alice, bob := gs[0], gs[1]
				bob.PastEpochs = keep
				sent := alice.Epoch()
				msg, _ := alice.Encrypt([]byte("late"), []byte("ad"))
				for i := 0; i < later; i++ {
					res, err := alice.Commit(CommitOptions{ForcePath: true})
					if err != nil {
						t.Fatal(err)
					}
					alice.MergePendingCommit()
					deliver(t, res.Commit, bob)
				}
				if n := len(bob.past); n != min(keep, later) {
					t.Fatalf("bob keeps %d past epochs", n)
				}
				r, err := bob.Process(msg)
				if later > keep {
					if !errors.Is(err, ErrEpochExpired) || !errors.Is(err, ErrWrongEpoch) {
						t.Fatalf("message %d epochs old with %d kept: %v", later, keep, err)
					}
					return
				}
				if err != nil || string(r.Data) != "late" || string(r.AuthenticatedData) != "ad" || r.Epoch != sent || r.Sender.Index != 0 {
					t.Fatalf("received %+v, %v", r, err)
				}
				if _, err := bob.Process(msg); !errors.Is(err, ErrGenerationReused) {
					t.Fatalf("replay in a past epoch: %v", err)
				}
			})
		}
	}
}

func TestPastEpochRules(t *testing.T) {
	gs := groupOf(t, false, "alice", "bob", "carol")
	alice, bob, carol := gs[0], gs[1], gs[2]
	fromCarol, _ := carol.Encrypt([]byte("bye"), nil)
	fromCarol2, _ := carol.Encrypt([]byte("bye again"), nil)
	fromBob, _ := bob.Encrypt([]byte("mine"), nil)
	prop, _ := alice.ProposeUpdate()
	// alice removes carol: carol's messages of the old epoch still verify with the old tree.
	res, err := alice.Commit(CommitOptions{Remove: []uint32{2}})
	if err != nil {
		t.Fatal(err)
	}
	alice.MergePendingCommit()
	deliver(t, res.Commit, bob)
	if len(bob.past[0].st.handshake) != 0 {
		t.Fatal("handshake ratchets of a past epoch kept")
	}
	if r, err := bob.Process(fromCarol); err != nil || string(r.Data) != "bye" {
		t.Fatalf("removed member's message of the old epoch: %v", err)
	}
	// As in the current epoch, the own sending ratchet already consumed the key.
	if _, err := bob.Process(fromBob); !errors.Is(err, ErrOwnMessage) && !errors.Is(err, ErrGenerationReused) {
		t.Fatalf("own message of a past epoch: %v", err)
	}
	if _, err := bob.Process(prop); !errors.Is(err, ErrWrongEpoch) || errors.Is(err, ErrEpochExpired) {
		t.Fatalf("proposal of a past epoch: %v", err)
	}
	// Saved and loaded, the past epoch still decrypts.
	saved, err := bob.Save()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadGroup(saved)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.PastEpochs != DefaultPastEpochs || len(loaded.past) != 1 {
		t.Fatalf("loaded keeps %d, has %d", loaded.PastEpochs, len(loaded.past))
	}
	if r, err := loaded.Process(fromCarol2); err != nil || string(r.Data) != "bye again" {
		t.Fatalf("after load: %v", err)
	}
	if _, err := loaded.Process(fromCarol); !errors.Is(err, ErrGenerationReused) {
		t.Fatalf("a key consumed before saving: %v", err)
	}
	// PastEpochs 0 survives save and load.
	bob.PastEpochs = 0
	saved, _ = bob.Save()
	if loaded, _ = LoadGroup(saved); loaded.PastEpochs != 0 {
		t.Fatalf("PastEpochs 0 loaded as %d", loaded.PastEpochs)
	}
}

// TestLateMessageThroughHub: the hub orders a commit before an application
// message sent concurrently in the old epoch; it accepts the message and every
// member decrypts it after merging the commit.
func TestLateMessageThroughHub(t *testing.T) {
	gs := groupOf(t, true, "alice", "bob", "carol")
	alice, bob, carol := gs[0], gs[1], gs[2]
	gi, _ := alice.GroupInfo(true)
	hub, err := NewHubGroup(gi, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := bob.Commit(CommitOptions{ForcePath: true})
	late, _ := alice.Encrypt([]byte("sent before the commit arrived"), nil)
	if _, err := hub.Process(res.Commit); err != nil {
		t.Fatal(err)
	}
	if m, err := hub.Process(late); err != nil || m.Epoch != hub.Epoch()-1 {
		t.Fatalf("hub refused the late message: %v", err)
	}
	bob.MergePendingCommit()
	deliver(t, res.Commit, alice, carol)
	for _, g := range []*Group{bob, carol} {
		if r := deliver(t, late, g)[0]; string(r.Data) != "sent before the commit arrived" {
			t.Fatalf("member %d read %q", g.LeafIndex(), r.Data)
		}
	}
}
