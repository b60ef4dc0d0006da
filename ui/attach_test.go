package ui

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mimichat/content"
)

// TestAttachAndSave: /attach seals and uploads a file to the demo's file
// store and sends it; selecting the card and pressing s downloads it,
// checks the hash, decrypts it and saves it under its (safe) name.
func TestAttachAndSave(t *testing.T) {
	d, s := startDemo(t)
	src := filepath.Join(t.TempDir(), "notes.txt")
	data := append(bytes.Repeat([]byte("attachment bytes\n"), 6), "113 bytes:\n"...) // 113: the card shows the file's size, not the download's 129 (issue 14 #14)
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	down := t.TempDir()
	tm, _, scr := startUI(t, s, 120, 40, Options{Room: d.Rooms[0], Names: d.Names, Upload: d.Upload, DownloadDir: down})
	scr.waitText(t, "You joined")
	tm.Type("/attach " + src)
	key(tm, "esc") // close the completion list
	key(tm, "enter")
	scr.waitText(t, "📎 notes.txt", "text/plain · 113 B · encrypted")
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

// TestFetchAttachmentHostileServer: a file server on 127.0.0.1 that sends
// more, fewer or different bytes than the sender sealed (or refuses, or is
// reached through an expired or non-http link) gets a clear error and no
// file is written; the honest server's bytes are saved.
func TestFetchAttachmentHostileServer(t *testing.T) {
	plain := bytes.Repeat([]byte("secret attachment\n"), 50)
	part, ct, err := content.SealAttachment(nil, plain, content.AttachmentSpec{Filename: "../../notes.txt"})
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(ct)
	flipped[10] ^= 1
	bodies := map[string][]byte{
		"/ok":    ct,
		"/more":  append(bytes.Clone(ct), bytes.Repeat([]byte("x"), 4096)...),
		"/less":  ct[:len(ct)-7],
		"/wrong": flipped,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name, path string
		expires    uint32
		url        string // overrides srv.URL+path
		want       string // "" means success
	}{
		{"honest", "/ok", 0, "", ""},
		{"not expired", "/ok", uint32(now.Unix() + 60), "", ""},
		{"more bytes", "/more", 0, "", "more bytes than the attachment's size"},
		{"fewer bytes", "/less", 0, "", "nothing saved"},
		{"wrong bytes", "/wrong", 0, "", "different bytes than the sender hashed"},
		{"404", "/gone", 0, "", "404"},
		{"expired", "/ok", uint32(now.Unix() - 1), "", "expired"},
		{"file link", "", 0, "file:///etc/passwd", "not an http(s) link"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := part
			p.URL = srv.URL + tc.path
			if tc.url != "" {
				p.URL = tc.url
			}
			p.Expires = tc.expires
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			path, err := fetchAttachment(ctx, srv.Client(), &p, dir, now)
			files, _ := os.ReadDir(dir)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %q, %v; want an error with %q", path, err, tc.want)
				}
				if len(files) != 0 {
					t.Fatalf("%d files written after a refused download", len(files))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Dir(path) != dir || filepath.Base(path) != "notes.txt" {
				t.Errorf("saved at %s, want notes.txt in %s", path, dir)
			}
			got, _ := os.ReadFile(path)
			if !bytes.Equal(got, plain) {
				t.Errorf("saved %d bytes, want the %d sealed", len(got), len(plain))
			}
		})
	}
}

// TestSavedPathIsAbsolute: a save into a relative directory (the default
// without ~/Downloads is the current one, ".") names the file by its
// absolute path, so the notice says where it went ("saved: notes.txt"
// did not).
func TestSavedPathIsAbsolute(t *testing.T) {
	plain := []byte("a note\n")
	part, ct, err := content.SealAttachment(nil, plain, content.AttachmentSpec{Filename: "notes.txt"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(ct) }))
	t.Cleanup(srv.Close)
	part.URL = srv.URL + "/ok"
	dir := t.TempDir()
	t.Chdir(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, rel := range []string{".", "sub"} {
		path, err := fetchAttachment(ctx, srv.Client(), &part, rel, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !filepath.IsAbs(path) {
			t.Errorf("saved into %q: the path %q is not absolute", rel, path)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, plain) {
			t.Errorf("saved into %q: %q holds %q", rel, path, got)
		}
	}
}
