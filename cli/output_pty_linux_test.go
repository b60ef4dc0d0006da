package cli

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY opens a pseudo-terminal: the master end (what a terminal
// emulator reads) and the slave end (a command's stdout).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("ptsname: %v", e)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.FormatUint(uint64(n), 10), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// TestOutputDataOnATerminal: bytes asked for as they are (CBOR from content
// encode, an export to "-") pass unchanged to a pipe or file, and through
// the sanitizer to a terminal.
func TestOutputDataOnATerminal(t *testing.T) {
	payload := []byte("\x87\x1b]52;c;aGFja2Vk\x07 \u202eexe")

	var file bytes.Buffer
	if _, err := newOutput(&file).data().Write(payload); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file.Bytes(), payload) {
		t.Errorf("to a buffer: wrote %q, want %q unchanged", file.Bytes(), payload)
	}

	master, slave := openPTY(t)
	if _, err := newOutput(slave).data().Write(payload); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	n, err := master.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	got := string(buf[:n])
	if c := rawControl(got); c != "" {
		t.Errorf("the terminal got a raw %s: %q", c, got)
	}
	if !strings.Contains(got, "␛ ⟪RLO⟫exe") {
		t.Errorf("the terminal got %q, want the visible forms", got)
	}
}
