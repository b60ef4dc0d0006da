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
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
	"mimichat/relay/store/jetstream"
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

// blobPutTimeout bounds storing an uploaded blob in a cluster's bucket,
// tries again during a leader election included (each try's chunks are
// acked within 5 s or it fails).
const blobPutTimeout = 30 * time.Second

// blobStore is the blobs directory and the per-user reservations of
// uploads in progress (counted against the quota before they are stored).
type blobStore struct {
	dir   string
	db    store.Store
	max   int64
	quota int64

	mu       sync.Mutex
	reserved map[string]int64 // user -> bytes of uploads in progress

	// cluster, if not nil, is the cluster's store: the bytes go to its
	// object store bucket (objects, opened by bucket) instead of dir (which
	// then holds only uploads in progress).
	cluster *jetstream.Store
	log     *slog.Logger // the cluster's reservation releases that failed
	objMu   sync.Mutex
	objects *jetstream.Blobs

	// lastOrphanSweep is when sweepOrphansDue last ran (retention's
	// goroutine only).
	lastOrphanSweep time.Time

	// fileLimit, if > 0, fails a blob file's writes beyond that many bytes
	// with ENOSPC: a full disk on demand, for tests.
	fileLimit int64
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

// blobReservationLife is how long a cluster's reservation of an upload's
// bytes holds at most: the upload's body, its put and metadata write, and
// a margin. A node that dies mid-upload holds the user's quota that long.
const blobReservationLife = blobUploadTimeout + blobPutTimeout + time.Minute

// reserve counts n bytes of an upload by user against its quota: what it
// stored in the last quotaWindow plus uploads in progress (in a cluster,
// on every node: jetstream.Store.ReserveBlobBytes). It returns when the
// quota would allow n bytes again, or zero and the function that releases
// the reservation once the upload has ended.
func (b *blobStore) reserve(ctx context.Context, user string, n int64) (time.Duration, func(), error) {
	if b.quota <= 0 {
		return 0, func() {}, nil
	}
	now := time.Now()
	since := now.Add(-quotaWindow)
	retryAt := func(oldest time.Time) time.Duration {
		if oldest.IsZero() {
			return time.Minute
		}
		return max(time.Until(oldest.Add(quotaWindow)), time.Second)
	}
	if b.cluster != nil {
		id, ok, oldest, err := b.cluster.ReserveBlobBytes(ctx, user, n, b.quota, since, now, now.Add(blobReservationLife))
		if err != nil {
			return 0, nil, fmt.Errorf("relay: blob quota: %w", err)
		}
		if !ok {
			return retryAt(oldest), nil, nil
		}
		return 0, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := b.cluster.ReleaseBlobBytes(ctx, user, id, time.Now()); err != nil {
				b.log.Warn("blob quota: release a reservation (it expires by itself)", "user", user, "err", err)
			}
		}, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	used, oldest, err := b.db.BlobUsage(ctx, user, since)
	if err != nil {
		return 0, nil, fmt.Errorf("relay: blob quota: %w", err)
	}
	if used+b.reserved[user]+n > b.quota {
		return retryAt(oldest), nil, nil
	}
	b.reserved[user] += n
	return 0, func() { b.release(user, n) }, nil
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
	id, known, err := authenticate(r.Context(), s.db, bearer(r))
	switch {
	case err != nil:
		writeBlobError(w, http.StatusServiceUnavailable, proto.CodeInternal, "cannot check the token now")
		return
	case !known:
		w.Header().Set("WWW-Authenticate", `Bearer realm="mimichat"`)
		writeBlobError(w, http.StatusUnauthorized, proto.CodeAuthFailed, "unknown or missing bearer token")
		return
	case id.revoked:
		w.Header().Set("WWW-Authenticate", `Bearer realm="mimichat"`)
		writeBlobError(w, http.StatusUnauthorized, proto.CodeDeviceRevoked, "%s", revokedReason(id.device))
		return
	}
	user := id.user
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
	retry, release, err := b.reserve(r.Context(), user, n)
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
	defer release()
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(blobUploadTimeout))
	info, fault := b.store(r.Context(), user, http.MaxBytesReader(w, r.Body, n), n)
	if fault != nil {
		// The log has the error with its paths; the client gets a reason
		// that names nothing on the server.
		if fault.status >= 500 {
			s.log.Error("blob upload failed", "user", user, "size", n, "err", fault.err)
			w.Header().Set("Retry-After", strconv.Itoa(int(fault.retry.Seconds())))
		} else {
			s.log.Info("blob upload refused", "user", user, "size", n, "err", fault.err)
		}
		writeBlobError(w, fault.status, fault.code, "%s", fault.reason)
		return
	}
	info.URL = blobURL(r, info.ID, s.cfg.TLSCert != "")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", info.URL)
	w.WriteHeader(http.StatusCreated)
	// Not flushed here: the deferred release runs before the answer
	// leaves, so a client that has its 201 finds its quota freed on any
	// node (in a cluster the release is one more replicated write).
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

// uploadFault is why an upload was not stored: what the client is told
// (status, code, a reason naming nothing on the server, when to retry) and
// the error for the log.
type uploadFault struct {
	status int
	code   proto.Code
	reason string
	retry  time.Duration // for 5xx
	err    error
}

// Retry-After of storage failures: a full disk needs an operator, other
// failures may pass at once.
const (
	retryDiskFull = time.Minute
	retryStorage  = 5 * time.Second
)

// storageFault turns a failure to write the blob (file or row) into a
// retryable answer: the client did nothing wrong and the bytes were fine.
func storageFault(err error) *uploadFault {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG) {
		return &uploadFault{status: http.StatusInsufficientStorage, code: proto.CodeInternal,
			reason: "the relay's storage is full; nothing was stored, retry later", retry: retryDiskFull, err: err}
	}
	return &uploadFault{status: http.StatusInternalServerError, code: proto.CodeInternal,
		reason: "storage failed; nothing was stored, retry", retry: retryStorage, err: err}
}

// errReader and errWriter remember which side of the copy failed: a body
// cut off is the client's, a failed write is ours.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// limitedFile fails writes beyond limit bytes with ENOSPC (fileLimit).
type limitedFile struct {
	w       io.Writer
	written int64
	limit   int64
}

func (l *limitedFile) Write(p []byte) (int, error) {
	if l.limit > 0 && l.written+int64(len(p)) > l.limit {
		n, _ := l.w.Write(p[:l.limit-l.written])
		l.written += int64(n)
		return n, &os.PathError{Op: "write", Path: "(blob file)", Err: syscall.ENOSPC}
	}
	n, err := l.w.Write(p)
	l.written += int64(n)
	return n, err
}

// store writes exactly n bytes of body to a new blob: a temp file, fsynced,
// renamed into place, then its row. Any failure removes what was written.
func (b *blobStore) store(ctx context.Context, user string, body io.Reader, n int64) (BlobInfo, *uploadFault) {
	f, err := os.CreateTemp(filepath.Join(b.dir, blobTmp), "up-*")
	if err != nil {
		return BlobInfo{}, storageFault(fmt.Errorf("temp file: %w", err))
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
	in := &errReader{r: body}
	got, err := io.Copy(io.MultiWriter(&limitedFile{w: f, limit: b.fileLimit}, h), in)
	switch {
	case err != nil && in.err == nil:
		return BlobInfo{}, storageFault(fmt.Errorf("write %s: %w", tmp, err))
	case err != nil:
		return BlobInfo{}, &uploadFault{status: http.StatusBadRequest, code: proto.CodeBadField,
			reason: fmt.Sprintf("upload cut off after %d of %d bytes", got, n), err: err}
	case got != n:
		return BlobInfo{}, &uploadFault{status: http.StatusBadRequest, code: proto.CodeBadField,
			reason: fmt.Sprintf("body is %d bytes, Content-Length said %d", got, n), err: errors.New("short body")}
	}
	if err := f.Sync(); err != nil {
		return BlobInfo{}, storageFault(fmt.Errorf("fsync %s: %w", tmp, err))
	}
	if err := f.Close(); err != nil {
		return BlobInfo{}, storageFault(fmt.Errorf("close %s: %w", tmp, err))
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return BlobInfo{}, storageFault(fmt.Errorf("blob id: %w", err))
	}
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	sum := h.Sum(nil)
	if b.cluster != nil {
		// A cluster: the bytes go to the replicated bucket (acked after
		// the quorum's fsync), the temp file is removed by the deferred
		// cleanup. The client going away does not cut the put short.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), blobPutTimeout)
		defer cancel()
		objects, err := b.bucket(pctx)
		if err == nil {
			err = putObject(pctx, objects, id, tmp)
		}
		if err == nil {
			err = b.db.AddBlob(pctx, store.Blob{ID: id, Uploader: user, Size: n, SHA256: sum, Created: time.Now()})
			if err != nil {
				objects.Delete(pctx, id)
			}
		}
		if err != nil {
			return BlobInfo{}, storageFault(fmt.Errorf("store blob: %w", err))
		}
		return BlobInfo{ID: id, Size: n, SHA256: hex.EncodeToString(sum)}, nil
	}
	final := filepath.Join(b.dir, id)
	if err := os.Rename(tmp, final); err != nil {
		return BlobInfo{}, storageFault(fmt.Errorf("rename: %w", err))
	}
	keep = true
	err = syncDir(b.dir)
	if err == nil {
		err = b.db.AddBlob(context.WithoutCancel(ctx), store.Blob{ID: id, Uploader: user, Size: n, SHA256: sum, Created: time.Now()})
	}
	if err != nil {
		os.Remove(final)
		return BlobInfo{}, storageFault(fmt.Errorf("record blob: %w", err))
	}
	return BlobInfo{ID: id, Size: n, SHA256: hex.EncodeToString(sum)}, nil
}

// putObject stores the temp file's bytes in the cluster's bucket as id.
func putObject(ctx context.Context, objects *jetstream.Blobs, id, tmp string) error {
	f, err := os.Open(tmp)
	if err != nil {
		return err
	}
	defer f.Close()
	return objects.Put(ctx, id, f)
}

// bucketOpenTimeout bounds one try to create or find the cluster's blob
// bucket.
const bucketOpenTimeout = 5 * time.Second

// bucket is the cluster's blob bucket, created or found at start or, if
// that failed (the cluster slow to answer under load), on first use: until
// then uploads and downloads get a retryable refusal, and the node starts
// all the same.
func (b *blobStore) bucket(ctx context.Context) (*jetstream.Blobs, error) {
	b.objMu.Lock()
	defer b.objMu.Unlock()
	if b.objects != nil {
		return b.objects, nil
	}
	ctx, cancel := context.WithTimeout(ctx, bucketOpenTimeout)
	defer cancel()
	objects, err := b.cluster.OpenBlobs(ctx)
	if err != nil {
		return nil, err
	}
	b.objects = objects
	return objects, nil
}

// remove deletes blob id's bytes (retention, after its metadata).
func (b *blobStore) remove(ctx context.Context, id string) error {
	if b.cluster != nil {
		objects, err := b.bucket(ctx)
		if err != nil {
			return err
		}
		return objects.Delete(ctx, id)
	}
	if err := os.Remove(filepath.Join(b.dir, id)); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// open returns blob id's bytes (size of them, as its metadata says).
func (b *blobStore) open(ctx context.Context, id string, size int64) (io.ReadSeekCloser, error) {
	if b.cluster != nil {
		objects, err := b.bucket(ctx)
		if err != nil {
			return nil, err
		}
		return objects.Open(ctx, id, size)
	}
	return os.Open(filepath.Join(b.dir, id))
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
	f, err := s.blobs.open(r.Context(), id, meta.Size)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.log.Error("blob bytes missing", "id", id, "err", err)
		writeBlobError(w, http.StatusNotFound, proto.CodeBadField, "no such blob")
		return
	case err != nil:
		// A cluster's bucket that does not answer now (an election).
		s.log.Error("blob bytes unreadable", "id", id, "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(int(retryStorage.Seconds())))
		writeBlobError(w, http.StatusServiceUnavailable, proto.CodeInternal, "storage failed; retry")
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

// blobOrphanAge is how old bytes in a cluster's bucket without metadata
// must be before the sweep deletes them: far beyond any put still running
// (blobPutTimeout bounds a put and its metadata write), so an upload in
// progress on another node is never swept.
const blobOrphanAge = time.Hour

// blobOrphanSweepEvery spaces the orphan sweeps: each reads every object's
// info and metadata, so it runs at start and then at most this often (not
// at every retention sweep).
const blobOrphanSweepEvery = 30 * time.Minute

// sweepOrphans deletes, in a cluster, the bucket's objects and chunks that
// no blob metadata names and that were written before cutoff: left by a
// node that died between the put and the metadata write, or in a put. A
// single node has nothing to do here (its cut-off uploads are temp files,
// removed at start).
func (b *blobStore) sweepOrphans(ctx context.Context, cutoff time.Time) (jetstream.OrphanSweep, error) {
	if b.cluster == nil {
		return jetstream.OrphanSweep{}, nil
	}
	objects, err := b.bucket(ctx)
	if err != nil {
		return jetstream.OrphanSweep{}, err
	}
	return b.cluster.SweepOrphanBlobs(ctx, objects, cutoff)
}

// sweepOrphansDue runs sweepOrphans if blobOrphanSweepEvery passed since
// the last one (the first call always runs).
func (s *Server) sweepOrphansDue(ctx context.Context, now time.Time) {
	b := s.blobs
	if b.cluster == nil || (!b.lastOrphanSweep.IsZero() && now.Sub(b.lastOrphanSweep) < blobOrphanSweepEvery) {
		return
	}
	b.lastOrphanSweep = now
	res, err := b.sweepOrphans(ctx, now.Add(-blobOrphanAge))
	if err != nil {
		s.log.Warn("retention: sweep orphan blob bytes", "err", err) // tried again at the next sweep
		b.lastOrphanSweep = time.Time{}
		return
	}
	if res.Objects+res.Chunks > 0 {
		s.log.Info("retention: deleted blob bytes without metadata", "objects", res.Objects, "chunk_sets", res.Chunks)
	}
}
