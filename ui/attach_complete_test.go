package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestAttachPathCompletion: tab after "/attach " completes the path: one
// match is taken (a directory with its "/"), several are listed with their
// common prefix typed, "~/" is the home directory.
func TestAttachPathCompletion(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, f := range []string{"report-2025.txt", "report-2026.txt", "photos/cat.png", ".hidden"} {
		p := filepath.Join(home, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rl := startRelay(t)
	owner := rl.session("owner")
	you := rl.session("you")
	room := openRoom(t, owner, "files", "Files", you)
	tm, _, scr := startUI(t, you, 100, 24, Options{Room: room})
	scr.waitText(t, "Files")

	typeText(tm, "/attach ~/ph")
	key(tm, "esc") // the command completion
	key(tm, "tab")
	scr.waitText(t, "/attach "+home+"/photos/")
	key(tm, "tab")
	scr.waitText(t, "/attach "+home+"/photos/cat.png")
	for range len(home + "/photos/cat.png") {
		tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	typeText(tm, "~/rep")
	key(tm, "tab")
	txt := scr.waitText(t, "/attach "+home+"/report-202", "report-2025.txt", "report-2026.txt")
	if strings.Contains(txt, ".hidden") {
		t.Fatalf("a hidden file is offered:\n%s", txt)
	}
	key(tm, "tab") // the list: the second entry
	key(tm, "enter")
	scr.waitText(t, "/attach "+home+"/report-2026.txt")
}
