package session

import (
	"bytes"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mimichat/content"
)

// lockedBuffer collects the relay's log lines from its goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// relayFiles reads every file under the relay's data directory: relay.db,
// its WAL and shared memory, the blob store.
func relayFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out[path] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCanaryRelaySeesNoPlaintext drives every message feature through
// real sessions in an encrypted room (text, reply, reaction, edit, delete,
// read receipt, attachment with a filename and its blob, knock) and checks
// that none of their plaintext strings is in the relay's files (relay.db,
// WAL, blobs) or its log (at debug level), while the members read them all.
func TestCanaryRelaySeesNoPlaintext(t *testing.T) {
	logs := &lockedBuffer{}
	r := startRelayLogging(t, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	alice, bob := r.client("alice", ""), r.client("bob", "")
	ca, cb := collect(alice), collect(bob)
	online(t, alice)
	online(t, bob)
	room := newRoom(t, alice, bob)

	const (
		text     = "canary-text-5f1c the launch code is tulip"
		reply    = "canary-reply-2b9e meet at the old mill"
		edited   = "canary-edit-7d3a the launch code is orchid"
		emoji    = "🦩"
		filename = "canary-file-41aa-secret-plan.pdf"
		blobBody = "canary-blob-9c0d attachment body"
		knocker  = "canary-knocker-e8f2"
		desc     = "canary-desc-6a7b quarterly numbers"
	)
	must := func(m *content.Message, err error) *content.Message {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	send := func(s *Session, m *content.Message) OutboxItem {
		t.Helper()
		it, err := s.Send(room, m)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	ab, bb := alice.Builder(room), bob.Builder(room)
	first := send(alice, must(ab.Markdown(text)))
	firstMsg, _ := content.Decode(first.Raw)
	// Bob answers what he has read, as a user does: sent at once, his
	// reaction could reach the relay before alice's message (two
	// connections), and his timeline refused a reaction to nothing.
	cb.waitFor(t, "alice's first message", 10*time.Second, func() bool {
		for _, e := range messages(cb.entries[room]) {
			if e.ID == first.ID {
				return true
			}
		}
		return false
	})
	send(bob, must(bb.Reply(first.ID, content.TextPart(reply))))
	send(bob, must(bb.Reaction(first.ID, emoji)))
	send(alice, must(ab.Edit(first.ID, firstMsg, content.TextPart(edited))))
	rcpt, err := content.StatusBody(content.StatusReport{{ID: first.ID, Status: content.StatusRead}})
	if err != nil {
		t.Fatal(err)
	}
	send(bob, must(bb.Message(rcpt)))
	part, blob, err := content.SealAttachment(nil, []byte(blobBody), content.AttachmentSpec{Filename: filename})
	if err != nil {
		t.Fatal(err)
	}
	url, err := alice.Upload(ctx10(t), filename, blob)
	if err != nil {
		t.Fatal(err)
	}
	part.URL, part.Description = url, desc
	att := send(alice, must(ab.Attachment("application/pdf", part)))
	send(bob, must(bb.Knock(knocker)))
	attMsg, _ := content.Decode(att.Raw)
	send(alice, must(ab.Delete(att.ID, attMsg)))

	// Bob reads them all (the relay did deliver them), then the relay's
	// disk and log are searched.
	cb.waitFor(t, "alice's four messages", 10*time.Second, func() bool {
		n := 0
		for _, e := range messages(cb.entries[room]) {
			if e.Sender == alice.User() && e.Undecryptable == "" {
				n++
			}
		}
		return n == 4
	})
	ca.waitFor(t, "bob's four messages", 10*time.Second, func() bool {
		n := 0
		for _, e := range messages(ca.entries[room]) {
			if e.Sender == bob.User() && e.Undecryptable == "" {
				n++
			}
		}
		return n == 4
	})
	tl := content.NewTimeline(content.TimelineOptions{})
	cb.mu.Lock()
	err = Feed(tl, cb.entries[room])
	cb.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Refused()) != 0 {
		t.Fatalf("bob's timeline refused %v", tl.Refused())
	}
	canaries := []string{text, reply, edited, emoji, filename, blobBody, knocker, desc, content.StatusMediaType,
		"canary-"}
	check := func(where string, b []byte) {
		t.Helper()
		for _, c := range canaries {
			if bytes.Contains(b, []byte(c)) {
				t.Errorf("%s holds the plaintext %q", where, c)
			}
		}
	}
	files := relayFiles(t, r.dir)
	if len(files) < 2 {
		t.Fatalf("the relay's data directory holds %d files", len(files))
	}
	for path, b := range files {
		check(path, b)
	}
	check("the relay's log", logs.Bytes())
	// Also after a clean shutdown (the WAL checkpointed into relay.db).
	r.stop()
	for path, b := range relayFiles(t, r.dir) {
		check(path+" (after shutdown)", b)
	}
	if len(logs.Bytes()) == 0 {
		t.Fatal("the relay logged nothing: the log check checked nothing")
	}
}
