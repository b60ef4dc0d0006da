package freeport

import (
	"net"
	"strconv"
	"testing"
)

// TestAddrsBelowEphemeral: the addresses are distinct, bindable, and below
// the ephemeral range when the kernel says where it starts.
func TestAddrsBelowEphemeral(t *testing.T) {
	addrs := Addrs(t, 5)
	seen := map[string]bool{}
	low := ephemeralLow()
	for _, a := range addrs {
		if seen[a] {
			t.Fatalf("%s given twice in %v", a, addrs)
		}
		seen[a] = true
		_, p, err := net.SplitHostPort(a)
		if err != nil {
			t.Fatal(err)
		}
		port, _ := strconv.Atoi(p)
		if low > 12000 && port >= low {
			t.Errorf("%s is in the ephemeral range (from %d)", a, low)
		}
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatalf("%s cannot be bound: %v", a, err)
		}
		ln.Close()
	}
}
