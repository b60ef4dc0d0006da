package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Addrs returns n loopback addresses that were free a moment ago, on ports
// below the kernel's ephemeral range when it leaves room (else from the
// kernel).
func Addrs(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	low := ephemeralLow()
	for tries := 0; len(lns) < n; tries++ {
		addr := "127.0.0.1:0"
		if low > 12000 && tries < 1000 {
			addr = fmt.Sprintf("127.0.0.1:%d", low-10000+rand.IntN(10000))
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if addr != "127.0.0.1:0" {
				continue // in use: another try
			}
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	return out
}

// ephemeralLow is the first port of the kernel's ephemeral range (0 when
// it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	low, _ := strconv.Atoi(f[0])
	return low
}
