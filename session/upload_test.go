package session

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay"
)

func TestBlobsURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"ws://127.0.0.1:7878/v1", "http://127.0.0.1:7878/v1/blobs"},
		{"wss://chat.example.com/v1/", "https://chat.example.com/v1/blobs"},
		{"wss://example.com/mimi/v1?x=1", "https://example.com/mimi/v1/blobs"},
	}
	for _, c := range cases {
		if got, err := BlobsURL(c.in); err != nil || got != c.want {
			t.Errorf("BlobsURL(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := BlobsURL("http://example.com/v1"); err == nil {
		t.Error("an http relay URL was accepted")
	}
}

func TestUploadThroughTheRelay(t *testing.T) {
	r := startRelay(t)
	alice := r.client("alice", "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	blob := bytes.Repeat([]byte{0xa5, 0x5a}, 50_000)
	// No connection needed: the upload is plain HTTP with the token.
	u, err := alice.Upload(ctx, "photo.jpg", blob)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, blob) {
		t.Fatalf("GET %s: %d, %d bytes", u, resp.StatusCode, len(got))
	}

	var ue *UploadError
	_, err = UploadBlob(ctx, r.url(), "mct_wrong", blob)
	if !errors.As(err, &ue) || ue.Status != http.StatusUnauthorized || ue.Code != proto.CodeAuthFailed {
		t.Fatalf("bad token: %v", err)
	}
	_, err = alice.Upload(ctx, "big.bin", make([]byte, relay.DefaultMaxBlob+1))
	if !errors.As(err, &ue) || ue.Status != http.StatusRequestEntityTooLarge || ue.Code != proto.CodeContentTooLarge || ue.Reason == "" {
		t.Fatalf("oversize: %v", err)
	}
}
