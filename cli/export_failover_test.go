package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"mimichat/config"
	"mimichat/content"
)

// TestExportFetchFailsOver: `mimichat export --embed-attachments` fetches
// attachments as the UI does, through the other relay nodes when the node
// a blob's URL names is down. An encrypted attachment is uploaded through
// node 1 of three, node 1 shuts down; export's fetch with the client's
// three relay URLs downloads, verifies and decrypts it through another
// node, and with only node 1 configured it fails (nothing to fail over to).
func TestExportFetchFailsOver(t *testing.T) {
	nodes := startRelayCluster(t)
	url := func(i int) string { return "ws://" + nodes[i].Addr() + "/v1" }
	_, tok, err := nodes[0].Store().AddUser("example.com", "alice")
	if err != nil {
		t.Fatal(err)
	}
	plain := make([]byte, 300<<10)
	rand.Read(plain)
	ext, cipher, err := content.SealAttachment(rand.Reader, plain, content.AttachmentSpec{Filename: "photo.jpg"})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+nodes[0].Addr()+"/v1/blobs", bytes.NewReader(cipher))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		URL string `json:"url"`
	}
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	ext.URL = info.URL
	part := &content.NestedPart{Disposition: content.Attachment, ContentType: "image/jpeg", External: &ext}

	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	nodes[0].Shutdown(sctx)
	cancel()

	alone := fetchAttachment(5*time.Second, blobClient(config.Resolved{Relay: url(0)}))
	if _, ok, err := alone(content.MessageID{}, 0, part); ok || err == nil {
		t.Fatal("fetched through a node that is down, with no other node configured")
	}
	fetch := fetchAttachment(20*time.Second, blobClient(config.Resolved{Relay: url(0), Relays: []string{url(1), url(2)}}))
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, ok, err := fetch(content.MessageID{}, 0, part)
		if ok && err == nil {
			if !bytes.Equal(got, plain) {
				t.Fatalf("export fetched %d bytes that are not the attachment", len(got))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("export's fetch through the other nodes: ok %v, %v", ok, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
