package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"mimichat/relay/store"
)

const (
	aliceLaptop = "mimi://example.com/d/alice/laptop"
	alicePhone  = "mimi://example.com/d/alice/phone"
	bobLaptop   = "mimi://example.com/d/bob/laptop"
)

var (
	kpNow    = time.Unix(1_800_000_000, 0)
	kpLimits = store.Limits{Devices: 4, KeyPackages: 50}
)

func dev(user, uri string) store.Device {
	return store.Device{URI: uri, User: user, Created: kpNow.Truncate(time.Millisecond)}
}

// kps makes n KeyPackages of suite for device, named prefix-0, prefix-1, …
func kps(prefix string, suite uint16, n int, lastResort bool) []store.KeyPackage {
	out := make([]store.KeyPackage, n)
	for i := range out {
		name := fmt.Sprintf("%s-%d", prefix, i)
		out[i] = store.KeyPackage{Ref: []byte("ref:" + name), Suite: suite, LastResort: lastResort,
			NotAfter: kpNow.Add(24 * time.Hour), Data: []byte("kp:" + name)}
	}
	return out
}

func put(t *testing.T, s store.Store, d store.Device, k []store.KeyPackage) store.DeviceStatus {
	t.Helper()
	st, err := s.PutKeyPackages(context.Background(), d, k, kpLimits, kpNow)
	if err != nil {
		t.Fatalf("put key packages of %s: %v", d.URI, err)
	}
	return st
}

func claim(t *testing.T, s store.Store, user string, suite uint16) []store.Claim {
	t.Helper()
	c, err := s.ClaimKeyPackages(context.Background(), user, suite, kpNow)
	if err != nil {
		t.Fatalf("claim %s: %v", user, err)
	}
	return c
}

// testKeyPackagesSingleUse: each single-use KeyPackage is handed out once,
// oldest first; then the last-resort one, again and again, and it is kept.
func testKeyPackagesSingleUse(t *testing.T, o Opener) {
	s := open(t, o)
	st := put(t, s, dev(alice, aliceLaptop), append(kps("a", 1, 3, false), kps("a-last", 1, 1, true)...))
	if st.Count != 3 || !st.LastResort || st.User != alice {
		t.Fatalf("after upload: %+v, want 3 single-use and a last-resort one", st)
	}
	// A retried upload of the same KeyPackages stores nothing twice.
	if st = put(t, s, dev(alice, aliceLaptop), kps("a", 1, 3, false)); st.Count != 3 {
		t.Fatalf("after a retried upload: count %d, want 3", st.Count)
	}
	for i := range 3 {
		c := claim(t, s, alice, 1)
		if len(c) != 1 || c[0].Status != store.Claimed || string(c[0].KeyPackage.Data) != fmt.Sprintf("kp:a-%d", i) ||
			c[0].KeyPackage.LastResort || c[0].Left != 2-i {
			t.Fatalf("claim %d: %+v, want kp:a-%d with %d left", i, c, i, 2-i)
		}
	}
	s = reopen(t, s, o)
	for i := range 2 {
		c := claim(t, s, alice, 1)
		if len(c) != 1 || c[0].Status != store.Claimed || string(c[0].KeyPackage.Data) != "kp:a-last-0" || !c[0].KeyPackage.LastResort {
			t.Fatalf("claim %d after the single-use ones: %+v, want the last-resort one", i, c)
		}
	}
	// A new last-resort KeyPackage replaces the old one.
	put(t, s, dev(alice, aliceLaptop), kps("b-last", 1, 1, true))
	if c := claim(t, s, alice, 1); string(c[0].KeyPackage.Data) != "kp:b-last-0" {
		t.Fatalf("after a new last-resort upload: got %q", c[0].KeyPackage.Data)
	}
	ds, err := s.Devices(context.Background(), alice, kpNow)
	if err != nil || len(ds) != 1 || ds[0].Count != 0 || !ds[0].LastResort || !ds[0].Created.Equal(kpNow) {
		t.Fatalf("devices: %+v, %v", ds, err)
	}
}

// testKeyPackagesOutcomes: exhausted, nothing compatible, expired
// KeyPackages never handed out, unknown user, per-user isolation.
func testKeyPackagesOutcomes(t *testing.T, o Opener) {
	s := open(t, o)
	if c := claim(t, s, alice, 1); len(c) != 0 {
		t.Fatalf("claim of a user without devices: %+v", c)
	}
	put(t, s, dev(alice, aliceLaptop), kps("laptop", 1, 1, false))
	put(t, s, dev(alice, alicePhone), kps("phone", 2, 1, false))
	expired := kps("old", 1, 1, false)
	expired[0].NotAfter = kpNow
	put(t, s, dev(bob, bobLaptop), expired)

	c := claim(t, s, alice, 1)
	if len(c) != 2 || c[0].Device != aliceLaptop || c[0].Status != store.Claimed || string(c[0].KeyPackage.Data) != "kp:laptop-0" ||
		c[1].Device != alicePhone || c[1].Status != store.NothingCompatible {
		t.Fatalf("claim of suite 1: %+v", c)
	}
	if c[0].KeyPackage.Suite != 1 || !c[0].KeyPackage.NotAfter.Equal(kpNow.Add(24*time.Hour)) || string(c[0].KeyPackage.Ref) != "ref:laptop-0" {
		t.Fatalf("claimed key package lost its fields: %+v", c[0].KeyPackage)
	}
	if c := claim(t, s, alice, 1); c[0].Status != store.Exhausted || c[1].Status != store.NothingCompatible {
		t.Fatalf("second claim: %+v, want exhausted and nothing compatible", c)
	}
	// Bob's only KeyPackage is expired: not handed out, and gone.
	if c := claim(t, s, bob, 1); len(c) != 1 || c[0].Status != store.Exhausted {
		t.Fatalf("claim of an expired key package: %+v", c)
	}
	// Alice's claims took nothing of Bob's and the reverse.
	if c := claim(t, s, alice, 2); c[1].Status != store.Claimed || string(c[1].KeyPackage.Data) != "kp:phone-0" {
		t.Fatalf("claim of suite 2: %+v", c)
	}
	if c := claim(t, s, "mimi://example.com/u/nobody", 1); len(c) != 0 {
		t.Fatalf("claim of an unknown user: %+v", c)
	}
}

// testDevices: a device belongs to one user, limits hold, removal deletes
// the KeyPackages and only the owner may remove.
func testDevices(t *testing.T, o Opener) {
	s := open(t, o)
	ctx := context.Background()
	put(t, s, dev(alice, aliceLaptop), kps("laptop", 1, 2, false))
	put(t, s, dev(alice, alicePhone), kps("phone", 1, 2, false))
	if _, err := s.PutKeyPackages(ctx, dev(bob, aliceLaptop), kps("bob", 1, 1, false), kpLimits, kpNow); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("upload to another user's device: %v, want ErrConflict", err)
	}
	if _, err := s.PutKeyPackages(ctx, dev(alice, alicePhone), kps("many", 1, kpLimits.KeyPackages-1, false), kpLimits, kpNow); !errors.Is(err, store.ErrLimit) {
		t.Fatalf("upload over the per-device limit: %v, want ErrLimit", err)
	}
	for i := 2; i < kpLimits.Devices; i++ {
		put(t, s, dev(alice, fmt.Sprintf("mimi://example.com/d/alice/d%d", i)), kps(fmt.Sprintf("d%d", i), 1, 1, false))
	}
	if _, err := s.PutKeyPackages(ctx, dev(alice, "mimi://example.com/d/alice/extra"), kps("extra", 1, 1, false), kpLimits, kpNow); !errors.Is(err, store.ErrLimit) {
		t.Fatalf("upload over the device limit: %v, want ErrLimit", err)
	}
	if err := s.RemoveDevice(ctx, bob, alicePhone); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob removing alice's device: %v, want ErrNotFound", err)
	}
	if err := s.RemoveDevice(ctx, alice, alicePhone); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if err := s.RemoveDevice(ctx, alice, alicePhone); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second remove: %v, want ErrNotFound", err)
	}
	s = reopen(t, s, o)
	ds, err := s.Devices(ctx, alice, kpNow)
	if err != nil || len(ds) != kpLimits.Devices-1 {
		t.Fatalf("devices after removal: %+v, %v", ds, err)
	}
	for _, d := range ds {
		if d.URI == alicePhone {
			t.Fatalf("removed device still listed")
		}
	}
	// A removed device's KeyPackages are gone: re-registering starts empty.
	st := put(t, s, dev(alice, alicePhone), kps("phone2", 1, 1, false))
	if st.Count != 1 {
		t.Fatalf("re-registered device has %d key packages, want 1", st.Count)
	}
	if ds, _ := s.Devices(ctx, bob, kpNow); len(ds) != 0 {
		t.Fatalf("bob sees devices: %+v", ds)
	}
}

// testConcurrentClaims: claims racing for a device's KeyPackages never get
// the same single-use one twice, and every one is handed out.
func testConcurrentClaims(t *testing.T, o Opener) {
	s := open(t, o)
	const n = 40
	put(t, s, dev(alice, aliceLaptop), append(kps("a", 1, n, false), kps("last", 1, 1, true)...))
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, n+10)
	for range n + 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.ClaimKeyPackages(context.Background(), alice, 1, kpNow)
			if err != nil {
				errs <- err
				return
			}
			if len(c) != 1 || c[0].Status != store.Claimed {
				errs <- fmt.Errorf("claim: %+v", c)
				return
			}
			mu.Lock()
			seen[string(c[0].KeyPackage.Data)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for k, times := range seen {
		if k != "kp:last-0" && times != 1 {
			t.Errorf("%s handed out %d times", k, times)
		}
	}
	if len(seen) != n+1 || seen["kp:last-0"] != 10 {
		t.Fatalf("%d distinct key packages handed out, last resort %d times; want %d and 10", len(seen), seen["kp:last-0"], n+1)
	}
}
