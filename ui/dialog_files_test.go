package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"mimichat/keys"
	"mimichat/render"
)

// filesHome makes a home directory for the picker: a folder with a file, a
// hidden file, a file to send, one over the upload limit (sparse) and a
// name holding an escape sequence; HOME points at it.
func filesHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	write := func(rel string, data []byte) {
		p := filepath.Join(home, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("docs/report.txt", []byte("quarterly report\n"))
	write(".secret", []byte("hidden\n"))
	write("notes.txt", append(bytes.Repeat([]byte("attachment bytes\n"), 6), "113 bytes:\n"...))
	write("evil\x1b]0;pwned\x07.txt", []byte("x"))
	big, err := os.Create(filepath.Join(home, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(maxUpload + 1); err != nil {
		t.Fatal(err)
	}
	big.Close()
	return home
}

// TestAttachFilePicker: alt+a (and /attach alone) opens the picker in the
// home directory; folders open and close, hidden files toggle, a file
// over the limit is refused as /attach PATH refuses it, enter on a file
// sends it (the card arrives), and the next picker starts in the folder
// the last file came from; esc closes.
func TestAttachFilePicker(t *testing.T) {
	filesHome(t)
	rl := startRelay(t)
	alice := rl.session("alice")
	room := openRoom(t, alice, "files", "Files")
	tm, _, scr := startUI(t, alice, 120, 40, Options{Room: room, Upload: alice.Upload, Languages: []string{"en"}})
	scr.waitText(t, "renamed the room to Files")

	key(tm, "alt+a")
	txt := scr.waitText(t, "Send a file: ~ ", "› docs/", "notes.txt", "113 B", "big.bin", "16.0 MiB", "evil␛.txt")
	if strings.Contains(txt, ".secret") {
		t.Error("a hidden file is listed before . was pressed")
	}
	if strings.Contains(txt, "\x1b]0;") {
		t.Error("a file name's escape sequence reached the screen")
	}
	tm.Type(".")
	scr.waitText(t, ".secret", "hidden files shown")
	tm.Type(".")
	scr.waitFor(t, "hidden files hidden again", func(s string) bool { return !strings.Contains(s, ".secret") })

	key(tm, "enter") // docs/
	scr.waitText(t, "Send a file: ~/docs ", "› report.txt")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	scr.waitText(t, "Send a file: ~ ", "› docs/") // back, the folder it came from selected

	key(tm, "down") // big.bin
	key(tm, "enter")
	scr.waitText(t, "/attach: content: attachment size: content larger than allowed") // as /attach PATH refuses it
	scr.waitFor(t, "the picker closed", func(s string) bool { return !strings.Contains(s, "Send a file:") })

	tm.Type("/attach")
	key(tm, "esc") // the completion list
	key(tm, "enter")
	scr.waitText(t, "Send a file: ~ ", "› docs/")
	for range 3 { // docs, big.bin, evil…, notes.txt
		key(tm, "down")
	}
	scr.waitText(t, "› notes.txt")
	key(tm, "enter")
	scr.waitText(t, "📎 notes.txt", "text/plain · 113 B · encrypted")

	key(tm, "alt+a")
	scr.waitText(t, "Send a file: ~ ", "› docs/")
	key(tm, "enter")
	scr.waitText(t, "› report.txt")
	key(tm, "enter")
	scr.waitText(t, "📎 report.txt")
	key(tm, "alt+a")
	scr.waitText(t, "Send a file: ~/docs ", "› report.txt") // the folder the last file came from
	key(tm, "esc")
	scr.waitFor(t, "esc closed the picker", func(s string) bool { return !strings.Contains(s, "Send a file:") })
}

// TestAttachFilePickerBooth: in the SSH booth (Options.Remote) the picker
// never opens: the host's files are not the visitor's. The key answers
// why and help does not list it.
func TestAttachFilePickerBooth(t *testing.T) {
	filesHome(t)
	rl := startRelay(t)
	alice := rl.session("alice")
	room := openRoom(t, alice, "booth", "Booth")
	tm, m, scr := startUI(t, alice, 120, 40, Options{Room: room, Remote: true, Languages: []string{"en"}})
	scr.waitText(t, "renamed the room to Booth")
	key(tm, "alt+a")
	scr.waitText(t, "attach is not available here: this client runs on the booth's machine")
	tm.Type("/attach")
	key(tm, "esc")
	key(tm, "enter")
	txt := scr.waitText(t, "attach is not available here")
	if strings.Contains(txt, "Send a file") || strings.Contains(txt, "notes.txt") {
		t.Fatal("the booth showed the host's files")
	}
	for _, group := range m.km.FullHelp(keys.Composer) {
		for _, b := range group {
			if b.Help().Desc == keys.Describe(keys.Global, keys.AttachFile) {
				t.Errorf("help lists %v (the file picker) in the booth", b.Keys())
			}
		}
	}
}

// TestFilesDialogReadsDiskOnlyInCmds: once a listing arrived, the box's
// Update and View work from it alone: with the directory deleted they
// still draw every entry and move, and opening, going up and toggling
// hidden files only return a Cmd (no listing changes until it runs).
func TestFilesDialogReadsDiskOnlyInCmds(t *testing.T) {
	home := filesHome(t)
	km := keymapWith(t, nil)
	var asked []string
	d := &filesDialog{km: km, home: home, dir: home}
	d.list = func(d *filesDialog, dir string, hidden bool, gen int) tea.Cmd {
		asked = append(asked, dir)
		return func() tea.Msg { return listDir(dir, hidden, gen) }
	}
	d.send = func(string) tea.Cmd { return func() tea.Msg { return nil } }
	d.listed(d.open(home, "")().(fileListing))
	if len(d.entries) != 4 {
		t.Fatalf("listed %d entries, want 4 (hidden left out)", len(d.entries))
	}
	th, err := render.NewTheme("dark", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := d.View(th, 80, 22)
	if err := os.RemoveAll(home); err != nil {
		t.Fatal(err)
	}
	if got := d.View(th, 80, 22); got != before {
		t.Fatalf("View changed with the disk:\n%s\n---\n%s", before, got)
	}
	press := func(k string) tea.Cmd {
		msg := keyMsg(k)
		if k == "backspace" {
			msg = tea.KeyPressMsg{Code: tea.KeyBackspace}
		}
		next, cmd := d.Update(msg)
		if next != d {
			t.Fatalf("%s closed the box", k)
		}
		return cmd
	}
	if cmd := press("down"); cmd != nil {
		t.Error("moving returned a Cmd")
	}
	n := len(asked)
	for _, k := range []string{".", "backspace"} {
		if press(k) == nil {
			t.Errorf("%s returned no Cmd", k)
		}
	}
	if len(asked) != n+2 || len(d.entries) != 4 {
		t.Errorf("asked %v, %d entries: the listing changed before its Cmd ran", asked, len(d.entries))
	}
	if !strings.Contains(ansi.Strip(d.View(th, 80, 22)), "reading…") {
		t.Error("no reading… while a listing is on its way")
	}
	// the deleted directory's listing fails: the entries shown stay
	d.listed(listDir(home, false, d.gen))
	if len(d.entries) != 4 || !strings.Contains(d.err, "cannot open ~") {
		t.Errorf("after a failed listing: %d entries, err %q", len(d.entries), d.err)
	}
}

// TestFilesPickerGolden: the picker at 80x24 and 160x48.
func TestFilesPickerGolden(t *testing.T) {
	for _, size := range []struct{ w, h int }{{160, 48}, {80, 24}} {
		t.Run(fmtSize(size.w, size.h), func(t *testing.T) {
			filesHome(t)
			rl := startRelay(t)
			alice := rl.session("alice")
			room := openRoom(t, alice, "files", "Files")
			tm, _, scr := startUI(t, alice, size.w, size.h, Options{Room: room, Upload: alice.Upload, Languages: []string{"en"}})
			scr.waitText(t, "🔒", "renamed the room to Files")
			key(tm, "alt+a")
			scr.waitText(t, "Send a file: ~ ", "notes.txt")
			key(tm, "down")
			scr.waitText(t, "› big.bin")
			txt := scr.settle(300 * time.Millisecond)
			for i, l := range strings.Split(txt, "\n") {
				if w := ansi.StringWidth(l); w > size.w {
					t.Errorf("line %d is %d wide", i, w)
				}
			}
			checkGolden(t, fmtSize(size.w, size.h)+"-files", normalize(txt))
		})
	}
}
