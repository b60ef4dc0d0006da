package booth

// The booth's SSH host key: generated once, kept in a 0600 file, so
// visitors' known_hosts stay valid from one event to the next.

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
)

// HostKeyError is a host key file the booth will not use.
type HostKeyError struct {
	Path string
	Rule string // what is wrong: "readable by others (mode 0644); chmod 600 it"
}

func (e *HostKeyError) Error() string {
	return fmt.Sprintf("booth: host key %s: %s", e.Path, e.Rule)
}

// loadHostKey reads the PEM private key at path, or generates an Ed25519
// key there (0600, in a 0700 directory) when the file does not exist. A key
// readable by group or others is refused, as sshd refuses it.
func loadHostKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return newHostKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("booth: read host key: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("booth: host key: %w", err)
	}
	if m := st.Mode().Perm(); m&0o077 != 0 {
		return nil, &HostKeyError{Path: path, Rule: fmt.Sprintf("readable by others (mode %04o); chmod 600 it", m)}
	}
	if _, err := gossh.ParsePrivateKey(b); err != nil {
		return nil, &HostKeyError{Path: path, Rule: "not a PEM private key: " + err.Error()}
	}
	return b, nil
}

func newHostKey(path string) ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("booth: generate host key: %w", err)
	}
	blk, err := gossh.MarshalPrivateKey(priv, "mimichat booth")
	if err != nil {
		return nil, fmt.Errorf("booth: encode host key: %w", err)
	}
	b := pem.EncodeToMemory(blk)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("booth: host key directory: %w", err)
	}
	// O_EXCL: two booths starting at once do not overwrite each other's key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("booth: write host key: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("booth: write host key: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("booth: write host key: %w", err)
	}
	return b, nil
}
