package session

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStoreFilesArePrivate: the cache and its -wal and -shm are 0600 in a
// 0755 directory, and a cache an older version left 0644 is narrowed.
func TestStoreFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, StoreFile)
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveRoom(Room{ID: "mimi://example.com/r/a", Low: 1}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v; want 0600", p, err)
		}
	}
	st.Close()
	os.Chmod(path, 0o644)
	st, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache left %v, want 0600", fi.Mode().Perm())
	}
}
