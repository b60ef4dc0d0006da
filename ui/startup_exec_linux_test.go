package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"mimichat/mls"
	"mimichat/relay"
	"mimichat/session"

	"github.com/charmbracelet/x/vt"
)

// The first frame from process start, measured on the path users run
// (issue 18): the real `mimichat` binary, built from the module's main
// package, started on a pseudo-terminal of 160x48 against a data
// directory holding a real SQLite cache of 100,000 messages in one room
// (plaintext, or end-to-end encrypted with this device's MLS group state),
// with a real relay on loopback where the user and the device are already
// registered, as on any later start. The clock runs from exec until the
// terminal has received the whole first screen (the room's name at the
// top and the help line at the bottom). The child's CPU time up to that
// moment (user+sys of all its threads, from /proc) is reported beside the
// wall time: on a loaded machine it is the figure that does not move with
// the load.

// mimichatBinary builds the module's main package once per test binary.
var mimichatBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "mimichat-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "mimichat")
	cmd := exec.Command("go", "build", "-o", bin, "mimichat")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func buildMimichat(tb testing.TB) string {
	tb.Helper()
	bin, err := mimichatBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// startupFixture is a relay and a primed data directory to copy for each
// start.
type startupFixture struct {
	relayURL, token string
	seed            string // the data directory every run starts from a copy of
}

// newStartupFixture starts a relay on loopback with the bench user, and
// makes the data directory: n cached entries of benchRoom (encrypted
// with a group whose own leaf is this directory's device), the device
// registered with the relay (one session run until online).
func newStartupFixture(tb testing.TB, n int, encrypted bool) *startupFixture {
	tb.Helper()
	srv, err := relay.Start(relay.Config{Listen: "127.0.0.1:0", Data: tb.TempDir(), Domain: "bench.example",
		RatePerSec: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	u, tok, err := srv.Store().AddUser("bench.example", "me")
	if err != nil {
		tb.Fatal(err)
	}
	if u.URI != benchUsers[0] {
		tb.Fatalf("relay user %s, want %s", u.URI, benchUsers[0])
	}
	f := &startupFixture{relayURL: "ws://" + srv.Addr() + "/v1", token: tok}
	s := cachedSession(tb, n)
	f.seed = filepath.Dir(s.Store().Path())
	s.Close()
	if encrypted {
		s, err := session.Open(session.Options{Relay: f.relayURL, User: benchUsers[0], Token: tok, DataDir: f.seed})
		if err != nil {
			tb.Fatal(err)
		}
		err = s.Store().SeedGroup(benchRoom, benchGroupOf(tb, deviceIdentity(tb, f.seed)))
		s.Close()
		if err != nil {
			tb.Fatal(err)
		}
	}
	// Register the device with the relay (its first start does it) so that
	// each measured start is a later one.
	s, err = session.Open(session.Options{Relay: f.relayURL, User: benchUsers[0], Token: tok, DataDir: f.seed})
	if err != nil {
		tb.Fatal(err)
	}
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err = s.WaitOnline(ctx)
	cancel()
	s.Close()
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// deviceIdentity reads the MLS identity of dir's device (device.json).
func deviceIdentity(tb testing.TB, dir string) *mls.Identity {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, session.DeviceFile))
	if err != nil {
		tb.Fatal(err)
	}
	var f struct {
		Identity *mls.Identity `json:"identity"`
	}
	if err := json.Unmarshal(b, &f); err != nil || f.Identity == nil {
		tb.Fatalf("device file: %v", err)
	}
	return f.Identity
}

// copyDir copies the regular files of src (no subdirectories are needed:
// the data directory is flat apart from sockets and locks) into a new dir.
func copyDir(tb testing.TB, src string) string {
	tb.Helper()
	dst := tb.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			tb.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, info.Mode().Perm()); err != nil {
			tb.Fatal(err)
		}
	}
	return dst
}

// startupProfileEnv names a directory where each measured start writes a
// CPU profile of its process up to its first frame (start-N.prof), for
// `go tool pprof -top ui.test DIR/*.prof`-style reading of where the
// start-up goes (docs/ui.md).
const startupProfileEnv = "MIMICHAT_STARTUP_PROFILE_DIR"

var startupProfiles int

// startupRun is one measured start.
type startupRun struct {
	wall, cpu time.Duration
	screen    string // what the terminal shows at the first frame
}

// firstFrameDone reports whether the terminal shows the whole first
// screen: the room's header on the top row, the newest messages, and the
// help line that ends the frame on the bottom row.
func firstFrameDone(screen string, h int) bool {
	lines := strings.Split(screen, "\n")
	if len(lines) < h {
		return false
	}
	return strings.Contains(lines[0], "Big room") && strings.Contains(screen, "Message ") &&
		strings.Contains(lines[h-1], "f1")
}

// runStartup starts bin with args on a pty of w×h in a copy of seed and
// measures exec → first frame.
func (f *startupFixture) runStartup(tb testing.TB, bin string, w, h int, env ...string) startupRun {
	tb.Helper()
	dir := copyDir(tb, f.seed)
	home := tb.TempDir()
	master, slave := openBenchPTY(tb, w, h)
	cmd := exec.Command(bin, "--relay", f.relayURL, "--user", benchUsers[0], "--data-dir", dir)
	cmd.Env = append([]string{"HOME=" + home, "XDG_CONFIG_HOME=" + home, "XDG_DATA_HOME=" + home,
		"PATH=" + os.Getenv("PATH"), "TERM=xterm-256color", "LANG=C.UTF-8", "MIMICHAT_TOKEN=" + f.token}, env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if pd := os.Getenv(startupProfileEnv); pd != "" {
		startupProfiles++
		cmd.Env = append(cmd.Env, "MIMICHAT_CPUPROFILE_UNTIL=first-frame",
			"MIMICHAT_CPUPROFILE="+filepath.Join(pd, fmt.Sprintf("start-%d.prof", startupProfiles)))
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	slave.Close()
	// The terminal: a virtual one that answers the client's queries
	// (synchronized output, background colour, device attributes) as a
	// real terminal does.
	emu := vt.NewEmulator(w, h)
	defer emu.Close()
	go io.Copy(master, emu)
	var run startupRun
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(30 * time.Second)
	for !firstFrameDone(emu.String(), h) {
		master.SetReadDeadline(deadline)
		n, err := master.Read(buf)
		emu.Write(buf[:n])
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			tb.Fatalf("no first frame (%v) after %v; the terminal shows:\n%s", err, time.Since(start), emu.String())
		}
	}
	run.wall = time.Since(start)
	run.cpu = childCPU(tb, cmd.Process.Pid)

	run.screen = emu.String()
	// Quit as a user does (ctrl+c), reading the terminal meanwhile so the
	// child never blocks on a full pty.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			master.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := master.Read(buf); err != nil {
				return
			}
		}
	}()
	master.Write([]byte{3})
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-waited
		tb.Errorf("mimichat did not quit on ctrl+c")
	}
	master.Close()
	<-done
	return run
}

// childCPU is the CPU time (user+sys) pid's threads have used so far:
// the sum of each thread's run time in /proc/PID/task/*/schedstat (ns),
// finer than the clock ticks of /proc/PID/stat.
func childCPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		tb.Skipf("no /proc: %v", err)
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // the thread ended meanwhile
		}
		if err != nil {
			tb.Skipf("no schedstat: %v", err)
		}
		ns, err := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
		if err != nil {
			tb.Fatal(err)
		}
		total += time.Duration(ns)
	}
	return total
}

// openBenchPTY opens a pseudo-terminal of w×h: the master end (what the
// terminal emulator reads) and the slave end (the child's terminal).
func openBenchPTY(tb testing.TB, w, h int) (master, slave *os.File) {
	tb.Helper()
	// Non-blocking, so reads go through the poller and honour deadlines.
	fd, err := syscall.Open("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		tb.Skipf("no pseudo-terminal: %v", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	tb.Cleanup(func() { master.Close() })
	ioctl := func(f *os.File, req uintptr, arg unsafe.Pointer) {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), req, uintptr(arg)); e != 0 {
			tb.Fatalf("ioctl %#x: %v", req, e)
		}
	}
	var unlock int32
	ioctl(master, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock))
	var n uint32
	ioctl(master, syscall.TIOCGPTN, unsafe.Pointer(&n))
	slave, err = os.OpenFile("/dev/pts/"+strconv.FormatUint(uint64(n), 10), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	ws := struct{ row, col, x, y uint16 }{uint16(h), uint16(w), 0, 0}
	ioctl(slave, syscall.TIOCSWINSZ, unsafe.Pointer(&ws))
	return master, slave
}

// startupStats collects one mode's runs and reports median, min and max.
type startupStats struct{ wall, cpu []time.Duration }

func (s *startupStats) add(r startupRun) {
	s.wall = append(s.wall, r.wall)
	s.cpu = append(s.cpu, r.cpu)
}

func (s *startupStats) report(b *testing.B, prefix string) {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, m := range []struct {
		name string
		ds   []time.Duration
	}{{"wall", s.wall}, {"cpu", s.cpu}} {
		ds := slices.Clone(m.ds)
		slices.Sort(ds)
		b.ReportMetric(ms(ds[len(ds)/2]), prefix+m.name+"-median-ms")
		b.ReportMetric(ms(ds[0]), prefix+m.name+"-min-ms")
		b.ReportMetric(ms(ds[len(ds)-1]), prefix+m.name+"-max-ms")
	}
}

// TestFirstScreenFromExec: the real binary's first screen on a terminal is
// the room at the terminal's size, at 160x48 and at 80x24 (the harness of
// BenchmarkFirstFrameFromProcessStart, on a small cache).
func TestFirstScreenFromExec(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildMimichat(t)
	f := newStartupFixture(t, 300, true)
	for _, size := range []struct {
		w, h    int
		members bool // the member list fits beside the timeline
	}{{160, 48, true}, {80, 24, false}} {
		r := f.runStartup(t, bin, size.w, size.h)
		lines := strings.Split(r.screen, "\n")
		if strings.Contains(lines[0], "Members") != size.members || !strings.Contains(lines[0], "🔒") {
			t.Errorf("%dx%d: top row %q (members pane %v, lock)", size.w, size.h, lines[0], size.members)
		}
	}
}
