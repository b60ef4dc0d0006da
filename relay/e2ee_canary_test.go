package relay

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"mimichat/content"
	"mimichat/proto"
)

// sealContent encrypts MIMI content built by build and submits it.
func (d *e2eDevice) sealContent(build func(b *content.Builder) (*content.Message, error)) (content.MessageID, *proto.Ack) {
	d.t.Helper()
	b := content.Builder{Sender: d.c.user, Room: d.room}
	m, err := build(&b)
	if err != nil {
		d.t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		d.t.Fatal(err)
	}
	id, err := content.ComputeID(d.c.user, d.room, raw)
	if err != nil {
		d.t.Fatal(err)
	}
	ct, err := d.g.Encrypt(raw, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	a, ef := d.submit(&proto.Submit{Room: d.room, ID: id[:], Content: ct})
	if ef != nil {
		d.t.Fatalf("submit: %s %s", ef.Code, ef.Reason)
	}
	d.mine[a.Seq] = true
	return id, a
}

// The relay-side canary: after a scripted encrypted session (texts, a
// reply, an edit, a reaction, an attachment with a filename), relay.db, its
// WAL and the relay's log (at debug level) hold none of the plaintext
// strings. The same check finds the plaintext of a plaintext room's
// message, so it can fail.
func TestE2EECanary(t *testing.T) {
	data := t.TempDir()
	logPath := filepath.Join(t.TempDir(), "relay.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	s := startRelay(t, Config{RatePerSec: -1, Data: data,
		Logger: slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	e := &e2eRoom{s: s, toks: map[string]string{"alice": addUser(t, s.Store(), "alice"), "bob": addUser(t, s.Store(), "bob")}}
	e.alice = e.device(t, "alice", "laptop")
	e.room = e.alice.create("canary", proto.CreateRoom{})
	bob := e.member(t, "bob", "phone")

	secrets := []string{"CANARY-the-launch-code-is-4711", "CANARY-reply-meet-at-noon", "CANARY-edited-text",
		"🦜", "CANARY-secret-plans.pdf", "CANARY-attachment-description"}
	first, _ := e.alice.sealContent(func(b *content.Builder) (*content.Message, error) { return b.Text(secrets[0]) })
	bob.sealContent(func(b *content.Builder) (*content.Message, error) {
		return b.Reply(first, content.TextPart(secrets[1]))
	})
	e.alice.sealContent(func(b *content.Builder) (*content.Message, error) {
		return b.Edit(first, nil, content.TextPart(secrets[2]))
	})
	bob.sealContent(func(b *content.Builder) (*content.Message, error) { return b.Reaction(first, secrets[3]) })
	_, last := e.alice.sealContent(func(b *content.Builder) (*content.Message, error) {
		return b.Attachment("application/pdf", content.ExternalPart{URL: "https://example.com/v1/blobs/x", Size: 10,
			Filename: secrets[4], Description: secrets[5]})
	})
	bob.syncTo(last.Seq)
	if len(bob.got) != 3 {
		t.Fatalf("bob decrypted %d of alice's 3 messages", len(bob.got))
	}

	plain := e.alice.c.createRoom("plain", proto.CreateRoom{})
	e.alice.c.post(plain, "PLAINTEXT-CONTROL-visible")

	files := func() map[string][]byte {
		out := map[string][]byte{}
		for _, p := range []string{filepath.Join(data, "relay.db"), filepath.Join(data, "relay.db-wal"), logPath} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			out[filepath.Base(p)] = b
		}
		return out
	}
	check := func(when string) {
		fs := files()
		found := false
		for _, b := range fs {
			found = found || bytes.Contains(b, []byte("PLAINTEXT-CONTROL-visible"))
		}
		if !found {
			t.Fatalf("%s: the plaintext room's message is in none of the files: the check cannot see anything", when)
		}
		for name, b := range fs {
			for _, sec := range secrets {
				if bytes.Contains(b, []byte(sec)) {
					t.Errorf("%s: %s contains %q", when, name, sec)
				}
			}
		}
	}
	check("running")
	s.Shutdown(t.Context())
	check("after shutdown")
}
