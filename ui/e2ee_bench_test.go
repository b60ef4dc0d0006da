package ui

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mimichat/mls"
	"mimichat/session"
)

// The first-frame figures of issue 13 with encryption: the same 100,000
// cached entries as BenchmarkFirstFrame100kCached, in a plaintext room and
// in an end-to-end encrypted one (the room marked encrypted, this device's
// MLS group state of a 4-member group in the cache), in the same run. The
// cache holds what the device decrypted, so the difference is the group
// state and the lock.

// cachedEncryptedSession is cachedSession with benchRoom encrypted.
func cachedEncryptedSession(tb testing.TB, n int) *session.Session {
	tb.Helper()
	s := cachedSession(tb, n)
	dir := filepath.Dir(s.Store().Path())
	if err := s.Store().SeedGroup(benchRoom, benchGroup(tb)); err != nil {
		tb.Fatal(err)
	}
	s.Close()
	s, err := session.Open(session.Options{Relay: "ws://127.0.0.1:1/v1", User: benchUsers[0], Token: "x", DataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if c := s.Crypto(benchRoom); !c.Encrypted || c.Members != len(benchUsers) {
		tb.Fatalf("the seeded room: %+v", c)
	}
	return s
}

// benchGroup is benchRoom's group as its first user holds it after adding
// the three others.
func benchGroup(tb testing.TB) *mls.Group { return benchGroupOf(tb, nil) }

// benchGroupOf is benchGroup with creator as the first user's device (a
// new identity when nil).
func benchGroupOf(tb testing.TB, creator *mls.Identity) *mls.Group {
	tb.Helper()
	ids := make([]*mls.Identity, len(benchUsers))
	for i, u := range benchUsers {
		if i == 0 && creator != nil {
			ids[i] = creator
			continue
		}
		id, err := mls.NewDeviceIdentity(mls.CipherSuite(1), mls.DeviceCredential{Host: "bench.example", User: u[strings.LastIndexByte(u, '/')+1:], Device: "d"})
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = id
	}
	g, err := mls.NewGroup(ids[0], []byte(benchRoom), nil)
	if err != nil {
		tb.Fatal(err)
	}
	var kps [][]byte
	for _, id := range ids[1:] {
		kp, err := mls.NewKeyPackage(id)
		if err != nil {
			tb.Fatal(err)
		}
		kps = append(kps, kp.KeyPackage)
	}
	if _, err := g.Commit(mls.CommitOptions{Add: kps}); err != nil {
		tb.Fatal(err)
	}
	if err := g.MergePendingCommit(); err != nil {
		tb.Fatal(err)
	}
	return g
}

func benchCachedSession(tb testing.TB, encrypted bool) *session.Session {
	if encrypted {
		return cachedEncryptedSession(tb, 100_000)
	}
	return cachedSession(tb, 100_000)
}

// BenchmarkE2EEFirstFrame100kCached: BenchmarkFirstFrame100kCached for a
// plaintext and an encrypted room.
func BenchmarkE2EEFirstFrame100kCached(b *testing.B) {
	for _, mode := range []string{"plaintext", "encrypted"} {
		b.Run(mode, func(b *testing.B) {
			s := benchCachedSession(b, mode == "encrypted")
			if frame := benchModel(b, s, 0).render(); strings.Contains(frame, "🔒") != (mode == "encrypted") {
				b.Fatalf("%s room's first frame, lock shown %v", mode, strings.Contains(frame, "🔒"))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				m := benchModel(b, s, 0)
				m.render()
			}
		})
	}
}

// BenchmarkE2EEFirstFrameFromProcessStart: BenchmarkFirstFrameFromProcessStart
// (exec of the real binary to the whole first screen on its terminal, the
// ≤ 200 ms budget) for a plaintext and an encrypted room, alternating in
// every iteration so both see the same load; it reports each mode's
// median, min and max over the iterations, wall time and the child's CPU
// time up to the frame.
func BenchmarkE2EEFirstFrameFromProcessStart(b *testing.B) {
	bin := buildMimichat(b)
	modes := []string{"plaintext", "encrypted"}
	fixtures := map[string]*startupFixture{}
	for _, mode := range modes {
		fixtures[mode] = newStartupFixture(b, 100_000, mode == "encrypted")
	}
	stats := map[string]*startupStats{"plaintext": {}, "encrypted": {}}
	i := 0
	for b.Loop() {
		order := slices.Clone(modes)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		i++
		for _, mode := range order {
			r := fixtures[mode].runStartup(b, bin, 160, 48)
			if strings.Contains(r.screen, "🔒") != (mode == "encrypted") {
				b.Fatalf("%s room's first frame, lock shown %v", mode, !(mode == "encrypted"))
			}
			stats[mode].add(r)
		}
	}
	for _, mode := range modes {
		stats[mode].report(b, mode+"-")
	}
}
