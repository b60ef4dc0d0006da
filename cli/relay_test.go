package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestRelayUserCommands(t *testing.T) {
	dir := t.TempDir()
	runIt := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
		return code, out.String(), errb.String()
	}
	code, out, _ := runIt("relay", "user", "add", "alice", "--data", dir, "--domain", "example.com")
	if code != 0 || !strings.Contains(out, "mimi://example.com/u/alice") || !strings.Contains(out, "token mct_") {
		t.Fatalf("user add: %d %q", code, out)
	}
	if code, _, _ := runIt("relay", "user", "add", "alice", "--data", dir); code != 1 {
		t.Fatalf("duplicate user: exit %d, want 1", code)
	}
	if code, _, errs := runIt("relay", "user", "add", "Bad Name", "--data", dir); code != 2 || !strings.Contains(errs, "user name") {
		t.Fatalf("bad name: exit %d %q, want 2", code, errs)
	}
	if code, _, errs := runIt("relay", "user", "add", "bob", "--data", dir, "--domain", "other.org"); code != 1 || !strings.Contains(errs, "example.com") {
		t.Fatalf("second domain: exit %d %q, want 1", code, errs)
	}
	code, out, _ = runIt("relay", "user", "list", "--data", dir)
	if code != 0 || !strings.HasPrefix(out, "alice\tmimi://example.com/u/alice\t") || strings.Count(out, "\n") != 1 {
		t.Fatalf("user list: %d %q", code, out)
	}
	if code, _, _ := runIt("relay", "user", "frobnicate", "alice", "--data", dir); code != 2 {
		t.Fatalf("unknown verb: exit %d, want 2", code)
	}
	code, out, errs := runIt("relay", "user", "token", "alice", "--data", dir)
	if code != 0 || !strings.HasPrefix(out, "token mct_") || strings.Contains(errs, "mct_") {
		t.Fatalf("user token: %d %q %q", code, out, errs)
	}
	if code, _, _ := runIt("relay", "user", "token", "nobody", "--data", dir); code != 1 {
		t.Fatalf("a token for an unknown user: exit %d, want 1", code)
	}
	code, out, _ = runIt("relay", "user", "rotate", "alice", "--data", dir)
	if code != 0 || !strings.HasPrefix(out, "token mct_") {
		t.Fatalf("user rotate: %d %q", code, out)
	}
	if code, _, _ := runIt("relay", "user", "revoke", "alice", "--data", dir); code != 0 {
		t.Fatalf("user revoke: exit %d", code)
	}
	backup := filepath.Join(t.TempDir(), "relay.db")
	if code, _, errs := runIt("relay", "backup", "--data", dir, backup); code != 0 {
		t.Fatalf("relay backup: exit %d %q", code, errs)
	}
	if code, _, _ := runIt("relay", "user", "remove", "alice", "--data", dir); code != 0 {
		t.Fatalf("user remove: exit %d", code)
	}
	if code, _, errs := runIt("relay", "user", "remove", "alice", "--data", dir); code != 1 || !strings.Contains(errs, "no such user") {
		t.Fatalf("removing an unknown user: exit %d %q, want 1", code, errs)
	}
	if code, out, _ := runIt("relay", "user", "list", "--data", filepath.Dir(backup)); code != 0 || !strings.HasPrefix(out, "alice\t") {
		t.Fatalf("user list of the backup: %d %q", code, out)
	}
	if code, _, errs := runIt("relay", "--listen", "0.0.0.0:0", "--data", dir); code != 1 || !strings.Contains(errs, "--insecure") {
		t.Fatalf("non-loopback without TLS: exit %d %q", code, errs)
	}
}

func TestByteSizeFlag(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1048576", 1 << 20, true}, {"512K", 512 << 10, true}, {"25M", 25 << 20, true}, {"25MiB", 25 << 20, true},
		{"1g", 1 << 30, true}, {"-1", -1, true}, {"", 0, false}, {"ten", 0, false}, {"8T", 0, false},
		{"9000000000G", 0, false},
	}
	for _, c := range cases {
		var b byteSize
		err := b.Set(c.in)
		if (err == nil) != c.ok || (c.ok && int64(b) != c.want) {
			t.Errorf("Set(%q) = %d, %v; want %d ok=%v", c.in, b, err, c.want, c.ok)
		}
	}
	var out, errb bytes.Buffer
	code := run([]string{"relay", "--max-blob", "lots", "--data", t.TempDir()}, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	if code != 2 || !strings.Contains(errb.String(), "not a byte size") {
		t.Fatalf("bad --max-blob: exit %d %q", code, errb.String())
	}
}

func TestByteSizeString(t *testing.T) {
	for _, v := range []int64{0, 1, 1023, 1024, 25 << 20, 1 << 30, 3 << 30, -1, -(2 << 20), 1<<20 + 1} {
		b := byteSize(v)
		var back byteSize
		if err := back.Set(b.String()); err != nil || back != b {
			t.Errorf("%d prints as %q, which reads back as %d (%v)", v, b.String(), back, err)
		}
	}
	if s := (*byteSize)(new(int64)).String(); s != "0" {
		t.Errorf("0 prints as %q", s)
	}
	if b := byteSize(25 << 20); b.String() != "25M" {
		t.Errorf("25 MiB prints as %q", b.String())
	}
}
