package session

// Per-device tokens (issue 13): the relay binds a token to the first device
// that names itself with it, so each data directory (one device) keeps the
// token it authenticates with in DataDir/token (0600), and uses it ahead
// of the configured one. A device that was removed is refused for good
// (device_revoked): its copied directory cannot come back.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"mimichat/proto"
)

// TokenFile is the device's own relay token in the data directory.
const TokenFile = "token"

// deviceToken is the token this device says hello with, and where it
// came from. Guarded by Session.mu.
type deviceToken struct {
	path   string // DataDir/token
	token  string // what the next hello sends
	stored string // what the file holds ("" when absent)
}

// loadDeviceToken reads dir's token file (narrowed to 0600 if widened).
// Without one, the configured token is used and stored after its first
// welcome.
func loadDeviceToken(dir, configured string) (deviceToken, error) {
	t := deviceToken{path: filepath.Join(dir, TokenFile), token: configured}
	b, err := readPrivate(t.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return t, nil
	case err != nil:
		return t, err
	}
	stored := strings.TrimSpace(string(b))
	if stored == "" || len(stored) > proto.MaxToken {
		return t, fmt.Errorf("session: %s does not hold a token: remove it to use the configured one", t.path)
	}
	t.token, t.stored = stored, stored
	return t, nil
}

// helloToken is the token the next hello sends.
func (s *Session) helloToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token.token
}

// keepToken stores tok, which the relay just accepted (and bound to this
// device), as the device's token file.
func (s *Session) keepToken(tok string) error {
	s.mu.Lock()
	if s.token.stored == tok || s.token.path == "" {
		s.mu.Unlock()
		return nil
	}
	path := s.token.path
	s.mu.Unlock()
	if err := writePrivate(path, []byte(tok+"\n")); err != nil {
		return err
	}
	s.mu.Lock()
	s.token.stored = tok
	s.mu.Unlock()
	return nil
}

// tokenFallback switches to the configured token after the relay refused
// the stored one with auth_failed (rotated by the operator, say): the
// configured one is tried once, and stored if the relay takes it.
// It reports whether there is something new to try.
func (s *Session) tokenFallback() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Token == "" || s.token.token == s.opts.Token {
		return false
	}
	s.token.token = s.opts.Token
	return true
}

// NewDeviceToken asks the relay for a token for another device of this
// user: it binds to the first device that says hello with it before
// expires. It is a secret shown once: the caller writes it where only the
// user can read it, never into a log or an argument.
func (s *Session) NewDeviceToken(ctx context.Context) (token string, expires time.Time, err error) {
	c, err := s.live()
	if err != nil {
		return "", time.Time{}, err
	}
	rid := s.rid()
	f, err := c.request(ctx, rid, &proto.NewDeviceToken{RID: rid})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("session: new device token: %w", err)
	}
	dt, ok := f.(*proto.DeviceToken)
	if !ok {
		return "", time.Time{}, fmt.Errorf("session: new device token: unexpected answer %s", f.FrameType())
	}
	return dt.Token, time.UnixMilli(dt.Expires), nil
}
