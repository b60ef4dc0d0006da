package demo

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/session"
)

func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return b
}

// TestAttachmentsLiveOnTheRelay: the demo's attachments and the user's
// uploads are stored in the relay's blob store and decrypt from its URLs.
func TestAttachmentsLiveOnTheRelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, err := Start(ctx, Options{Dir: t.TempDir(), NoScript: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	blobs := "http://" + d.RelayAddr() + "/v1/blobs/"

	plain := []byte("a file the user attaches")
	part, ct, err := content.SealAttachment(nil, plain, content.AttachmentSpec{Filename: "notes.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if part.URL, err = d.Upload(ctx, "notes.txt", ct); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(part.URL, blobs) {
		t.Fatalf("upload URL %s is not the relay's blob store", part.URL)
	}
	if got, err := content.VerifyAndDecrypt(&part, fetch(t, part.URL)); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("user's upload: %q, %v", got, err)
	}

	s, err := session.Open(d.User)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Start()
	if err := s.WaitOnline(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Join(ctx, s); err != nil {
		t.Fatal(err)
	}
	design := d.Rooms[1]
	for {
		select {
		case ev := <-s.Events():
			es, ok := ev.(session.EntriesEvent)
			if !ok || es.Room != design {
				continue
			}
			for _, e := range es.Entries {
				m, err := content.Decode(e.Raw)
				if !e.IsMessage() || err != nil || m.Body.External == nil || !strings.HasPrefix(m.Body.External.URL, blobs) {
					continue
				}
				got, err := content.VerifyAndDecrypt(m.Body.External, fetch(t, m.Body.External.URL))
				if err != nil || string(got) != logoArt {
					t.Fatalf("demo attachment: %v", err)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("no attachment from the relay's blob store in the design room")
		}
	}
}
