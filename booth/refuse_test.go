package booth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// runNoPty opens a session without a terminal and returns what the booth
// said and the exit error.
func runNoPty(t *testing.T, addr, user string, signer gossh.Signer) (string, error) {
	t.Helper()
	c, err := dial(addr, user, signer)
	if err != nil {
		return "", err
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Stdout and stderr are copied by two goroutines: one lock for both.
	var out lockedBuffer
	s.Stdout, s.Stderr = &out, &out
	err = s.Run("")
	return out.String(), err
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRefusals: who is turned away reads one friendly line and the session
// ends with status 1; nothing else of the booth starts for them.
func TestRefusals(t *testing.T) {
	b, _ := startBooth(t, Config{MaxVisitors: 1, ConnsPerMinute: 1, ConnBurst: 3})

	out, err := runNoPty(t, b.Addr(), "ann", nil)
	var exit *gossh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 || !strings.Contains(out, msgNoTerminal) {
		t.Errorf("without a pty: %q, %v; want %q and exit 1", out, err, msgNoTerminal)
	}

	first := dialVisitor(t, b.Addr(), "ann", 80, 24)
	first.waitFor(t, "ann", "online", 20*time.Second)
	full := dialVisitor(t, b.Addr(), "ben", 80, 24)
	full.waitFor(t, "ben", "The mimichat booth is full (1 visitors)", 10*time.Second)
	select {
	case <-full.done:
	case <-time.After(5 * time.Second):
		t.Fatal("a refused visitor's session stayed open")
	}
	// The burst of 3 is spent (no pty, ann, ben) and refills one a minute:
	// the next is refused.
	rated := dialVisitor(t, b.Addr(), "cat", 80, 24)
	rated.waitFor(t, "cat", "Too many connections from your address", 10*time.Second)
	if n := b.Visitors(); n != 1 {
		t.Errorf("visitors = %d after two refusals, want 1", n)
	}
}

// TestAuthorizedKeys: with --ssh-authorized-keys only the listed key gets
// in (here as far as the booth's no-terminal line); another key is refused
// by the SSH handshake itself.
func TestAuthorizedKeys(t *testing.T) {
	dir := t.TempDir()
	okKey, okSigner := newClientKey(t)
	_, badSigner := newClientKey(t)
	authPath := filepath.Join(dir, "authorized_keys")
	line := gossh.MarshalAuthorizedKey(okKey)
	if err := os.WriteFile(authPath, append([]byte("# the booth's crew\n\n"), line...), 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := startBooth(t, Config{AuthorizedKeys: authPath})
	if out, _ := runNoPty(t, b.Addr(), "ann", okSigner); !strings.Contains(out, msgNoTerminal) {
		t.Errorf("the listed key: %q, want the no-terminal line", out)
	}
	if _, err := runNoPty(t, b.Addr(), "ann", badSigner); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("another key: %v, want an authentication failure", err)
	}
	if _, err := runNoPty(t, b.Addr(), "ann", nil); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("no key: %v, want an authentication failure", err)
	}
}

func TestAuthorizedKeysFileErrors(t *testing.T) {
	dir := t.TempDir()
	k, _ := newClientKey(t)
	good := string(gossh.MarshalAuthorizedKey(k))
	tests := []struct {
		name, text string
		line       int
	}{
		{"garbage on line 2", good + "ssh-ed25519 not-base64!\n", 2},
		{"no key", "# nothing\n\n", 0},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
		os.WriteFile(p, []byte(tt.text), 0o600)
		_, err := loadAuthorizedKeys(p)
		var ae *AuthorizedKeysError
		if !errors.As(err, &ae) || ae.Line != tt.line || ae.Path != p {
			t.Errorf("%s: %v, want an AuthorizedKeysError at line %d", tt.name, err, tt.line)
		}
	}
}

// TestHostKeyKept: the first start writes the key (0600); later starts use
// the same key; a key others can read is refused.
func TestHostKeyKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "booth", "host_key")
	first, err := loadHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m != 0o600 {
		t.Errorf("host key mode %04o, want 0600", m)
	}
	again, err := loadHostKey(path)
	if err != nil || !bytes.Equal(first, again) {
		t.Fatalf("second load: %v, same key %v", err, bytes.Equal(first, again))
	}
	os.Chmod(path, 0o644)
	var he *HostKeyError
	if _, err := loadHostKey(path); !errors.As(err, &he) || !strings.Contains(he.Rule, "chmod 600") {
		t.Errorf("a 0644 key: %v, want a HostKeyError saying chmod 600", err)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	if _, err := loadHostKey(bad); !errors.As(err, &he) {
		t.Errorf("a file that is no key: %v, want a HostKeyError", err)
	}
}

// TestHostKeyServed: two booths on the same key file present the same
// host key to clients, so known_hosts stays valid across runs.
func TestHostKeyServed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host_key")
	var seen []string
	for range 2 {
		b, _ := startBooth(t, Config{HostKey: path})
		cfg := &gossh.ClientConfig{User: "ann", Timeout: 10 * time.Second,
			HostKeyCallback: func(_ string, _ net.Addr, k gossh.PublicKey) error {
				seen = append(seen, gossh.FingerprintSHA256(k))
				return nil
			}}
		c, err := gossh.Dial("tcp", b.Addr(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		b.Close()
	}
	if len(seen) != 2 || seen[0] != seen[1] {
		t.Errorf("host keys seen: %v, want the same one twice", seen)
	}
}

func newClientKey(t *testing.T) (gossh.PublicKey, gossh.Signer) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pk, s
}
