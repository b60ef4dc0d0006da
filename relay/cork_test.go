package relay

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// TestCorkDeadlineSlack: a later write deadline within deadlineSlack of the
// one set is not passed on (gorilla sets one per frame), a later one beyond
// it is, and an earlier one always is, so a write blocked on a peer that
// reads nothing times out at the earliest deadline asked for.
func TestCorkDeadlineSlack(t *testing.T) {
	for _, tt := range []struct {
		name      string
		next      time.Duration // after a first deadline of now + 10 s
		passed    bool
		blockedBy time.Duration // a write's timeout, if checked
	}{
		{"later within the slack", 10*time.Second + 500*time.Millisecond, false, 0},
		{"later beyond the slack", 10*time.Second + deadlineSlack + time.Millisecond, true, 0},
		{"earlier", 50 * time.Millisecond, true, 50 * time.Millisecond},
		{"none", 0, true, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			c := &corkConn{Conn: a}
			defer c.Close()
			now := time.Now()
			first := now.Add(10 * time.Second)
			if err := c.SetWriteDeadline(first); err != nil {
				t.Fatal(err)
			}
			var next time.Time
			if tt.next > 0 {
				next = now.Add(tt.next)
			}
			if err := c.SetWriteDeadline(next); err != nil {
				t.Fatal(err)
			}
			want := first
			if tt.passed {
				want = next
			}
			if !c.deadline.Equal(want) {
				t.Fatalf("deadline passed on: %v, want %v", c.deadline, want)
			}
			if tt.blockedBy > 0 {
				start := time.Now()
				_, err := c.Write([]byte("nobody reads this"))
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("write to a peer that reads nothing: %v, want a deadline error", err)
				}
				if took := time.Since(start); took > 5*time.Second {
					t.Fatalf("write timed out after %v, want about %v", took, tt.blockedBy)
				}
			}
		})
	}
}
