package booth

// Limits a stranger cannot get around: new sessions per source address,
// and the input rate of each session (bytes, and Enter presses, which are
// what sends messages). Input beyond the rate is delayed, not dropped, so a
// paste arrives whole, only slower.

import (
	"io"
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens a second, at most burst saved.
type bucket struct {
	tokens float64
	last   time.Time
}

// take takes n tokens if there are that many, refilling first.
func (b *bucket) take(now time.Time, rate, burst, n float64) bool {
	b.refill(now, rate, burst)
	if b.tokens < n {
		return false
	}
	b.tokens -= n
	return true
}

func (b *bucket) refill(now time.Time, rate, burst float64) {
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens += now.Sub(b.last).Seconds() * rate
	}
	if b.tokens > burst {
		b.tokens = burst
	}
	b.last = now
}

// wait is how long until the bucket holds one token.
func (b *bucket) wait(rate float64) time.Duration {
	if b.tokens >= 1 || rate <= 0 {
		return 0
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// connLimiter limits new sessions per source address.
type connLimiter struct {
	rate, burst float64
	mu          sync.Mutex
	by          map[string]*bucket
}

func newConnLimiter(perMinute, burst int) *connLimiter {
	return &connLimiter{rate: float64(perMinute) / 60, burst: float64(burst), by: map[string]*bucket{}}
}

// allow reports whether addr may open one more session now.
func (l *connLimiter) allow(addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Forget full buckets now and then, so the map stays as small as the
	// set of recent addresses.
	if len(l.by) > 1024 {
		for a, b := range l.by {
			if b.refill(now, l.rate, l.burst); b.tokens >= l.burst {
				delete(l.by, a)
			}
		}
	}
	b := l.by[addr]
	if b == nil {
		b = &bucket{}
		l.by[addr] = b
	}
	return b.take(now, l.rate, l.burst, 1)
}

// InputRate bounds what one visitor can type.
type InputRate struct {
	BytesPerSec, BytesBurst  float64
	EntersPerSec, EnterBurst float64
}

// defaultInputRate lets a person type, paste a screenful and scroll with
// the wheel, and keeps a script from sending more than a few messages a
// second.
var defaultInputRate = InputRate{BytesPerSec: 512, BytesBurst: 8192, EntersPerSec: 3, EnterBurst: 10}

// throttledReader delivers r's bytes no faster than its InputRate allows.
type throttledReader struct {
	r            io.Reader
	rate         InputRate
	bytes, enter bucket
	buf          []byte // read from r, not yet delivered
	pending      []byte // backing array of buf
	sleep        func(time.Duration)
	now          func() time.Time
}

func newThrottledReader(r io.Reader, rate InputRate) *throttledReader {
	return &throttledReader{r: r, rate: rate, pending: make([]byte, 4096), sleep: time.Sleep, now: time.Now}
}

func (t *throttledReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(t.buf) == 0 {
		n, err := t.r.Read(t.pending)
		t.buf = t.pending[:n]
		if n == 0 {
			return 0, err
		}
	}
	for {
		now := t.now()
		t.bytes.refill(now, t.rate.BytesPerSec, t.rate.BytesBurst)
		t.enter.refill(now, t.rate.EntersPerSec, t.rate.EnterBurst)
		n := 0
		for n < len(p) && n < len(t.buf) && t.bytes.tokens >= 1 {
			if t.buf[n] == '\r' {
				if t.enter.tokens < 1 {
					break
				}
				t.enter.tokens--
			}
			t.bytes.tokens--
			p[n] = t.buf[n]
			n++
		}
		if n > 0 {
			t.buf = t.buf[n:]
			return n, nil
		}
		d := t.bytes.wait(t.rate.BytesPerSec)
		if t.buf[0] == '\r' {
			d = max(d, t.enter.wait(t.rate.EntersPerSec))
		}
		t.sleep(max(d, time.Millisecond))
	}
}
