package relay

import (
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens per second, up to burst.
type bucket struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// take spends one token if there is one.
func (b *bucket) take(now time.Time, rate float64, burst int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else {
		b.tokens += now.Sub(b.last).Seconds() * rate
		if b.tokens > float64(burst) {
			b.tokens = float64(burst)
		}
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// limiter rate-limits submits per user, across all of a user's connections.
type limiter struct {
	rate  float64
	burst int
	mu    sync.Mutex
	users map[string]*bucket
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: burst, users: map[string]*bucket{}}
}

// allow reports whether user may submit now. A rate <= 0 means unlimited.
func (l *limiter) allow(user string, now time.Time) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	b := l.users[user]
	if b == nil {
		b = &bucket{}
		l.users[user] = b
	}
	l.mu.Unlock()
	return b.take(now, l.rate, l.burst)
}

// errBudget counts a connection's errors in a sliding window; a client over
// budget is disconnected. Only the connection's reader goroutine uses it.
type errBudget struct {
	max    int
	window time.Duration
	times  []time.Time
}

// add records an error at now and reports whether the budget is exceeded.
func (e *errBudget) add(now time.Time) bool {
	cut := 0
	for cut < len(e.times) && now.Sub(e.times[cut]) > e.window {
		cut++
	}
	e.times = append(e.times[cut:], now)
	return len(e.times) > e.max
}
