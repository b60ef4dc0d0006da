package session

import (
	"errors"
	"strings"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/proto"
)

// TestRemoveDeviceLeavesEveryGroup: alice lists her two devices (this-device
// mark, fingerprints as the groups show them, rooms) and removes her phone:
// a commit takes it out of every room's group, bob sees the device leave,
// the phone cannot decrypt what follows, and the relay forgets it.
func TestRemoveDeviceLeavesEveryGroup(t *testing.T) {
	r := startRelay(t)
	alice, bob := r.client("alice", ""), r.client("bob", "")
	ca := collect(alice)
	cb := collect(bob)
	online(t, alice)
	online(t, bob)
	rooms := []string{newRoom(t, alice, bob), newRoom(t, alice, bob)}
	phone := r.client("alice", "")
	collect(phone)
	online(t, phone)
	for _, room := range rooms {
		waitEpochs(t, room, alice, bob, phone)
	}
	ds, err := alice.UserDevices(ctx10(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("alice's devices: %+v, want 2", ds)
	}
	for _, d := range ds {
		if d.This != (d.URI == alice.Device()) {
			t.Errorf("%s: This %v", d.URI, d.This)
		}
		if d.Rooms != 2 || len(d.Fingerprint) != 19 || d.Added.IsZero() {
			t.Errorf("device %+v: want 2 rooms, a fingerprint and when it was added", d)
		}
	}
	if _, err := alice.RemoveDevice(ctx10(t), alice.Device()); !errors.Is(err, ErrThisDevice) {
		t.Fatalf("removing this device: %v, want %v", err, ErrThisDevice)
	}
	res, err := alice.RemoveDevice(ctx10(t), phone.Device())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rooms) != 2 || len(res.Skipped) != 0 {
		t.Fatalf("removal: %+v, want both rooms committed", res)
	}
	name := phone.Device()[strings.LastIndexByte(phone.Device(), '/')+1:]
	for _, room := range rooms {
		waitEpochs(t, room, alice, bob)
		if n := bob.Crypto(room).Members; n != 2 {
			t.Fatalf("bob's group of %s has %d devices after the removal, want 2", room, n)
		}
		cb.waitFor(t, "the removed device's notice", 5*time.Second, func() bool {
			for _, e := range cb.entries[room] {
				if e.Kind == proto.KindCommit && e.Sender == alice.User() && strings.HasPrefix(e.Value, "removed a device ("+name+")") {
					return true
				}
			}
			return false
		})
		after := sendText(t, bob, room, "after the phone was removed")
		waitText(t, ca, room, "after the phone was removed")
		if err := tryDecrypt(phone, room, wireOf(t, bob, after.ID)); !errors.Is(err, mls.ErrInactive) {
			t.Fatalf("the removed phone on a later message: %v, want %v", err, mls.ErrInactive)
		}
	}
	ds, err = alice.UserDevices(ctx10(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || !ds[0].This {
		t.Fatalf("alice's devices after the removal: %+v", ds)
	}
}
