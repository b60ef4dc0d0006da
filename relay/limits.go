package relay

import (
	"math"
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens per second, up to burst. Its
// tokens may go below zero when a cost is only known after the work (a
// read's bytes): the debt is paid back by time before the next admission.
type bucket struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// refill adds the tokens earned since the last call. Called with mu held.
func (b *bucket) refill(now time.Time, rate float64, burst int) {
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else {
		b.tokens = min(b.tokens+now.Sub(b.last).Seconds()*rate, float64(burst))
	}
	b.last = now
}

// takeN spends n tokens if there are that many; otherwise it reports how
// long until there will be.
func (b *bucket) takeN(now time.Time, rate float64, burst int, n float64) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now, rate, burst)
	if b.tokens < n {
		return retryAfter(n-b.tokens, rate), false
	}
	b.tokens -= n
	return 0, true
}

// admit reports whether work of a cost not yet known may start: whether
// the bucket is out of debt. The caller charges the cost afterwards.
func (b *bucket) admit(now time.Time, rate float64, burst int) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now, rate, burst)
	if b.tokens <= 0 {
		return retryAfter(-b.tokens+1, rate), false
	}
	return 0, true
}

// charge spends n tokens, going into debt if there are fewer.
func (b *bucket) charge(n float64) {
	b.mu.Lock()
	b.tokens -= n
	b.mu.Unlock()
}

// retryAfter is how long rate takes to earn n tokens, at least 1 ms.
func retryAfter(n, rate float64) time.Duration {
	return max(time.Duration(math.Ceil(n/rate*1000))*time.Millisecond, time.Millisecond)
}

// userBudget is one user's share of the relay, shared by all of their
// connections, so opening more connections buys nothing.
type userBudget struct {
	writes bucket // submits, room operations, room creations
	reads  bucket // bytes answered to history, room_info and rooms
	// readSlots bounds the user's reads in progress (ReadConcurrency), so
	// one user's connections cannot hold every database reader at once.
	readSlots chan struct{}
	pings     bucket // websocket pings answered
	subs      bucket // subscribes
}

// limiter holds every user's budget.
type limiter struct {
	cfg   *Config
	mu    sync.Mutex
	users map[string]*userBudget
}

func newLimiter(cfg *Config) *limiter {
	return &limiter{cfg: cfg, users: map[string]*userBudget{}}
}

func (l *limiter) user(user string) *userBudget {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.users[user]
	if b == nil {
		b = &userBudget{readSlots: make(chan struct{}, l.cfg.ReadConcurrency)}
		l.users[user] = b
	}
	return b
}

// write reports whether user may store one more event now. A rate <= 0
// means unlimited.
func (l *limiter) write(user string, now time.Time) (time.Duration, bool) {
	if l.cfg.RatePerSec <= 0 {
		return 0, true
	}
	return l.user(user).writes.takeN(now, l.cfg.RatePerSec, l.cfg.RateBurst, 1)
}

// readAdmit reports whether user may start a read now: whether their read
// budget is out of debt. readCharge then charges what the read returned.
func (l *limiter) readAdmit(user string, now time.Time) (time.Duration, bool) {
	if l.cfg.ReadBytesPerSec <= 0 {
		return 0, true
	}
	return l.user(user).reads.admit(now, float64(l.cfg.ReadBytesPerSec), int(l.cfg.ReadBurst))
}

// readSlot waits for one of user's read slots (or done) and returns its
// release; ok is false if done closed first.
func (l *limiter) readSlot(user string, done <-chan struct{}) (release func(), ok bool) {
	slots := l.user(user).readSlots
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, true
	case <-done:
		return nil, false
	}
}

// readCharge charges a read that answered n bytes, at least ReadMinCost:
// a small request still costs a lookup and a frame.
func (l *limiter) readCharge(user string, n int) {
	if l.cfg.ReadBytesPerSec <= 0 {
		return
	}
	l.user(user).reads.charge(float64(max(n, l.cfg.ReadMinCost)))
}

// ping reports whether user's websocket ping may be answered now.
func (l *limiter) ping(user string, now time.Time) (time.Duration, bool) {
	if l.cfg.PingRate <= 0 {
		return 0, true
	}
	return l.user(user).pings.takeN(now, l.cfg.PingRate, l.cfg.PingBurst, 1)
}

// subscribe reports whether user may subscribe n times more now.
func (l *limiter) subscribe(user string, now time.Time, n int) (time.Duration, bool) {
	if l.cfg.SubscribeRate <= 0 {
		return 0, true
	}
	return l.user(user).subs.takeN(now, l.cfg.SubscribeRate, l.cfg.SubscribeBurst, float64(n))
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
