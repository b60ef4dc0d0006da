package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mimichat/owner"
)

// export and import end to end through the command line, offline on a real
// cache file: no relay and no token are given, since neither is needed.
func TestHistoryCommands(t *testing.T) {
	const sample = "../../shared/samples/vcon/vcon-mimi-00_mimi-examples.DERIVED-syntax-fixed.json"
	if _, err := os.Stat(sample); err != nil {
		t.Skipf("shared samples absent: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "none.toml"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	local := []string{"--config", filepath.Join(dir, "none.toml"), "--data-dir", filepath.Join(dir, "data")}
	flags := append([]string{"--user", "mimi://example.com/u/alice"}, local...)
	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(append(append([]string{args[0]}, flags...), args[1:]...), stdio{strings.NewReader(""), &out, &errb})
		return code, out.String(), errb.String()
	}
	code, out, errs := cli("import", sample)
	if code != 0 || !strings.Contains(out, "13 entries added") || !strings.Contains(out, "new local room") {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	cpim := filepath.Join(dir, "room.cpim")
	code, _, errs = cli("export", "--room", "mimi://example.com/r/engineering_team", "--format", "cpim", cpim)
	if code != 0 || !strings.Contains(errs, "not carried:") || !strings.Contains(errs, "membership and room changes") {
		t.Fatalf("export: %d %q", code, errs)
	}
	code, out, _ = cli("import", "--room", "copy", cpim)
	if code != 0 || !strings.Contains(out, "into mimi://example.com/r/copy") {
		t.Fatalf("import cpim: %d %q", code, out)
	}
	code, out, _ = cli("import", sample)
	if code != 0 || !strings.Contains(out, "0 entries added, 13 already cached") {
		t.Fatalf("re-import: %d %q", code, out)
	}
	// Without --user the cache says whose it is (local room names resolve on
	// alice's domain); another user's flags are refused.
	flags = local
	code, out, errs = cli("import", "--room", "copy2", cpim)
	if code != 0 || !strings.Contains(out, "into mimi://example.com/r/copy2") {
		t.Fatalf("import without --user: %d %q %q", code, out, errs)
	}
	flags = append([]string{"--user", "mimi://example.com/u/bob"}, local...)
	code, _, errs = cli("export", "--room", "copy2", "--format", "vcon", filepath.Join(dir, "bob.json"))
	if code == 0 || !strings.Contains(errs, "belongs to mimi://example.com/u/alice") {
		t.Fatalf("bob's export of alice's cache: %d %q", code, errs)
	}
	flags = append([]string{"--user", "mimi://example.com/u/alice"}, local...)
	bad := filepath.Join(dir, "bad.cpim")
	os.WriteFile(bad, []byte("From: <im:a@example.com>\nDateTime: soon\n\nhello\n"), 0o600)
	code, _, errs = cli("import", bad)
	if code == 0 || !strings.Contains(errs, "line 2: DateTime") || !strings.Contains(errs, "nothing was changed") {
		t.Fatalf("bad import: %d %q", code, errs)
	}
	code, _, _ = cli("export", "--room", "x", "--format", "pdf", cpim)
	if code != 2 {
		t.Fatalf("bad format: exit %d, want 2", code)
	}
	// While another process owns the directory, import (which writes the
	// cache) refuses and names it; export (which reads) still works.
	lk, err := owner.TryLock(filepath.Join(dir, "data"), "chat")
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Release()
	code, _, errs = cli("import", "--room", "copy3", cpim)
	if code != 1 || !strings.Contains(errs, "owned by another mimichat process") || !strings.Contains(errs, "mimichat chat") {
		t.Fatalf("import beside an owner: %d %q", code, errs)
	}
	code, _, errs = cli("export", "--room", "copy2", "--format", "vcon", filepath.Join(dir, "owned.json"))
	if code != 0 {
		t.Fatalf("export beside an owner: %d %q", code, errs)
	}
}

// Whatever room id an import printed, export takes: a vCon without a MIMI
// room is imported as urn:uuid:…, which is no mimi:// URI (issue 15).
func TestExportTakesTheImportedRoomID(t *testing.T) {
	const doc = "../history/testdata/spec/vcon/empty-party.json"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "none.toml"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--user", "mimi://example.com/u/alice", "--config", filepath.Join(dir, "none.toml"), "--data-dir", filepath.Join(dir, "data")}
	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(append(append([]string{args[0]}, flags...), args[1:]...), stdio{strings.NewReader(""), &out, &errb})
		return code, out.String(), errb.String()
	}
	const room = "urn:uuid:019a0000-0000-8000-8000-000000000002"
	code, out, errs := cli("import", doc)
	if code != 0 || !strings.Contains(out, "into "+room) {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	for _, format := range []string{"vcon", "cpim"} {
		file := filepath.Join(dir, "out."+format)
		if code, _, errs = cli("export", "--room", room, "--format", format, file); code != 0 {
			t.Fatalf("export %s of %s: %d %q", format, room, code, errs)
		}
		if code, out, errs = cli("import", file); code != 0 || !strings.Contains(out, "0 entries added, 2 already cached") {
			t.Fatalf("re-import of the %s export: %d %q %q", format, code, out, errs)
		}
	}
}
