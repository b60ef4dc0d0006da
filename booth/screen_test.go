package booth

// A visitor as the tests see one: a real SSH client (golang.org/x/crypto/ssh)
// with a pty, whose output drives a virtual terminal (charmbracelet/x/vt);
// the test reads the screen as the visitor would see it.

import (
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"
)

// screen is a virtual terminal fed by one SSH session.
type screen struct {
	mu   sync.Mutex
	emu  *vt.Emulator
	conn *gossh.Client
	sess *gossh.Session
	in   io.WriteCloser
	done chan struct{} // closed when the session's output ends
}

// dialVisitor connects as user with a w×h pty and starts the shell.
func dialVisitor(t *testing.T, addr, user string, w, h int) *screen {
	t.Helper()
	conn, err := dial(addr, user, nil)
	if err != nil {
		t.Fatalf("%s: dial: %v", user, err)
	}
	sc := &screen{emu: vt.NewEmulator(w, h), conn: conn, done: make(chan struct{})}
	t.Cleanup(sc.close)
	sc.sess, err = conn.NewSession()
	if err != nil {
		t.Fatalf("%s: session: %v", user, err)
	}
	if err := sc.sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{gossh.ECHO: 0}); err != nil {
		t.Fatalf("%s: pty: %v", user, err)
	}
	sc.in, err = sc.sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sc.sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// A terminal shows the session's stderr too (the booth's refusals).
	errOut, err := sc.sess.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	go sc.feed(errOut, nil)
	go sc.feed(out, sc.done)
	// The terminal's answers to the client's queries (background colour,
	// device attributes) go back as input, as a real terminal's do.
	go io.Copy(sc.in, sc.emu)
	if err := sc.sess.Shell(); err != nil {
		t.Fatalf("%s: shell: %v", user, err)
	}
	return sc
}

// feed writes what r reads to the screen, closing done at its end.
func (sc *screen) feed(r io.Reader, done chan struct{}) {
	if done != nil {
		defer close(done)
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			sc.mu.Lock()
			sc.emu.Write(buf[:n])
			sc.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// dial opens an SSH connection as user, with signer's key when given.
func dial(addr, user string, signer gossh.Signer) (*gossh.Client, error) {
	cfg := &gossh.ClientConfig{User: user, HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second}
	if signer != nil {
		cfg.Auth = []gossh.AuthMethod{gossh.PublicKeys(signer)}
	}
	return gossh.Dial("tcp", addr, cfg)
}

func (sc *screen) text() string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.emu.String()
}

// waitFor waits until the screen shows want, failing with the screen.
func (sc *screen) waitFor(t *testing.T, who, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(sc.text(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s's screen never showed %q within %v; it shows:\n%s", who, want, within, sc.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitForLineEnd waits until a line of the screen ends with want (the
// member list is the rightmost pane: "● ann" there is not "● ann-2").
func (sc *screen) waitForLineEnd(t *testing.T, who, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, l := range strings.Split(sc.text(), "\n") {
			if strings.HasSuffix(strings.TrimRight(l, " "), want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line of %s's screen ended with %q within %v; it shows:\n%s", who, want, within, sc.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// typeText sends keys as the visitor's terminal would.
func (sc *screen) typeText(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(sc.in, s); err != nil {
		t.Fatalf("type: %v", err)
	}
}

// resize changes the terminal's size, as a window manager would.
func (sc *screen) resize(t *testing.T, w, h int) {
	t.Helper()
	sc.mu.Lock()
	sc.emu.Resize(w, h)
	sc.mu.Unlock()
	if err := sc.sess.WindowChange(h, w); err != nil {
		t.Fatalf("window change: %v", err)
	}
}

// widest is the widest line on the screen, in cells.
func (sc *screen) widest() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	w := 0
	for y := 0; y < sc.emu.Height(); y++ {
		for x := sc.emu.Width() - 1; x >= 0; x-- {
			if c := sc.emu.CellAt(x, y); c != nil && c.Content != "" && c.Content != " " {
				w = max(w, x+1)
				break
			}
		}
	}
	return w
}

func (sc *screen) close() {
	if sc.sess != nil {
		sc.sess.Close()
	}
	sc.conn.Close()
}

// drop cuts the connection without a goodbye, as a closed laptop lid does.
func (sc *screen) drop() { sc.conn.Close() }
