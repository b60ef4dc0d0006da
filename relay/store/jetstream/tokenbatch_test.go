package jetstream

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"mimichat/relay/store"
)

// TestTokensByHash: the batched lookup answers every kind of token as
// TokenByHash does (a user's own token, bound or not; an extra token
// unbound, expired, bound; a token whose device was removed; a replaced
// token; an unknown one), and 541 tokens cost a few requests, not one
// lookup (three to five leader requests) each.
func TestTokensByHash(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	now := time.Now()
	hash := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	user := func(name string) string { return "mimi://example.com/u/" + name }
	device := func(name, d string) string { return "mimi://example.com/d/" + name + "/" + d }
	const users = 500
	var hashes [][]byte
	for i := range users {
		name := fmt.Sprintf("u%d", i)
		hashes = append(hashes, hash("own "+name))
		if err := s.AddUser(ctx, store.User{Name: name, URI: user(name), Created: now}, hash("own "+name)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		name := fmt.Sprintf("u%d", i)
		own := hash("own " + name)
		// The first ten users get every other kind of token.
		extra, expired, bound := hash("extra "+name), hash("expired "+name), hash("bound "+name)
		for _, x := range []struct {
			h       []byte
			expires time.Time
		}{{extra, now.Add(time.Hour)}, {expired, now.Add(-time.Hour)}, {bound, now.Add(time.Hour)}} {
			if err := s.AddDeviceToken(ctx, user(name), x.h, now.Add(-2*time.Hour), x.expires); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.BindToken(ctx, bound, device(name, "phone"), now); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, extra, expired, bound, hash("unknown "+name))
		switch i {
		case 1:
			if _, err := s.BindToken(ctx, own, device(name, "laptop"), now); err != nil {
				t.Fatal(err)
			}
		case 2:
			if err := s.RevokeDevice(ctx, user(name), device(name, "phone"), now); err != nil {
				t.Fatal(err)
			}
		case 3:
			if err := s.SetTokenHash(ctx, name, hash("rotated "+name)); err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, hash("rotated "+name))
		}
	}
	before := s.nc.Stats().OutMsgs
	got, err := s.TokensByHash(ctx, hashes, now)
	if err != nil {
		t.Fatal(err)
	}
	requests := s.nc.Stats().OutMsgs - before
	if len(got) != len(hashes) {
		t.Fatalf("%d answers for %d tokens", len(got), len(hashes))
	}
	found := 0
	for i, h := range hashes {
		want, err := s.TokenByHash(ctx, h, now)
		switch {
		case err != nil && !errors.Is(err, store.ErrNotFound):
			t.Fatal(err)
		case err != nil && got[i].Found:
			t.Fatalf("token %d: found %+v, TokenByHash: %v", i, got[i].Token, err)
		case err == nil && (!got[i].Found || got[i].Token.User.URI != want.User.URI || got[i].Token.Device != want.Device ||
			got[i].Token.Revoked != want.Revoked || got[i].Token.User.Name != want.User.Name):
			t.Fatalf("token %d: %+v, want %+v", i, got[i], want)
		}
		if got[i].Found {
			found++
		}
	}
	// 500 own tokens (one replaced), 10 × (extra, bound), the rotated one: 500 - 1 + 20 + 1.
	if found != 520 {
		t.Fatalf("%d tokens found, want 520", found)
	}
	if requests > 40 {
		t.Fatalf("the lookup of %d tokens made %d requests", len(hashes), requests)
	}
	t.Logf("%d tokens looked up with %d requests", len(hashes), requests)
}
