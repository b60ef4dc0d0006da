package jetstream

import (
	"crypto/sha256"
	"testing"
	"time"

	"mimichat/relay/store"
)

// BenchmarkTokenLookup is what authenticating one token costs (every
// hello, and every live token at each token recheck): the per-user lookup
// (UserByToken, two leader reads) against the per-device one (TokenByHash
// of a bound token: token, user, binding and removal, four leader reads),
// on R1 and on three nodes in this process (R3).
func BenchmarkTokenLookup(b *testing.B) {
	for _, backend := range []string{"jetstream-R1", "jetstream-R3"} {
		s := openBench(b, backend)
		dt := s.(store.DeviceTokens)
		ctx := b.Context()
		h := sha256.Sum256([]byte("alice's token"))
		now := time.Now()
		if err := s.AddUser(ctx, store.User{Name: "alice", URI: "mimi://example.com/u/alice", Created: now}, h[:]); err != nil {
			b.Fatal(err)
		}
		if _, err := dt.BindToken(ctx, h[:], "mimi://example.com/d/alice/laptop", now); err != nil {
			b.Fatal(err)
		}
		b.Run(backend+"/per-user", func(b *testing.B) {
			for b.Loop() {
				if _, err := s.UserByToken(ctx, h[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(backend+"/per-device", func(b *testing.B) {
			for b.Loop() {
				if t, err := dt.TokenByHash(ctx, h[:], now); err != nil || t.Device == "" {
					b.Fatal(t, err)
				}
			}
		})
	}
}
