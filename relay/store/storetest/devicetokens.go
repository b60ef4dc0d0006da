package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"mimichat/relay/store"
)

// openDeviceTokens opens a store for a store.DeviceTokens test, or skips
// when the backend does not bind tokens to devices.
func openDeviceTokens(t *testing.T, o Opener) (store.Store, store.DeviceTokens) {
	t.Helper()
	s, err := o()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	dt, ok := s.(store.DeviceTokens)
	if !ok {
		s.Close()
		t.Skip("the backend keeps one token per user (no store.DeviceTokens)")
	}
	return s, dt
}

// testDeviceTokens (stores implementing store.DeviceTokens): a user's
// token binds to the first device and stays bound; an extra token binds to
// another device and expires while unbound; revoking a device makes its
// tokens revoked and its URI unusable (binding, KeyPackage upload), also
// after a reopen; dropping a user's tokens unbinds and forgets them.
func testDeviceTokens(t *testing.T, o Opener) {
	ctx := context.Background()
	s, dt := openDeviceTokens(t, o)
	hash := func(tok string) []byte { h := sha256.Sum256([]byte(tok)); return h[:] }
	now := time.Unix(1_800_000_000, 0)
	for _, u := range []store.User{{Name: "alice", URI: alice, Created: now}, {Name: "bob", URI: bob, Created: now}} {
		if err := s.AddUser(ctx, u, hash("user "+u.Name)); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := dt.TokenByHash(ctx, hash("user alice"), now)
	if err != nil || tok.User.URI != alice || tok.Device != "" || tok.Revoked {
		t.Fatalf("alice's token before use: %+v, %v", tok, err)
	}
	if _, err := dt.TokenByHash(ctx, hash("nobody"), now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown token: %v, want ErrNotFound", err)
	}
	if tok, err = dt.BindToken(ctx, hash("user alice"), aliceLaptop, now); err != nil || tok.Device != aliceLaptop {
		t.Fatalf("bind to the laptop: %+v, %v", tok, err)
	}
	if _, err := dt.BindToken(ctx, hash("user alice"), aliceLaptop, now); err != nil {
		t.Fatalf("binding again to the same device: %v", err)
	}
	if _, err := dt.BindToken(ctx, hash("user alice"), alicePhone, now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("bind the laptop's token to the phone: %v, want ErrConflict", err)
	}
	// An extra token for the phone; one that expires unused.
	if err := dt.AddDeviceToken(ctx, alice, hash("phone"), now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := dt.AddDeviceToken(ctx, alice, hash("late"), now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := dt.AddDeviceToken(ctx, alice, hash("user bob"), now, now.Add(time.Hour)); !errors.Is(err, store.ErrExists) {
		t.Fatalf("extra token with a user's hash: %v, want ErrExists", err)
	}
	if err := dt.AddDeviceToken(ctx, "mimi://example.com/u/nobody", hash("x"), now, now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("extra token of an unknown user: %v, want ErrNotFound", err)
	}
	if _, err := dt.TokenByHash(ctx, hash("late"), now.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired unbound token: %v, want ErrNotFound", err)
	}
	if tok, err = dt.BindToken(ctx, hash("phone"), alicePhone, now); err != nil || tok.User.URI != alice {
		t.Fatalf("bind the extra token to the phone: %+v, %v", tok, err)
	}
	if tok, err = dt.TokenByHash(ctx, hash("phone"), now.Add(48*time.Hour)); err != nil || tok.Device != alicePhone {
		t.Fatalf("a bound extra token does not expire: %+v, %v", tok, err)
	}
	put(t, s, dev(alice, alicePhone), kps("phone", 1, 2, false))

	// Removing the phone revokes its token and its URI, for good.
	if err := dt.RevokeDevice(ctx, bob, alicePhone, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob revoking alice's phone: %v, want ErrNotFound", err)
	}
	if err := dt.RevokeDevice(ctx, alice, alicePhone, now); err != nil {
		t.Fatal(err)
	}
	if err := dt.RevokeDevice(ctx, alice, alicePhone, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking the phone twice: %v, want ErrNotFound", err)
	}
	s.Close()
	s, dt = openDeviceTokens(t, o)
	defer s.Close()
	if tok, err = dt.TokenByHash(ctx, hash("phone"), now); err != nil || !tok.Revoked || tok.Device != alicePhone {
		t.Fatalf("the removed phone's token after a reopen: %+v, %v; want revoked", tok, err)
	}
	if r, err := dt.DeviceRevoked(ctx, alicePhone); err != nil || !r {
		t.Fatalf("DeviceRevoked(phone) = %v, %v", r, err)
	}
	if r, err := dt.DeviceRevoked(ctx, aliceLaptop); err != nil || r {
		t.Fatalf("DeviceRevoked(laptop) = %v, %v", r, err)
	}
	if err := dt.AddDeviceToken(ctx, alice, hash("thief"), now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := dt.BindToken(ctx, hash("thief"), alicePhone, now); !errors.Is(err, store.ErrRevoked) {
		t.Fatalf("binding a new token to the removed phone: %v, want ErrRevoked", err)
	}
	if _, err := s.PutKeyPackages(ctx, dev(alice, alicePhone), kps("again", 1, 1, false), kpLimits, now); !errors.Is(err, store.ErrRevoked) {
		t.Fatalf("registering the removed phone again: %v, want ErrRevoked", err)
	}
	if ds, err := s.Devices(ctx, alice, now); err != nil || len(ds) != 0 {
		t.Fatalf("alice's devices after the removal: %+v, %v", ds, err)
	}
	if tok, err = dt.TokenByHash(ctx, hash("user alice"), now); err != nil || tok.Revoked || tok.Device != aliceLaptop {
		t.Fatalf("the laptop's token after the phone's removal: %+v, %v", tok, err)
	}

	// Dropping alice's tokens (rotation) unbinds her token and forgets
	// the extra ones; the phone stays removed.
	if err := dt.DropUserTokens(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if tok, err = dt.TokenByHash(ctx, hash("user alice"), now); err != nil || tok.Device != "" {
		t.Fatalf("alice's token after DropUserTokens: %+v, %v; want unbound", tok, err)
	}
	if _, err := dt.TokenByHash(ctx, hash("phone"), now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the phone's token after DropUserTokens: %v, want ErrNotFound", err)
	}
	if r, _ := dt.DeviceRevoked(ctx, alicePhone); !r {
		t.Fatal("the phone is no longer removed after DropUserTokens")
	}
	if tok, err = dt.TokenByHash(ctx, hash("user bob"), now); err != nil || tok.User.URI != bob || tok.Device != "" {
		t.Fatalf("bob's token: %+v, %v", tok, err)
	}
}

// testDeviceTokensRace (stores implementing store.DeviceTokens): writers
// racing on one token or device agree, as relay nodes sharing a store do.
// One extra token bound by eight writers to eight devices at once is bound
// to exactly one of them (the others get ErrConflict); a device removed
// while its KeyPackages are uploaded at once ends removed and unregistered
// whatever the order (the upload either comes first and is removed with the
// device, or is refused with ErrRevoked).
func testDeviceTokensRace(t *testing.T, o Opener) {
	ctx := context.Background()
	s, dt := openDeviceTokens(t, o)
	defer s.Close()
	hash := func(tok string) []byte { h := sha256.Sum256([]byte(tok)); return h[:] }
	now := time.Unix(1_800_000_000, 0)
	if err := s.AddUser(ctx, store.User{Name: "alice", URI: alice, Created: now}, hash("user alice")); err != nil {
		t.Fatal(err)
	}
	if err := dt.AddDeviceToken(ctx, alice, hash("extra"), now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = dt.BindToken(ctx, hash("extra"), fmt.Sprintf("%s/race-%d", alice, i), now)
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both bound the token", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("writer %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer bound the token")
	}
	if tok, err := dt.TokenByHash(ctx, hash("extra"), now); err != nil || tok.Device != fmt.Sprintf("%s/race-%d", alice, winner) {
		t.Fatalf("the token after the race: %+v, %v; want bound to writer %d's device", tok, err, winner)
	}

	// Removal racing registration, a few rounds (each a new device bound
	// to a new token, so that it can be removed before it registers).
	for round := range 5 {
		device := fmt.Sprintf("%s/removed-%d", alice, round)
		tokHash := hash(fmt.Sprintf("round %d", round))
		if err := dt.AddDeviceToken(ctx, alice, tokHash, now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := dt.BindToken(ctx, tokHash, device, now); err != nil {
			t.Fatal(err)
		}
		var putErr, revokeErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, putErr = s.PutKeyPackages(ctx, dev(alice, device), kps(fmt.Sprintf("r%d", round), 1, 2, false), kpLimits, now)
		}()
		go func() { defer wg.Done(); revokeErr = dt.RevokeDevice(ctx, alice, device, now) }()
		wg.Wait()
		if revokeErr != nil {
			t.Fatalf("round %d: revoke: %v", round, revokeErr)
		}
		if putErr != nil && !errors.Is(putErr, store.ErrRevoked) {
			t.Fatalf("round %d: upload: %v, want nil or ErrRevoked", round, putErr)
		}
		ds, err := s.Devices(ctx, alice, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.URI == device {
				t.Fatalf("round %d: the removed device is still registered (upload err %v)", round, putErr)
			}
		}
		if tok, err := dt.TokenByHash(ctx, tokHash, now); err != nil || !tok.Revoked {
			t.Fatalf("round %d: the device's token after the race: %+v, %v; want revoked", round, tok, err)
		}
	}
}
