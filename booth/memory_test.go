package booth

// The booth's memory figure: RSS per connected visitor, and no growth
// while visitors sit idle. The booth runs in a child process (this test
// binary, re-executed), so the SSH clients and virtual terminals of the
// test do not count. Long: it runs only when asked,
//
//	go test ./booth -run TestVisitorMemory -booth.visitors 50 -booth.idle 1m -v
//
// and the figures are in docs/booth.md.

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"mimichat/demo"
	"mimichat/ui"
)

var (
	memVisitors = flag.Int("booth.visitors", 0, "TestVisitorMemory: visitors to connect (0 skips the test)")
	memIdle     = flag.Duration("booth.idle", time.Minute, "TestVisitorMemory: how long the visitors stay idle")
)

const childEnv = "MIMICHAT_BOOTH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(serveChild(dir))
	}
	os.Exit(m.Run())
}

// serveChild runs a demo and its booth, prints the booth's address, and
// serves until its stdin closes.
func serveChild(dir string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	d, err := demo.Start(ctx, demo.Options{Dir: filepath.Join(dir, "demo"), NoScript: true})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer d.Close()
	b, err := Start(Config{Listen: "127.0.0.1:0", HostKey: filepath.Join(dir, "host_key"), MaxVisitors: 1000,
		ConnsPerMinute: 6000, ConnBurst: 1000, Accounts: NewDemoAccounts(d), UI: ui.Options{Theme: "auto", Notify: "off"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer b.Close()
	fmt.Printf("ADDR %s\n", b.Addr())
	// Each line asks for the Go runtime's view after a collection that
	// returns freed memory to the system; EOF stops the booth.
	in := bufio.NewReader(os.Stdin)
	for {
		if _, err := in.ReadString('\n'); err != nil {
			return 0
		}
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("heap %.1f sys %.1f goroutines %d\n", float64(ms.HeapAlloc)/(1<<20), float64(ms.Sys)/(1<<20), runtime.NumGoroutine())
	}
}

// rssMB is the resident set size of process pid in MB.
func rssMB(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read RSS: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			return float64(kb) / 1024
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}

// TestVisitorMemory: RSS per visitor beyond the first stays within 15 MB,
// and N idle visitors for a minute do not make the booth grow.
func TestVisitorMemory(t *testing.T) {
	n := *memVisitors
	if n == 0 {
		t.Skip("long: -booth.visitors 50 -booth.idle 1m runs it")
	}
	if n < 2 {
		t.Fatal("-booth.visitors: want at least 2")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+t.TempDir())
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { in.Close(); cmd.Wait() }()
	child := bufio.NewReader(out)
	line, err := child.ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ADDR ")
	if err != nil || !ok {
		t.Fatalf("the booth child said %q, %v", line, err)
	}
	pid := cmd.Process.Pid
	// settled is the child's RSS after a collection, and its heap figures.
	settled := func() (float64, string) {
		t.Helper()
		if _, err := in.Write([]byte("gc\n")); err != nil {
			t.Fatal(err)
		}
		line, err := child.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return rssMB(t, pid), strings.TrimSpace(line)
	}
	base, _ := settled()

	visit := func(i int) *screen {
		sc := dialVisitor(t, addr, fmt.Sprintf("v%d", i), 80, 24)
		sc.waitFor(t, fmt.Sprintf("v%d", i), "online", 60*time.Second)
		sc.waitFor(t, fmt.Sprintf("v%d", i), "General", 30*time.Second)
		return sc
	}
	visit(0)
	time.Sleep(2 * time.Second) // the first frame's caches settle
	one, _ := settled()
	for i := 1; i < n; i++ {
		visit(i)
	}
	time.Sleep(2 * time.Second)
	all, stats := settled()
	per := (all - one) / float64(n-1)
	t.Logf("booth RSS: %.1f MB before visitors, %.1f MB with 1, %.1f MB with %d (%s): %.2f MB per visitor beyond the first",
		base, one, all, n, stats, per)
	if per > 15 {
		t.Errorf("%.2f MB per visitor, want at most 15", per)
	}

	// Idle: sample every tenth of the period; the last samples must not
	// have grown past the first by more than 5%.
	var samples []float64
	step := *memIdle / 10
	for i := range 11 {
		if i > 0 {
			time.Sleep(step)
		}
		rss, stats := settled()
		samples = append(samples, rss)
		t.Logf("idle +%v: RSS %.1f MB, %s", time.Duration(i)*step, rss, stats)
	}
	first, last := samples[0], samples[len(samples)-1]
	t.Logf("idle %v with %d visitors: RSS samples %v MB", *memIdle, n, fmtMB(samples))
	if last > first*1.05 {
		t.Errorf("idle visitors grew the booth from %.1f to %.1f MB", first, last)
	}
}

func fmtMB(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strings.Join(s, " ")
}
