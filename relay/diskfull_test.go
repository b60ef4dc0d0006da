package relay

import (
	"net/http"
	"strings"
	"testing"
)

// TestBlobDiskFullIsRetryable: a disk that fills during an upload (a write
// fails with ENOSPC) is answered 507 internal with Retry-After, a reason
// that names nothing on the server, and leaves no file, temp file or row;
// the next upload that fits is stored.
func TestBlobDiskFullIsRetryable(t *testing.T) {
	s := startRelay(t, Config{blobFileLimit: 64 << 10})
	tok := addUser(t, s.Store(), "alice")
	status, _, ref, retry := postBlob(t, s.Addr(), tok, make([]byte, 200<<10))
	if status != http.StatusInsufficientStorage || ref.Code != "internal" || retry == "" || retry == "0" {
		t.Fatalf("upload on a full disk: %d %+v Retry-After %q; want 507 internal with Retry-After", status, ref, retry)
	}
	if strings.Contains(ref.Reason, s.cfg.Data) || strings.ContainsAny(ref.Reason, "/\\") {
		t.Fatalf("reason %q names a server path", ref.Reason)
	}
	if files, temps, rows := blobsOnDisk(t, s); files+temps+rows != 0 {
		t.Fatalf("after a failed upload: %d files, %d temp files, %d rows", files, temps, rows)
	}
	if status, _, _, _ := postBlob(t, s.Addr(), tok, make([]byte, 32<<10)); status != http.StatusCreated {
		t.Fatalf("upload that fits: %d", status)
	}
}

// TestBlobErrorsNameNoServerPath: every refusal of the blob endpoints,
// with the data directory in a recognisable place, carries no path.
func TestBlobErrorsNameNoServerPath(t *testing.T) {
	s := startRelay(t, Config{blobFileLimit: 1, MaxBlob: 1 << 20})
	tok := addUser(t, s.Store(), "alice")
	for _, tc := range []struct {
		name  string
		token string
		body  []byte
	}{
		{"no token", "", []byte("x")},
		{"empty", tok, nil},
		{"too large", tok, make([]byte, 2<<20)},
		{"disk full", tok, make([]byte, 10)},
	} {
		status, _, ref, _ := postBlob(t, s.Addr(), tc.token, tc.body)
		if status < 400 || strings.Contains(ref.Reason, s.cfg.Data) || strings.Contains(ref.Reason, "/.tmp") || strings.Contains(ref.Reason, "up-") {
			t.Errorf("%s: %d %q", tc.name, status, ref.Reason)
		}
	}
}
