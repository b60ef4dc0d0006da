package ui

import (
	"context"
	"mime"
	"os"
	"path/filepath"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
)

// maxUpload bounds a file sent with /attach (AES-GCM holds it in memory).
const maxUpload = 16 << 20

type sealedMsg struct {
	room string
	dir  string // the file's directory, once it was opened: the picker starts there next
	msg  *content.Message
	err  error
}

// attach reads, seals and uploads a file in a goroutine, then sends the
// attachment message.
func (m *Model) attach(r *room, path string) tea.Cmd {
	if m.opt.Upload == nil {
		m.setNotice("/attach: no file store is configured for this account")
		return nil
	}
	if path == "" {
		return m.openFiles() // ui/dialog_files.go
	}
	path = expandHome(path)
	up, b, room := m.opt.Upload, m.builder(r), r.id
	m.setNotice("encrypting and uploading " + filepath.Base(path) + "…")
	return func() tea.Msg {
		f, err := os.Open(path)
		if err != nil {
			return sealedMsg{room: room, err: err}
		}
		defer f.Close()
		dir := filepath.Dir(path)
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		name := filepath.Base(path)
		part, blob, err := content.SealAttachmentFrom(nil, f, maxUpload, content.AttachmentSpec{Filename: name})
		if err != nil {
			return sealedMsg{room: room, dir: dir, err: err}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if part.URL, err = up(ctx, name, blob); err != nil {
			return sealedMsg{room: room, dir: dir, err: err}
		}
		ct := mime.TypeByExtension(filepath.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		msg, err := b.Attachment(ct, part)
		return sealedMsg{room: room, dir: dir, msg: msg, err: err}
	}
}

func (m *Model) onSealed(msg sealedMsg) tea.Cmd {
	if msg.dir != "" {
		m.attachDir = msg.dir
	}
	if msg.err != nil {
		m.setNotice("/attach: " + msg.err.Error())
		return nil
	}
	r, ok := m.byID[msg.room]
	if !ok {
		return nil
	}
	m.setNotice("attachment sent")
	return m.sendMsg(r, msg.msg)
}
