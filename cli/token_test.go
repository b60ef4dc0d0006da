package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mimichat/config"
)

// TestTokenSources: --token and --token-file win, then MIMICHAT_TOKEN, then
// the config file; a token file others can read is used with a warning on
// stderr.
func TestTokenSources(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.tok")
	if err := os.WriteFile(open, []byte("mct_fromfile\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o644) // whatever the umask
	cfg := &config.Config{Client: config.Client{Relay: "ws://127.0.0.1:1/v1", User: "mimi://ex.com/u/alice",
		Token: "mct_fromconfig", DataDir: dir}}
	for _, tc := range []struct {
		name     string
		over     config.Client
		env      string
		want     string
		warnings bool
	}{
		{"config", config.Client{}, "", "mct_fromconfig", false},
		{"env over config", config.Client{}, "mct_fromenv", "mct_fromenv", false},
		{"flag over env", config.Client{Token: "mct_fromflag"}, "mct_fromenv", "mct_fromflag", false},
		{"open token file", config.Client{TokenFile: open}, "mct_fromenv", "mct_fromfile", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(TokenEnv, tc.env)
			var errb bytes.Buffer
			f := &clientFlags{over: tc.over}
			r, err := f.resolve(cfg, &call{out: newOutput(&bytes.Buffer{}), err: newOutput(&errb)})
			if err != nil {
				t.Fatal(err)
			}
			if r.Token != tc.want {
				t.Fatalf("token %q, want %q", r.Token, tc.want)
			}
			if got := strings.Contains(errb.String(), "readable by others"); got != tc.warnings {
				t.Fatalf("stderr %q; warning wanted: %v", errb.String(), tc.warnings)
			}
		})
	}
}
