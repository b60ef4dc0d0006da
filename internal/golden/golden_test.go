package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder captures failures so Check's own failures can be asserted.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msg = format
	if len(args) > 0 {
		if s, ok := args[len(args)-1].(string); ok {
			r.msg = s
		}
	}
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func TestCheck(t *testing.T) {
	if Updating() {
		t.Skip("-update rewrites instead of comparing")
	}
	path := filepath.Join(t.TempDir(), "screen.golden")
	if err := os.WriteFile(path, []byte("a\x1b[1mb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		got      string
		fail     bool
		inReport string
	}{
		{"a\x1b[1mb\nc\n", false, ""},
		{"a\x1b[2mb\nc\n", true, `-a\x1b[1mb`},
		{"a\x1b[1mb\nc", true, "c"},
	} {
		r := &recorder{TB: t}
		Check(r, path, tc.got)
		if r.failed != tc.fail {
			t.Errorf("Check(%q): failed = %v, want %v", tc.got, r.failed, tc.fail)
		}
		if !strings.Contains(r.msg, tc.inReport) {
			t.Errorf("Check(%q): report %q lacks %q", tc.got, r.msg, tc.inReport)
		}
	}
	r := &recorder{TB: t}
	Check(r, filepath.Join(t.TempDir(), "missing.golden"), "x")
	if !r.failed {
		t.Error("a missing golden file passed")
	}
}
