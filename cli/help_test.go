package cli

import (
	"mimichat/internal/golden"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelpGolden: `mimichat --help` and `mimichat <command> --help` for every
// command and subcommand in the table print, on stdout with exit 0, what
// testdata/help holds: the usage, the summary and every flag.
func TestHelpGolden(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/xdg/data") // the relay's --data default
	t.Setenv("XDG_CONFIG_HOME", "/xdg/config")
	lines := [][]string{nil}
	var walk func(path []string, cs []*command)
	walk = func(path []string, cs []*command) {
		for _, c := range cs {
			p := append(append([]string{}, path...), c.name)
			lines = append(lines, p)
			walk(p, c.subs)
		}
	}
	walk(nil, commands)
	for _, path := range lines {
		name := "mimichat"
		if len(path) > 0 {
			name = strings.Join(path, "_")
		}
		t.Run(name, func(t *testing.T) {
			code, out, errs := runArgs(append(append([]string{}, path...), "--help"))
			if code != 0 || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			golden.Check(t, filepath.Join("testdata", "help", name+".golden"), out)
		})
	}
	// The other spellings print the same.
	_, want, _ := runArgs([]string{"send", "--help"})
	for _, args := range [][]string{{"help", "send"}, {"send", "-h"}, {"send", "--room", "r", "hello", "--help"}} {
		if code, out, _ := runArgs(args); code != 0 || out != want {
			t.Errorf("%q: exit %d, output differs from send --help:\n%s", args, code, out)
		}
	}
	if code, out, _ := runArgs([]string{"room", "create", "--help"}); code != 0 || !strings.Contains(out, "--topic string") {
		t.Errorf("room create --help: exit %d\n%s", code, out)
	}
}
