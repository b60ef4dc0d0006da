package jetstream

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestOpenPortInUse: a listener that cannot bind fails Open at once with
// the bind error, for the client and the route listener alike (the server
// only logs it; Open used to wait its whole 90 s timeout and then say
// "not ready").
func TestOpenPortInUse(t *testing.T) {
	for _, field := range []string{"listen", "cluster-listen"} {
		t.Run(field, func(t *testing.T) {
			taken, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer taken.Close()
			opts := Options{Dir: t.TempDir()}
			if field == "listen" {
				opts.Listen = taken.Addr().String()
			} else {
				opts.ClusterListen, opts.Peers = taken.Addr().String(), []string{"127.0.0.1:1"}
			}
			start := time.Now()
			s, err := Open(opts)
			if err == nil {
				s.Close()
				t.Fatalf("Open on %s in use: no error", taken.Addr())
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("Open took %v to fail", took)
			}
			if !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), "embedded server") {
				t.Errorf("error %q does not say the address is in use", err)
			}
		})
	}
}
