package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
)

// maxDownload bounds an attachment download.
const maxDownload = 64 << 20

// attachment downloads, hash-checks and decrypts the selected message's
// attachment in a goroutine, then saves it (and opens it), or opens a call
// link.
func (m *Model) attachment(it content.Item, open bool, dir string) tea.Cmd {
	var ext *content.ExternalPart
	var disp content.Disposition
	for _, rp := range content.Resolve(&it.Body, content.Prefs{Languages: m.opt.Languages}) {
		if rp.Part.External != nil {
			ext, disp = rp.Part.External, rp.Disposition
			break
		}
	}
	if ext == nil {
		if open {
			return m.openLinks(it) // a message's links (ui/links.go)
		}
		m.setNotice("no attachment or call link here")
		return nil
	}
	if disp == content.Session {
		if !open {
			return tea.Sequence(tea.SetClipboard(ext.URL), func() tea.Msg { return noticeMsg("call link copied") })
		}
		return openURL(ext.URL)
	}
	if dir == "" {
		dir = m.opt.DownloadDir
	}
	if dir == "" || open {
		dir = os.TempDir()
	}
	client := m.opt.HTTP
	part := *ext
	now := m.now()
	m.setNotice("downloading " + content.SafeFilename(part.Filename) + "…")
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		path, err := fetchAttachment(ctx, client, &part, dir, now)
		if err != nil {
			return noticeMsg("attachment: " + err.Error())
		}
		if open {
			if err := startOpener(path); err != nil {
				return noticeMsg("saved " + path + " (no opener: " + err.Error() + ")")
			}
			return noticeMsg("opened " + path)
		}
		return noticeMsg("hash checked, decrypted, saved: " + path)
	}
}

// fetchAttachment GETs the part's URL (checked by content.DownloadURL:
// http(s) only, not expired at now), reads at most the part's declared size
// (content.ReadAndDecrypt), verifies the hash, decrypts and writes the file
// under dir with a safe, non-clobbering name. Nothing is written unless
// every check passed.
func fetchAttachment(ctx context.Context, client *http.Client, part *content.ExternalPart, dir string, now time.Time) (string, error) {
	plain, err := content.FetchAttachment(ctx, client, part, now, maxDownload)
	if err != nil {
		return "", explainAttachError(err)
	}
	name := content.SafeFilename(part.Filename)
	if name == "" {
		name = "attachment"
	}
	// the notice names the file where it is: "saved: notes.txt" did not
	// say that the default, without ~/Downloads, is the current directory
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	ext := filepath.Ext(name)
	base := name[:len(name)-len(ext)]
	for i := 0; i < 100; i++ {
		p := filepath.Join(dir, name)
		if i > 0 {
			p = filepath.Join(dir, fmt.Sprintf("%s (%d)%s", base, i, ext))
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if os.IsExist(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		if _, err := f.Write(plain); err != nil {
			f.Close()
			os.Remove(p)
			return "", err
		}
		return p, f.Close()
	}
	return "", fmt.Errorf("no free file name for %s in %s", name, dir)
}

// explainAttachError says in the user's words what a content attachment
// error means (the server is the one who sent the bytes, so "the server"
// is who the notice blames), keeping the typed detail after it.
func explainAttachError(err error) error {
	var why string
	switch {
	case errors.Is(err, content.ErrTooLarge):
		why = "the server sent more bytes than the attachment's size; nothing saved"
	case errors.Is(err, content.ErrSizeMismatch):
		why = "the server sent a different number of bytes than the attachment's size; nothing saved"
	case errors.Is(err, content.ErrHashMismatch):
		why = "the server sent different bytes than the sender hashed; nothing saved"
	case errors.Is(err, content.ErrDecrypt):
		why = "the download does not decrypt with the sender's key; nothing saved"
	case errors.Is(err, content.ErrURL):
		why = "not an http(s) link; not fetched"
	case errors.Is(err, content.ErrExpired):
		why = "the link has expired; not fetched"
	default:
		return err
	}
	return fmt.Errorf("%s (%w)", why, err)
}

func startOpener(target string) error { return startOpenerWith("", target) }

// startOpenerWith runs opener (the system's when "": open, xdg-open) with
// target as its one argument, no shell in between.
func startOpenerWith(opener, target string) error {
	var c *exec.Cmd
	switch {
	case opener != "":
		c = exec.Command(opener, target)
	case runtime.GOOS == "darwin":
		c = exec.Command("open", target)
	default:
		p, err := exec.LookPath("xdg-open")
		if err != nil {
			return err
		}
		c = exec.Command(p, target)
	}
	if err := c.Start(); err != nil {
		return err
	}
	go c.Wait()
	return nil
}

func openURL(u string) tea.Cmd {
	return func() tea.Msg {
		if err := startOpener(u); err != nil {
			return noticeMsg("call link: " + u + " (no opener; copy it with c)")
		}
		return noticeMsg("opening " + u)
	}
}
