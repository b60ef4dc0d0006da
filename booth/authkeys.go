package booth

// --ssh-authorized-keys: only the listed keys may visit. The file is read
// once at start, so a bad line stops the booth before anyone connects.

import (
	"bytes"
	"fmt"
	"os"

	gossh "golang.org/x/crypto/ssh"
)

// AuthorizedKeysError names the line of an authorized_keys file that does
// not parse.
type AuthorizedKeysError struct {
	Path string
	Line int
	Err  error
}

func (e *AuthorizedKeysError) Error() string {
	return fmt.Sprintf("booth: authorized keys %s:%d: %v", e.Path, e.Line, e.Err)
}

func (e *AuthorizedKeysError) Unwrap() error { return e.Err }

// loadAuthorizedKeys parses an OpenSSH authorized_keys file into the set
// of keys it allows (by their wire form). Blank lines and comments are
// skipped; a file with no key is refused (it would lock everyone out).
func loadAuthorizedKeys(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("booth: authorized keys: %w", err)
	}
	keys := map[string]bool{}
	for i, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		k, _, _, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, &AuthorizedKeysError{Path: path, Line: i + 1, Err: err}
		}
		keys[string(k.Marshal())] = true
	}
	if len(keys) == 0 {
		return nil, &AuthorizedKeysError{Path: path, Line: 0, Err: fmt.Errorf("no key in the file")}
	}
	return keys, nil
}
