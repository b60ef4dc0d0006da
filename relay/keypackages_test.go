package relay

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"mimichat/mls"
	"mimichat/proto"
)

// testDevice is one MLS client of a relay user, making real KeyPackages.
type testDevice struct {
	uri string
	id  *mls.Identity
}

func newTestDevice(t testing.TB, user, name string, cs mls.CipherSuite) testDevice {
	t.Helper()
	d, err := mls.NewDeviceCredential(user, name)
	if err != nil {
		t.Fatal(err)
	}
	id, err := mls.NewDeviceIdentity(cs, d)
	if err != nil {
		t.Fatal(err)
	}
	return testDevice{uri: d.DeviceURI(), id: id}
}

// keyPackages makes n single-use KeyPackages, and a last-resort one when
// lastResort is set.
func (d testDevice) keyPackages(t *testing.T, n int, lastResort bool) [][]byte {
	t.Helper()
	var out [][]byte
	for i := 0; i < n+1; i++ {
		var opts []mls.KeyPackageOption
		if i == n {
			if !lastResort {
				break
			}
			opts = append(opts, mls.WithLastResort())
		}
		b, err := mls.NewKeyPackage(d.id, opts...)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b.KeyPackage)
	}
	return out
}

func (c *client) upload(device string, kps [][]byte) (*proto.KeyPackagesStored, *proto.ErrorFrame) {
	c.t.Helper()
	c.send(&proto.UploadKeyPackages{RID: c.nextRID(), Device: device, KeyPackages: kps})
	return answerOrError[*proto.KeyPackagesStored](c)
}

func (c *client) claim(user string, suite mls.CipherSuite) *proto.KeyMaterial {
	c.t.Helper()
	c.send(&proto.ClaimKeyPackages{RID: c.nextRID(), User: user, Suite: uint16(suite)})
	km, ef := answerOrError[*proto.KeyMaterial](c)
	if ef != nil {
		c.t.Fatalf("%s claim %s: %s: %s", c.user, user, ef.Code, ef.Reason)
	}
	return km
}

// answerOrError waits for a frame of type T or an error frame, stashing
// pushed frames.
func answerOrError[T proto.Frame](c *client) (T, *proto.ErrorFrame) {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		switch v := c.next(time.Until(deadline)).(type) {
		case T:
			return v, nil
		case *proto.ErrorFrame:
			return *new(T), v
		default:
			c.stash = append(c.stash, v)
		}
	}
}

// lows returns the key_packages_low frames received so far.
func (c *client) lows(wait time.Duration) []*proto.KeyPackagesLow {
	deadline := time.After(wait)
	for {
		select {
		case f := <-c.frames:
			c.stash = append(c.stash, f)
			continue
		case <-deadline:
		}
		break
	}
	var out []*proto.KeyPackagesLow
	for _, f := range c.stash {
		if l, ok := f.(*proto.KeyPackagesLow); ok {
			out = append(out, l)
		}
	}
	return out
}

func TestKeyPackageDirectory(t *testing.T) {
	s := startRelay(t, Config{RatePerSec: -1})
	st := s.Store()
	alice := dial(t, s.Addr(), addUser(t, st, "alice"))
	bob := dial(t, s.Addr(), addUser(t, st, "bob"))
	carol := dial(t, s.Addr(), addUser(t, st, "carol"))
	laptop := newTestDevice(t, alice.user, "laptop", mls.X25519_AES128GCM_SHA256_Ed25519)
	phone := newTestDevice(t, alice.user, "phone", mls.P256_AES128GCM_SHA256_P256)

	stored, ef := alice.upload(laptop.uri, laptop.keyPackages(t, 6, true))
	if ef != nil || stored.Count != 6 || !stored.LastResort || stored.Device != laptop.uri {
		t.Fatalf("upload: %+v %+v", stored, ef)
	}
	if stored, ef = alice.upload(phone.uri, phone.keyPackages(t, 1, false)); ef != nil || stored.Count != 1 || stored.LastResort {
		t.Fatalf("phone upload: %+v %+v", stored, ef)
	}

	// Suite 1: the laptop's KeyPackages, single use, oldest first; the
	// phone has only suite 2.
	seen := map[string]bool{}
	for i := range 6 {
		km := bob.claim(alice.user, mls.X25519_AES128GCM_SHA256_Ed25519)
		if km.Status != proto.ClaimPartialSuccess || len(km.Devices) != 2 {
			t.Fatalf("claim %d: %+v", i, km)
		}
		l, p := km.Devices[0], km.Devices[1]
		if l.Device != laptop.uri || l.Status != proto.DeviceSuccess || p.Device != phone.uri || p.Status != proto.DeviceNothingCompatible {
			t.Fatalf("claim %d devices: %+v", i, km.Devices)
		}
		info, err := mls.InspectKeyPackage(l.KeyPackage, time.Now())
		if err != nil || info.LastResort {
			t.Fatalf("claim %d: handed out %+v, %v", i, info, err)
		}
		if seen[string(info.Ref)] {
			t.Fatalf("claim %d: key package handed out twice", i)
		}
		seen[string(info.Ref)] = true
	}
	// Then the last-resort one, every time, kept.
	var lastRef []byte
	for i := range 2 {
		km := bob.claim(alice.user, mls.X25519_AES128GCM_SHA256_Ed25519)
		info, err := mls.InspectKeyPackage(km.Devices[0].KeyPackage, time.Now())
		if err != nil || !info.LastResort || (lastRef != nil && !bytes.Equal(lastRef, info.Ref)) {
			t.Fatalf("claim %d after the single-use ones: %+v, %v", i, info, err)
		}
		lastRef = info.Ref
	}
	// Suite 2: the phone's one KeyPackage, then exhausted.
	if km := carol.claim(alice.user, mls.P256_AES128GCM_SHA256_P256); km.Status != proto.ClaimPartialSuccess ||
		km.Devices[0].Status != proto.DeviceNothingCompatible || km.Devices[1].Status != proto.DeviceSuccess {
		t.Fatalf("suite 2 claim: %+v", km)
	}
	if km := carol.claim(alice.user, mls.P256_AES128GCM_SHA256_P256); km.Status != proto.ClaimNoCompatibleMaterial ||
		km.Devices[1].Status != proto.DeviceExhausted || len(km.Devices[1].KeyPackage) != 0 {
		t.Fatalf("second suite 2 claim: %+v", km)
	}
	// The claims pushed key_packages_low to alice (laptop below 5, phone at 0).
	lows := alice.lows(200 * time.Millisecond)
	var laptopLow, phoneLow bool
	for _, l := range lows {
		laptopLow = laptopLow || l.Device == laptop.uri && l.Count < keyPackagesLowWater
		phoneLow = phoneLow || l.Device == phone.uri && l.Count == 0
	}
	if !laptopLow || !phoneLow {
		t.Fatalf("key_packages_low frames: %+v", lows)
	}
	if got := bob.lows(50 * time.Millisecond); len(got) != 0 {
		t.Fatalf("the claimer got key_packages_low: %+v", got)
	}

	// Outcomes for a user without devices and an unknown user.
	if km := alice.claim(carol.user, mls.X25519_AES128GCM_SHA256_Ed25519); km.Status != proto.ClaimNoCompatibleMaterial || len(km.Devices) != 0 {
		t.Fatalf("claim of a user without devices: %+v", km)
	}
	if km := alice.claim("mimi://"+s.cfg.Domain+"/u/nobody", mls.X25519_AES128GCM_SHA256_Ed25519); km.Status != proto.ClaimUserUnknown || len(km.Devices) != 0 {
		t.Fatalf("claim of an unknown user: %+v", km)
	}

	// Devices and removal: only alice lists and removes hers.
	alice.send(&proto.Devices{RID: alice.nextRID()})
	dl := expect[*proto.DeviceList](alice)
	if len(dl.Devices) != 2 || dl.Devices[0].Device != laptop.uri || dl.Devices[0].Count != 0 || !dl.Devices[0].LastResort ||
		dl.Devices[1].Device != phone.uri || dl.Devices[0].Created == 0 {
		t.Fatalf("device list: %+v", dl.Devices)
	}
	bob.send(&proto.Devices{RID: bob.nextRID()})
	if dl := expect[*proto.DeviceList](bob); len(dl.Devices) != 0 {
		t.Fatalf("bob's device list: %+v", dl.Devices)
	}
	bob.send(&proto.RemoveDevice{RID: bob.nextRID(), Device: laptop.uri})
	bob.expectError(proto.CodeForbidden)
	rid := alice.nextRID()
	alice.send(&proto.RemoveDevice{RID: rid, Device: laptop.uri})
	if ok := expect[*proto.OK](alice); ok.RID != rid {
		t.Fatalf("remove answered rid %d, want %d", ok.RID, rid)
	}
	alice.send(&proto.RemoveDevice{RID: alice.nextRID(), Device: laptop.uri})
	alice.expectError(proto.CodeNoSuchDevice)
	// The removed device's KeyPackages (its last-resort one too) are gone.
	if km := bob.claim(alice.user, mls.X25519_AES128GCM_SHA256_Ed25519); len(km.Devices) != 1 || km.Devices[0].Device != phone.uri {
		t.Fatalf("claim after removal: %+v", km)
	}
}

func TestKeyPackageUploadRefused(t *testing.T) {
	s := startRelay(t, Config{RatePerSec: -1})
	st := s.Store()
	alice := dial(t, s.Addr(), addUser(t, st, "alice"))
	bob := dial(t, s.Addr(), addUser(t, st, "bob"))
	laptop := newTestDevice(t, alice.user, "laptop", mls.X25519_AES128GCM_SHA256_Ed25519)
	phone := newTestDevice(t, alice.user, "phone", mls.X25519_AES128GCM_SHA256_Ed25519)
	bobs := newTestDevice(t, bob.user, "laptop", mls.X25519_AES128GCM_SHA256_Ed25519)
	good := laptop.keyPackages(t, 1, false)[0]
	tampered := bytes.Clone(good)
	tampered[len(tampered)-1] ^= 1

	for _, tc := range []struct {
		name   string
		c      *client
		device string
		kps    [][]byte
		code   proto.Code
		field  string
		reason string
	}{
		{"another user's device", bob, laptop.uri, [][]byte{good}, proto.CodeForbidden, "", "not a device of"},
		{"not a device URI", alice, "mimi://" + s.cfg.Domain + "/u/alice", [][]byte{good}, proto.CodeBadField, "device", ""},
		{"garbage", alice, laptop.uri, [][]byte{good, {1, 2, 3}}, proto.CodeBadKeyPackage, "key_packages", "key package 1"},
		{"bad signature", alice, laptop.uri, [][]byte{tampered}, proto.CodeBadKeyPackage, "key_packages", "key package 0"},
		{"another device's key package", alice, phone.uri, [][]byte{good}, proto.CodeBadKeyPackage, "key_packages", "names device " + laptop.uri},
		{"another user's key package", alice, laptop.uri, bobs.keyPackages(t, 1, false), proto.CodeBadKeyPackage, "key_packages", "names device " + bobs.uri},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ef := tc.c.upload(tc.device, tc.kps)
			if ef == nil || ef.Code != tc.code || ef.Field != tc.field || !strings.Contains(ef.Reason, tc.reason) {
				t.Fatalf("got %+v, want %s on %q saying %q", ef, tc.code, tc.field, tc.reason)
			}
		})
	}
	// Nothing of the refused uploads was stored.
	if km := bob.claim(alice.user, mls.X25519_AES128GCM_SHA256_Ed25519); km.Status != proto.ClaimNoCompatibleMaterial || len(km.Devices) != 0 {
		t.Fatalf("claim after refused uploads: %+v", km)
	}
	// A version 2 connection does not know the directory frames.
	old := dialVersion(t, s.Addr(), addUser(t, st, "carol"), 2)
	old.send(&proto.ClaimKeyPackages{RID: 1, User: alice.user, Suite: 1})
	old.expectError(proto.CodeUnknownType)
}

// TestKeyPackageConcurrentClaims: claimers on separate connections never
// get the same single-use KeyPackage.
func TestKeyPackageConcurrentClaims(t *testing.T) {
	s := startRelay(t, Config{RatePerSec: -1})
	st := s.Store()
	alice := dial(t, s.Addr(), addUser(t, st, "alice"))
	laptop := newTestDevice(t, alice.user, "laptop", mls.X25519_AES128GCM_SHA256_Ed25519)
	const n = 24
	if _, ef := alice.upload(laptop.uri, laptop.keyPackages(t, n, false)); ef != nil {
		t.Fatal(ef.Reason)
	}
	var claimers []*client
	for i := range 4 {
		claimers = append(claimers, dial(t, s.Addr(), addUser(t, st, "claimer"+string(rune('a'+i)))))
	}
	seen := map[string]int{}
	exhausted := 0
	var wg sync.WaitGroup
	for _, c := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n/len(claimers) + 2 {
				c.send(&proto.ClaimKeyPackages{RID: c.nextRID(), User: alice.user, Suite: 1})
			}
		}()
	}
	wg.Wait()
	for _, c := range claimers {
		for range n/len(claimers) + 2 {
			km := expect[*proto.KeyMaterial](c)
			if km.Devices[0].Status == proto.DeviceSuccess {
				seen[string(km.Devices[0].KeyPackage)]++
			} else {
				exhausted++
			}
		}
	}
	for _, times := range seen {
		if times != 1 {
			t.Fatalf("a key package was handed out %d times", times)
		}
	}
	if len(seen) != n || exhausted != 2*len(claimers) {
		t.Fatalf("%d handed out, %d exhausted; want %d and %d", len(seen), exhausted, n, 2*len(claimers))
	}
}
