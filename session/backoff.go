package session

import (
	"math/rand/v2"
	"time"
)

// Backoff is the reconnection schedule: the n-th consecutive failure waits
// a random time in [d*(1-Jitter), d] where d = min(Initial*Factor^n, Max).
// The jitter spreads clients out when a relay comes back after a restart.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Factor  float64
	Jitter  float64 // 0..1
}

// DefaultBackoff starts at 250 ms and caps at 30 s.
var DefaultBackoff = Backoff{Initial: 250 * time.Millisecond, Max: 30 * time.Second, Factor: 2, Jitter: 0.5}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = DefaultBackoff.Initial
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoff.Max
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Factor < 1 {
		b.Factor = DefaultBackoff.Factor
	}
	if b.Jitter < 0 || b.Jitter > 1 {
		b.Jitter = DefaultBackoff.Jitter
	}
	return b
}

// Delay is the wait after the attempt-th consecutive failure (1-based).
func (b Backoff) Delay(attempt int) time.Duration {
	d := float64(b.Initial)
	for i := 1; i < attempt && d < float64(b.Max); i++ {
		d *= b.Factor
	}
	d = min(d, float64(b.Max))
	return time.Duration(d * (1 - b.Jitter*rand.Float64()))
}
