package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
)

// postBlob uploads body with token ("" for none) and returns the response
// status, the decoded answer or refusal, and the Retry-After header.
func postBlob(t *testing.T, addr, token string, body []byte) (int, BlobInfo, blobError, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/blobs", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var info BlobInfo
	var ref blobError
	if resp.StatusCode == http.StatusCreated {
		if err := json.Unmarshal(raw, &info); err != nil {
			t.Fatalf("answer %q: %v", raw, err)
		}
		if resp.Header.Get("Location") != info.URL {
			t.Errorf("Location %q, url %q", resp.Header.Get("Location"), info.URL)
		}
	} else if err := json.Unmarshal(raw, &ref); err != nil || ref.Code == "" || ref.Reason == "" {
		t.Fatalf("refusal %d without a code and reason: %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, info, ref, resp.Header.Get("Retry-After")
}

// blobsOnDisk counts blob files and temp files, and blobs recorded in the
// store. Recorded blobs are counted through their files; the bytes the
// store records for all users must equal those files' sizes, so a record
// without a file fails the test.
func blobsOnDisk(t *testing.T, s *Server) (files, temps, rows int) {
	t.Helper()
	ents, err := os.ReadDir(s.blobs.dir)
	if err != nil {
		t.Fatal(err)
	}
	var recordedFiles int64
	for _, e := range ents {
		if e.Name() == blobTmp {
			continue
		}
		files++
		b, err := s.db.Blob(t.Context(), e.Name())
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rows++
		recordedFiles += b.Size
	}
	tmps, err := os.ReadDir(filepath.Join(s.blobs.dir, blobTmp))
	if err != nil {
		t.Fatal(err)
	}
	users, err := s.db.Users(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var recorded int64
	for _, u := range users {
		n, _, err := s.db.BlobUsage(t.Context(), u.URI, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		recorded += n
	}
	if recorded != recordedFiles {
		t.Fatalf("the store records %d blob bytes, the recorded files hold %d", recorded, recordedFiles)
	}
	return files, len(tmps), rows
}

func TestBlobRoundTrip(t *testing.T) {
	s := startRelay(t, Config{})
	tok := addUser(t, s.Store(), "alice")
	body := bytes.Repeat([]byte("ciphertext\x00\xff"), 1000)
	status, info, ref, _ := postBlob(t, s.Addr(), tok, body)
	if status != http.StatusCreated {
		t.Fatalf("upload: %d %+v", status, ref)
	}
	id := strings.TrimPrefix(info.URL, "http://"+s.Addr()+"/v1/blobs/")
	if !validBlobID(id) || info.ID != id || info.Size != int64(len(body)) || len(info.SHA256) != 64 {
		t.Fatalf("answer %+v", info)
	}
	resp, err := http.Get(info.URL) // the URL is the capability: no token
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("GET: %d, %d bytes", resp.StatusCode, len(got))
	}
	if h.Get("Content-Type") != "application/octet-stream" || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("Content-Length") != fmt.Sprint(len(body)) || h.Get("ETag") != `"`+info.SHA256+`"` {
		t.Fatalf("headers %v", h)
	}
	req, _ := http.NewRequest(http.MethodGet, info.URL, nil)
	req.Header.Set("Range", "bytes=10-21")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, body[10:22]) {
		t.Fatalf("range: %d %q", resp.StatusCode, part)
	}
	for _, bad := range []string{"AAAAAAAAAAAAAAAAAAAAAA", "nope", strings.Repeat("A", 23), "..%2F" + DBFile} {
		resp, err := http.Get("http://" + s.Addr() + "/v1/blobs/" + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", bad, resp.StatusCode)
		}
	}
	if files, temps, rows := blobsOnDisk(t, s); files != 1 || temps != 0 || rows != 1 {
		t.Fatalf("%d files, %d temps, %d rows", files, temps, rows)
	}
}

func TestBlobRefusals(t *testing.T) {
	s := startRelay(t, Config{MaxBlob: 4096, BlobQuota: 10_000})
	tok := addUser(t, s.Store(), "alice")
	other := addUser(t, s.Store(), "bob")
	small := bytes.Repeat([]byte{7}, 4000)
	cases := []struct {
		name   string
		token  string
		body   []byte
		status int
		code   proto.Code
	}{
		{"no token", "", small, 401, proto.CodeAuthFailed},
		{"bad token", "mct_nope", small, 401, proto.CodeAuthFailed},
		{"oversize", tok, make([]byte, 4097), 413, proto.CodeContentTooLarge},
		{"empty", tok, nil, 400, proto.CodeBadField},
		{"first", tok, small, 201, ""},
		{"second", tok, small, 201, ""},
		{"over the quota", tok, small, 429, proto.CodeRateLimited},
		{"another user's quota", other, small, 201, ""},
		{"what is left", tok, small[:2000], 201, ""},
	}
	for _, c := range cases {
		status, _, ref, retry := postBlob(t, s.Addr(), c.token, c.body)
		if status != c.status || ref.Code != c.code {
			t.Fatalf("%s: %d %+v; want %d %s", c.name, status, ref, c.status, c.code)
		}
		if c.status == 429 && (retry == "" || retry == "0") {
			t.Errorf("%s: Retry-After %q", c.name, retry)
		}
	}
	if files, temps, rows := blobsOnDisk(t, s); files != 4 || temps != 0 || rows != 4 {
		t.Fatalf("%d files, %d temps, %d rows; want only the 4 accepted", files, temps, rows)
	}
}

// An upload cut off midway leaves neither a file nor a row, and frees its
// quota reservation.
func TestBlobInterruptedUpload(t *testing.T) {
	s := startRelay(t, Config{BlobQuota: 150_000})
	tok := addUser(t, s.Store(), "alice")
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST /v1/blobs HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: 100000\r\n\r\n", s.Addr(), tok)
	c.Write(bytes.Repeat([]byte{1}, 30_000))
	deadline := time.Now().Add(5 * time.Second)
	for { // the upload is under way once its temp file exists
		if _, temps, _ := blobsOnDisk(t, s); temps == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no temp file for the upload in progress")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.Close()
	for {
		files, temps, rows := blobsOnDisk(t, s)
		s.blobs.mu.Lock()
		reserved := s.blobs.reserved["mimi://example.com/u/alice"]
		s.blobs.mu.Unlock()
		if files == 0 && temps == 0 && rows == 0 && reserved == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the cut: %d files, %d temps, %d rows, %d bytes reserved", files, temps, rows, reserved)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The reservation is gone: the whole quota is available again.
	if status, _, ref, _ := postBlob(t, s.Addr(), tok, make([]byte, 100_000)); status != 201 {
		t.Fatalf("upload after the cut: %d %+v", status, ref)
	}
}

// Temp files of uploads cut off by a crash are removed at the next start.
func TestBlobTempSweptAtStart(t *testing.T) {
	dir := t.TempDir()
	s := startRelay(t, Config{Data: dir})
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, BlobDir, blobTmp, "up-123")
	if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	startRelay(t, Config{Data: dir})
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale temp file still there: %v", err)
	}
}

// BenchmarkBlobUpload: one 1 MiB upload, fsynced file and row, end to end
// over loopback HTTP.
func BenchmarkBlobUpload(b *testing.B) {
	s := startRelay(b, Config{BlobQuota: -1})
	tok := addUser(b, s.Store(), "alice")
	body := bytes.Repeat([]byte{0x5a}, 1<<20)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+"/v1/blobs", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
