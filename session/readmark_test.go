package session

import (
	"path/filepath"
	"testing"
	"time"
)

// TestReadMarks: marks survive reopening the file and never move back.
func TestReadMarks(t *testing.T) {
	path := filepath.Join(t.TempDir(), StoreFile)
	st, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1_700_000_000_000).UTC()
	for _, c := range []struct {
		room string
		seq  uint64
	}{{"a", 5}, {"a", 9}, {"a", 7}, {"b", 2}} {
		if err := st.SaveReadMark(c.room, c.seq, at); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	st, err = OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.ReadMarks()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ReadMark{"a": {9, at}, "b": {2, at}}
	if len(got) != len(want) || got["a"] != want["a"] || got["b"] != want["b"] {
		t.Fatalf("read marks %v, want %v", got, want)
	}
}
