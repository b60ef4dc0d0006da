package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAttachAndSave: /attach seals and uploads a file to the demo's file
// store and sends it; selecting the card and pressing s downloads it,
// checks the hash, decrypts it and saves it under its (safe) name.
func TestAttachAndSave(t *testing.T) {
	d, s := startDemo(t)
	src := filepath.Join(t.TempDir(), "notes.txt")
	data := bytes.Repeat([]byte("attachment bytes\n"), 100)
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	down := t.TempDir()
	tm, _, scr := startUI(t, s, 120, 40, Options{Room: d.Rooms[0], Names: d.Names, Upload: d.Upload, DownloadDir: down})
	scr.waitText(t, "You joined")
	tm.Type("/attach " + src)
	key(tm, "esc") // close the completion list
	key(tm, "enter")
	scr.waitText(t, "📎 notes.txt", "encrypted")
	scr.waitText(t, "You ✓✓") // in the timeline, delivered
	key(tm, "alt+s")
	tm.Type("s")
	scr.waitFor(t, "a save notice", func(s string) bool {
		return bytes.Contains([]byte(s), []byte("hash checked")) || bytes.Contains([]byte(s), []byte("attachment:")) || bytes.Contains([]byte(s), []byte("select a"))
	})
	scr.waitText(t, "hash checked, decrypted")
	got, err := os.ReadFile(filepath.Join(down, "notes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("saved %d bytes, want the %d sent", len(got), len(data))
	}
	// saving again never overwrites
	tm.Type("s")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(down, "notes (1).txt")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("second save did not pick a new name")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
