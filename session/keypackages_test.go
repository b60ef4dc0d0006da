package session

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/proto"
)

// waitKeyPackages polls s's device list until its own device has at least
// count single-use KeyPackages and a last-resort one on the relay.
func waitKeyPackages(t *testing.T, s *Session, count uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last []proto.DeviceInfo
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ds, err := s.Devices(ctx)
		cancel()
		if err == nil {
			last = ds
			for _, d := range ds {
				if d.Device == s.Device() && d.Count >= count && d.LastResort {
					return
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: device %s never had %d key packages or more and a last-resort one: %+v", s.User(), s.Device(), count, last)
}

func TestDeviceAndKeyPackages(t *testing.T) {
	r := startRelay(t)
	aliceDir := t.TempDir()
	alice := r.client("alice", aliceDir)
	collect(alice)
	online(t, alice)
	bob := r.client("bob", "")
	collect(bob)
	online(t, bob)

	d, err := mls.ParseDeviceURI(alice.Device())
	if err != nil || d.UserURI() != alice.User() {
		t.Fatalf("device URI %s: %+v %v", alice.Device(), d, err)
	}
	waitKeyPackages(t, alice, KeyPackageBatch)

	// The device and its private KeyPackage bundles (written before the
	// upload) are files only the user can read.
	for _, name := range []string{DeviceFile, KeyPackagesFile} {
		fi, err := os.Stat(filepath.Join(aliceDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}

	// Bob claims: a KeyPackage of alice's device, whose private bundle
	// alice kept.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	km, err := bob.ClaimKeyPackages(ctx, alice.User())
	if err != nil {
		t.Fatal(err)
	}
	if km.Status != proto.ClaimSuccess || len(km.Devices) != 1 || km.Devices[0].Device != alice.Device() {
		t.Fatalf("claim: %+v", km)
	}
	info, err := mls.InspectKeyPackage(km.Devices[0].KeyPackage, time.Now())
	if err != nil || info.LastResort {
		t.Fatalf("claimed key package: %+v %v", info, err)
	}
	bundle, ok := alice.KeyPackageBundle(info.Ref)
	if !ok || len(bundle.InitPriv) == 0 || string(bundle.KeyPackage) != string(km.Devices[0].KeyPackage) {
		t.Fatalf("alice has no private bundle for the claimed key package")
	}

	// Claims down to 2, below the relay's low mark (5), make alice top up
	// (claims racing with the top-up may take a few of the new ones).
	for range KeyPackageBatch - 3 {
		if _, err := bob.ClaimKeyPackages(ctx, alice.User()); err != nil {
			t.Fatal(err)
		}
	}
	waitKeyPackages(t, alice, KeyPackageBatch-3)

	// A restart keeps the device (same identity, same bundles).
	device := alice.Device()
	alice.Close()
	alice = r.client("alice", aliceDir)
	collect(alice)
	if alice.Device() != device {
		t.Fatalf("device after reopen: %s, want %s", alice.Device(), device)
	}
	if _, ok := alice.KeyPackageBundle(info.Ref); !ok {
		t.Fatal("bundle lost across reopen")
	}
	online(t, alice)

	// A second device of alice; listing and removal.
	phoneDir := t.TempDir()
	phone := r.client("alice", phoneDir)
	collect(phone)
	online(t, phone)
	waitKeyPackages(t, phone, KeyPackageBatch)
	if phone.Device() == alice.Device() {
		t.Fatal("two data directories share a device")
	}
	ds, err := alice.Devices(ctx)
	if err != nil || len(ds) != 2 {
		t.Fatalf("devices: %+v %v", ds, err)
	}
	if km, err := bob.ClaimKeyPackages(ctx, alice.User()); err != nil || km.Status != proto.ClaimSuccess || len(km.Devices) != 2 {
		t.Fatalf("claim of two devices: %+v %v", km, err)
	}
	var re *RelayError
	if _, err := bob.RemoveDevice(ctx, phone.Device()); !errors.As(err, &re) || re.Code != proto.CodeForbidden {
		t.Fatalf("bob removing alice's device: %v, want forbidden", err)
	}
	phoneDevice := phone.Device()
	phone.Close()
	if _, err := alice.RemoveDevice(ctx, phoneDevice); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.RemoveDevice(ctx, phoneDevice); !errors.As(err, &re) || re.Code != proto.CodeNoSuchDevice {
		t.Fatalf("second removal: %v, want no_such_device", err)
	}
	if ds, err := alice.Devices(ctx); err != nil || len(ds) != 1 || ds[0].Device != alice.Device() {
		t.Fatalf("devices after removal: %+v %v", ds, err)
	}
	if km, err := alice.ClaimKeyPackages(ctx, "mimi://"+testDomain+"/u/nobody"); err != nil || km.Status != proto.ClaimUserUnknown {
		t.Fatalf("claim of an unknown user: %+v %v", km, err)
	}
}

func TestDeviceFile(t *testing.T) {
	r := startRelay(t)
	dir := t.TempDir()
	alice := r.client("alice", dir)
	device := alice.Device()
	alice.Close()
	// A widened device file is narrowed back to 0600 when loaded.
	if err := os.Chmod(filepath.Join(dir, DeviceFile), 0o644); err != nil {
		t.Fatal(err)
	}
	alice = r.client("alice", dir)
	alice.Close()
	if fi, err := os.Stat(filepath.Join(dir, DeviceFile)); err != nil || fi.Mode().Perm() != 0o600 || alice.Device() != device {
		t.Fatalf("reloaded device %s (want %s), file %v %v", alice.Device(), device, fi.Mode(), err)
	}
	// The store binds the directory to alice first; the device file is
	// checked too, so a copied device.json is not taken over.
	other := t.TempDir()
	b, err := os.ReadFile(filepath.Join(dir, DeviceFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, DeviceFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	uri, tok := r.user("bob")
	if _, err := Open(Options{Relay: r.url(), User: uri, Token: tok, DataDir: other}); err == nil {
		t.Fatal("bob opened a data directory holding alice's device")
	}
}
