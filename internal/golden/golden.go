package golden

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aymanbagabas/go-udiff"
	// teatest's golden package registers -update too; importing it here
	// makes it initialise first in every test binary, so both share the one
	// flag instead of panicking on a redefinition.
	_ "github.com/charmbracelet/x/exp/golden"
)

// Updating reports whether the tests run with -update.
func Updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// Check compares got with the file at path. With -update it writes got there
// instead (creating the directory), so a deliberate change is one command.
// The failure shows a unified diff with control characters quoted, since
// golden screens hold escape sequences a terminal would swallow.
func Check(t testing.TB, path, got string) {
	t.Helper()
	if Updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if string(want) == got {
		return
	}
	diff := udiff.Unified(path, "got", quoteLines(string(want)), quoteLines(got))
	t.Errorf("%s differs (check the diff, then run the test with -update):\n%s", path, diff)
}

// quoteLines makes escape sequences and other control characters visible,
// one output line per input line.
func quoteLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		q := strconv.Quote(l)
		lines[i] = q[1 : len(q)-1]
	}
	return strings.Join(lines, "\n")
}
