package booth

import (
	"bytes"
	"io"
	"testing"
	"time"
)

func TestConnLimiter(t *testing.T) {
	l := newConnLimiter(6, 2) // one every 10 s, two at once
	t0 := time.Unix(1000, 0)
	steps := []struct {
		addr string
		at   time.Duration
		want bool
	}{
		{"10.0.0.1", 0, true},
		{"10.0.0.1", 0, true},
		{"10.0.0.1", time.Second, false}, // burst spent
		{"10.0.0.2", time.Second, true},  // another address has its own
		{"10.0.0.1", 11 * time.Second, true},
		{"10.0.0.1", 12 * time.Second, false},
	}
	for i, s := range steps {
		if got := l.allow(s.addr, t0.Add(s.at)); got != s.want {
			t.Errorf("step %d: %s at +%v: allow = %v, want %v", i, s.addr, s.at, got, s.want)
		}
	}
}

// TestThrottledReader: input within the burst passes at once; beyond it,
// bytes and Enter presses are delayed to their rates, never dropped.
func TestThrottledReader(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		rate  InputRate
		slept time.Duration // at least this much simulated waiting
		most  time.Duration // and at most this
	}{
		{"within the burst", "hello\r", InputRate{BytesPerSec: 10, BytesBurst: 100, EntersPerSec: 1, EnterBurst: 5}, 0, 0},
		{"bytes beyond the burst", string(bytes.Repeat([]byte("a"), 30)), InputRate{BytesPerSec: 10, BytesBurst: 10, EntersPerSec: 1, EnterBurst: 5}, 1900 * time.Millisecond, 2100 * time.Millisecond},
		{"enters beyond the burst", "a\rb\rc\rd\r", InputRate{BytesPerSec: 1000, BytesBurst: 1000, EntersPerSec: 2, EnterBurst: 2}, 900 * time.Millisecond, 1100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(0, 0)
			var slept time.Duration
			r := newThrottledReader(bytes.NewReader([]byte(tt.in)), tt.rate)
			r.now = func() time.Time { return now }
			r.sleep = func(d time.Duration) { slept += d; now = now.Add(d) }
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.in {
				t.Fatalf("read %q, want %q", got, tt.in)
			}
			if slept < tt.slept || slept > tt.most {
				t.Errorf("waited %v, want %v to %v", slept, tt.slept, tt.most)
			}
		})
	}
}

func TestSanitizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ann", "ann"},
		{"Ann", "ann"},
		{"Ann Lee", "ann-lee"},
		{"ann.lee", "ann.lee"},
		{".hidden", "hidden"},
		{"root\x1b[31m", "root31m"},
		{"élodie", "lodie"},
		{"李", "visitor"},
		{"", "visitor"},
		{"---", "visitor"},
		{"a-very-long-name-from-a-keen-visitor", "a-very-long-name-from-a"},
	}
	for _, tt := range tests {
		if got := sanitizeName(tt.in); got != tt.want {
			t.Errorf("sanitizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUniqueName(t *testing.T) {
	taken := map[string]bool{"ann": true, "ann-2": true}
	free := func(n string) bool { return !taken[n] }
	for _, tt := range []struct{ in, want string }{{"ann", "ann-3"}, {"ben", "ben"}} {
		if got := uniqueName(tt.in, free); got != tt.want {
			t.Errorf("uniqueName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
