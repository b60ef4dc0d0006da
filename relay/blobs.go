package relay

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
)

// The blob store keeps encrypted attachments (content-08 external parts) for
// the relay's users on the relay's own listener: POST /v1/blobs with a
// user's bearer token stores the body and answers its URL; GET
// /v1/blobs/{id} serves it to anyone holding the URL. The id is 128 random
// bits, so the URL is an unguessable capability, and the bytes are already
// encrypted with a key that travels only inside the message: the relay can
// neither read a blob nor tell whose room it belongs to. docs/relay.md has
// the alternative (authenticated, room-scoped downloads) and why not.

// BlobDir is the blob directory inside the data directory.
const BlobDir = "blobs"

// blobTmp holds uploads in progress; it is emptied at start.
const blobTmp = ".tmp"

// quotaWindow is the period BlobQuota counts uploaded bytes over.
const quotaWindow = 24 * time.Hour

// blobUploadTimeout bounds one upload's body, so a stalled client cannot
// hold a temp file and a quota reservation for ever.
const blobUploadTimeout = 5 * time.Minute

// blobStore is the blobs directory and the per-user reservations of
// uploads in progress (counted against the quota before they are stored).
type blobStore struct {
	dir   string
	db    store.Store
	max   int64
	quota int64

	mu       sync.Mutex
	reserved map[string]int64 // user -> bytes of uploads in progress
}

func openBlobs(data string, db store.Store, max, quota int64) (*blobStore, error) {
	dir := filepath.Join(data, BlobDir)
	tmp := filepath.Join(dir, blobTmp)
	// Uploads cut off by a crash left their temp files: nothing refers to them.
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("relay: clear %s: %w", tmp, err)
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("relay: blob dir: %w", err)
	}
	return &blobStore{dir: dir, db: db, max: max, quota: quota, reserved: map[string]int64{}}, nil
}

// blobError is the JSON body of a refused blob request; Code is a proto code.
type blobError struct {
	Code   proto.Code `json:"code"`
	Reason string     `json:"reason"`
}

func writeBlobError(w http.ResponseWriter, status int, code proto.Code, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(blobError{Code: code, Reason: fmt.Sprintf(format, args...)})
}

// BlobInfo answers an upload.
type BlobInfo struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
}

// reserve counts n bytes of an upload by user against its quota: what it
// stored in the last quotaWindow plus uploads in progress. It returns when
// the quota would allow n bytes again, or zero if it was reserved.
func (b *blobStore) reserve(ctx context.Context, user string, n int64) (time.Duration, error) {
	if b.quota <= 0 {
		return 0, nil
	}
	since := time.Now().Add(-quotaWindow)
	b.mu.Lock()
	defer b.mu.Unlock()
	used, oldest, err := b.db.BlobUsage(ctx, user, since)
	if err != nil {
		return 0, fmt.Errorf("relay: blob quota: %w", err)
	}
	if used+b.reserved[user]+n > b.quota {
		retry := time.Minute
		if !oldest.IsZero() {
			retry = max(time.Until(oldest.Add(quotaWindow)), time.Second)
		}
		return retry, nil
	}
	b.reserved[user] += n
	return 0, nil
}

func (b *blobStore) release(user string, n int64) {
	if b.quota <= 0 {
		return
	}
	b.mu.Lock()
	if b.reserved[user] -= n; b.reserved[user] <= 0 {
		delete(b.reserved, user)
	}
	b.mu.Unlock()
}

// upload handles POST /v1/blobs.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	b := s.blobs
	user, err := authenticate(r.Context(), s.db, bearer(r))
	switch {
	case err != nil:
		writeBlobError(w, http.StatusServiceUnavailable, proto.CodeInternal, "cannot check the token now")
		return
	case user == "":
		w.Header().Set("WWW-Authenticate", `Bearer realm="mimichat"`)
		writeBlobError(w, http.StatusUnauthorized, proto.CodeAuthFailed, "unknown or missing bearer token")
		return
	}
	n := r.ContentLength
	switch {
	case n < 0:
		writeBlobError(w, http.StatusLengthRequired, proto.CodeBadField, "an upload needs a Content-Length")
		return
	case n == 0:
		writeBlobError(w, http.StatusBadRequest, proto.CodeBadField, "empty upload")
		return
	case n > b.max:
		w.Header().Set("Connection", "close") // do not read the body
		writeBlobError(w, http.StatusRequestEntityTooLarge, proto.CodeContentTooLarge, "a blob is at most %d bytes; this one is %d", b.max, n)
		return
	}
	retry, err := b.reserve(r.Context(), user, n)
	if err != nil {
		s.log.Error("blob quota", "user", user, "err", err)
		writeBlobError(w, http.StatusInternalServerError, proto.CodeInternal, "storage failed; retry")
		return
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds()+0.5)))
		w.Header().Set("Connection", "close")
		writeBlobError(w, http.StatusTooManyRequests, proto.CodeRateLimited, "upload quota of %d bytes per %v used up", b.quota, quotaWindow)
		return
	}
	defer b.release(user, n)
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(blobUploadTimeout))
	info, status, err := b.store(r.Context(), user, http.MaxBytesReader(w, r.Body, n), n)
	if err != nil {
		s.log.Info("blob upload refused", "user", user, "size", n, "err", err)
		code := proto.CodeInternal
		if status < 500 {
			code = proto.CodeBadField
		}
		writeBlobError(w, status, code, "%v", err)
		return
	}
	info.URL = blobURL(r, info.ID, s.cfg.TLSCert != "")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", info.URL)
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(info)
}

// blobURL is the blob's URL as the uploading client reached the relay.
// (r.TLS is nil even with TLS: the listener wraps the TLS connection.)
func blobURL(r *http.Request, id string, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/v1/blobs/" + id
}

// store writes exactly n bytes of body to a new blob: a temp file, fsynced,
// renamed into place, then its row. Any failure removes what was written.
func (b *blobStore) store(ctx context.Context, user string, body io.Reader, n int64) (BlobInfo, int, error) {
	f, err := os.CreateTemp(filepath.Join(b.dir, blobTmp), "up-*")
	if err != nil {
		return BlobInfo{}, http.StatusInternalServerError, fmt.Errorf("temp file: %w", err)
	}
	tmp := f.Name()
	keep := false
	defer func() {
		if !keep {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	got, err := io.Copy(io.MultiWriter(f, h), body)
	switch {
	case err != nil:
		return BlobInfo{}, http.StatusBadRequest, fmt.Errorf("upload cut off after %d of %d bytes: %w", got, n, err)
	case got != n:
		return BlobInfo{}, http.StatusBadRequest, fmt.Errorf("body is %d bytes, Content-Length said %d", got, n)
	}
	if err := f.Sync(); err != nil {
		return BlobInfo{}, http.StatusInternalServerError, fmt.Errorf("fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return BlobInfo{}, http.StatusInternalServerError, fmt.Errorf("close: %w", err)
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return BlobInfo{}, http.StatusInternalServerError, fmt.Errorf("blob id: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	final := filepath.Join(b.dir, id)
	if err := os.Rename(tmp, final); err != nil {
		return BlobInfo{}, http.StatusInternalServerError, fmt.Errorf("rename: %w", err)
	}
	keep = true
	sum := h.Sum(nil)
	err = syncDir(b.dir)
	if err == nil {
		err = b.db.AddBlob(context.WithoutCancel(ctx), store.Blob{ID: id, Uploader: user, Size: n, SHA256: sum, Created: time.Now()})
	}
	if err != nil {
		os.Remove(final)
		return BlobInfo{}, http.StatusInternalServerError, fmt.Errorf("record blob: %w", err)
	}
	return BlobInfo{ID: id, Size: n, SHA256: hex.EncodeToString(sum)}, http.StatusCreated, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// validBlobID: 22 characters of base64url, 128 bits.
func validBlobID(id string) bool {
	if len(id) != 22 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil && len(raw) == 16
}

// download handles GET /v1/blobs/{id}; ranges and If-None-Match come from
// http.ServeContent.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var meta store.Blob
	if validBlobID(id) {
		var err error
		meta, err = s.db.Blob(r.Context(), id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Error("blob lookup", "err", err)
			writeBlobError(w, http.StatusInternalServerError, proto.CodeInternal, "storage failed; retry")
			return
		}
	}
	if meta.SHA256 == nil {
		writeBlobError(w, http.StatusNotFound, proto.CodeBadField, "no such blob")
		return
	}
	f, err := os.Open(filepath.Join(s.blobs.dir, id))
	if err != nil {
		s.log.Error("blob file missing", "id", id, "err", err)
		writeBlobError(w, http.StatusNotFound, proto.CodeBadField, "no such blob")
		return
	}
	defer f.Close()
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Disposition", "attachment")
	hd.Set("Cache-Control", "private, max-age=31536000, immutable")
	hd.Set("ETag", `"`+hex.EncodeToString(meta.SHA256)+`"`)
	http.ServeContent(w, r, "", meta.Created, f)
}
