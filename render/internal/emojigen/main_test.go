package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestTableUpToDate fails when render/emoji_table.go no longer matches what
// the generator writes from the goldmark-emoji version in go.mod.
func TestTableUpToDate(t *testing.T) {
	want, err := source()
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile(filepath.Join("..", "..", "emoji_table.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Error("render/emoji_table.go is out of date; run: go generate ./render")
	}
}
