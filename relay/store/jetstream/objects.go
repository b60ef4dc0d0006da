package jetstream

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Attachment bytes in a cluster live in a JetStream object store bucket
// beside the stream (docs/cluster.md, "Blobs"): every node can serve every
// blob, and a blob survives the loss of the node that received it. The
// blob's metadata stays in the stream (m.blob.ID, AddBlob); the relay
// writes the bytes first and the metadata after, so metadata never names
// bytes that are not stored (an object without metadata is never served).

// BlobBucket is the object store bucket of attachment bytes (its stream is
// OBJ_MIMI_BLOBS).
const BlobBucket = "MIMI_BLOBS"

// blobOpenRetry bounds how long a download keeps asking for an object
// whose metadata it has read: the object's info is read with a direct get,
// which a replica that has not yet applied the upload answers "not found".
const blobOpenRetry = 10 * time.Second

// Blobs is the bucket of attachment bytes.
type Blobs struct {
	obs    jetstream.ObjectStore
	stream jetstream.Stream // the bucket's
	js     jetstream.JetStream
	nc     *nats.Conn
}

// OpenBlobs creates the bucket (file storage, as many replicas as the
// relay's stream has) or binds to it, retrying while the cluster elects
// its leaders; ctx bounds it.
func (s *Store) OpenBlobs(ctx context.Context) (*Blobs, error) {
	var last error
	for {
		obs, err := s.openBlobsOnce(ctx)
		var st jetstream.Stream
		if err == nil {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			st, err = s.js.Stream(sctx, "OBJ_"+BlobBucket)
			cancel()
		}
		if err == nil {
			return &Blobs{obs: obs, stream: st, js: s.js, nc: s.nc}, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("jetstream store: blob bucket %s: %w", BlobBucket, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (s *Store) openBlobsOnce(ctx context.Context) (jetstream.ObjectStore, error) {
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// An existing bucket is kept as it is (like the stream: an operator may
	// have changed its replicas).
	obs, err := s.js.ObjectStore(actx, BlobBucket)
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return obs, err
	}
	st, err := s.js.Stream(actx, s.stream)
	if err != nil {
		return nil, err
	}
	return s.js.CreateObjectStore(actx, jetstream.ObjectStoreConfig{
		Bucket:      BlobBucket,
		Description: "mimichat relay attachment bytes (metadata in stream " + s.stream + ")",
		Storage:     jetstream.FileStorage,
		Replicas:    st.CachedInfo().Config.Replicas,
	})
}

// Put stores r's bytes as object id. It returns after every chunk and the
// object's info were acked by the bucket's stream: in a cluster, stored and
// fsynced on a quorum of its replicas. A put that got no answer (the
// bucket's leader died: an election) is tried again from the start of r,
// under a new object NUID, until ctx ends; the chunks of a failed try are
// purged when the bucket answers (never served otherwise: no info names
// them).
//
// Not nats.go's ObjectStore.Put: it publishes the chunks asynchronously and
// publishes a chunk that met "no responders" (an election) again 250 ms
// later, after the chunks behind it were stored, so the object's chunks
// were stored out of order and it could never be read back (digest
// mismatch; TestClusterBlobsSurviveKill met it in 2 runs of 5). Here a
// chunk is never published twice within a try, and the try fails unless
// the stream sequences of the acks rise in chunk order.
func (b *Blobs) Put(ctx context.Context, id string, r io.ReadSeeker) error {
	for {
		err := b.putOnce(ctx, id, r)
		if err == nil {
			return nil
		}
		if !putRetryable(err) || ctx.Err() != nil {
			return fmt.Errorf("jetstream store: put blob %s: %w", id, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("jetstream store: put blob %s: %w", id, err)
		case <-time.After(250 * time.Millisecond):
		}
		if _, serr := r.Seek(0, io.SeekStart); serr != nil {
			return fmt.Errorf("jetstream store: put blob %s: %w", id, serr)
		}
	}
}

// blobChunk is the size of an object's chunks (nats.go's default).
const blobChunk = 128 << 10

// putAckWait is how long a put waits for the next chunk's ack.
const putAckWait = 5 * time.Second

// putSettle bounds how long a failed put waits for its chunks in flight
// before purging them.
const putSettle = 500 * time.Millisecond

// errChunkOrder: the acks' stream sequences did not follow chunk order.
var errChunkOrder = errors.New("chunks stored out of order")

func (b *Blobs) putOnce(ctx context.Context, id string, r io.Reader) (err error) {
	objNUID := nuid.Next()
	chunkSubj := fmt.Sprintf("$O.%s.C.%s", BlobBucket, objNUID)
	var futures []jetstream.PubAckFuture
	answered := 0 // futures[:answered] have given their answer
	defer func() {
		if err != nil {
			// Chunks still in flight would land after the purge: wait
			// briefly for their answers first (a dead leader answers
			// none, and the retry must not wait for it; whatever lands
			// after the purge is left to SweepOrphanBlobs).
			settle := time.After(putSettle)
		wait:
			for _, f := range futures[answered:] {
				select {
				case <-f.Ok():
				case <-f.Err():
				case <-settle:
					break wait
				}
			}
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*attemptTimeout)
			b.stream.Purge(pctx, jetstream.WithPurgeSubject(chunkSubj))
			cancel()
		}
	}()
	h := sha256.New()
	var size uint64
	for {
		buf := make([]byte, blobChunk)
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			m := nats.NewMsg(chunkSubj)
			m.Data = buf[:n]
			f, err := b.js.PublishMsgAsync(m, jetstream.WithRetryAttempts(0))
			if err != nil {
				return err
			}
			futures = append(futures, f)
			h.Write(m.Data)
			size += uint64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	var last uint64
	for _, f := range futures {
		select {
		case a := <-f.Ok():
			answered++
			if a.Sequence <= last {
				return errChunkOrder
			}
			last = a.Sequence
		case err := <-f.Err():
			answered++
			return err
		case <-time.After(putAckWait):
			return jetstream.ErrAsyncPublishTimeout
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	info := jetstream.ObjectInfo{
		ObjectMeta: jetstream.ObjectMeta{Name: id, Opts: &jetstream.ObjectMetaOptions{ChunkSize: blobChunk}},
		Bucket:     BlobBucket, NUID: objNUID, Size: size, ModTime: time.Now().UTC(),
		Chunks: uint32(len(futures)), Digest: jetstream.GetObjectDigestValue(h),
	}
	mm := nats.NewMsg(fmt.Sprintf("$O.%s.M.%s", BlobBucket, base64.URLEncoding.EncodeToString([]byte(id))))
	mm.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	if mm.Data, err = json.Marshal(info); err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, putAckWait)
	defer cancel()
	_, err = b.js.PublishMsg(actx, mm, jetstream.WithRetryAttempts(0))
	return err
}

// putRetryable: the put got no answer (no leader now), not a refusal.
func putRetryable(err error) bool {
	return retryable(err) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, jetstream.ErrAsyncPublishTimeout) || errors.Is(err, nats.ErrNoResponders)
}

// Delete removes object id (a missing one is not an error).
func (b *Blobs) Delete(ctx context.Context, id string) error {
	err := b.obs.Delete(ctx, id)
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("jetstream store: delete blob %s: %w", id, err)
	}
	return nil
}

// Open returns object id's bytes as a ReadSeeker of size bytes (for
// http.ServeContent, which seeks for ranges). The object's info is read at
// once, so that a missing object or an unreachable bucket is an error here
// rather than a response cut short (fs.ErrNotExist if the bucket has no
// such object). Its chunks are then read with direct gets, a few at a
// time, each answered by any replica and asked again (of another) when
// none answers in time: no consumer, so a download needs neither the
// bucket's leader nor the cluster's meta leader, and the loss of a node
// costs a download at most a retry. The SHA-256 digest is checked at the
// end.
func (b *Blobs) Open(ctx context.Context, id string, size int64) (*BlobReader, error) {
	r := &BlobReader{ctx: ctx, b: b, id: id, size: size}
	deadline := time.Now().Add(blobOpenRetry)
	for {
		ictx, cancel := context.WithTimeout(ctx, attemptTimeout)
		info, err := b.obs.GetInfo(ictx, id)
		cancel()
		if err == nil {
			if info.Size != uint64(size) {
				return nil, fmt.Errorf("jetstream store: blob %s holds %d bytes, its metadata says %d", id, info.Size, size)
			}
			r.info = info
			r.restart()
			// The first chunks now: a failure is then an answer (503)
			// rather than a 200 cut short.
			if err := r.fill(); err != nil {
				return nil, err
			}
			return r, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if errors.Is(err, jetstream.ErrObjectNotFound) {
				err = fmt.Errorf("%w: %w", fs.ErrNotExist, err)
			}
			return nil, fmt.Errorf("jetstream store: blob %s: %w", id, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// chunksPerGet is how many chunks one direct get asks for (1 MiB).
const chunksPerGet = 8

// BlobReader reads an object from an offset: a seek backwards reads the
// object again from its first chunk and skips to the offset.
type BlobReader struct {
	ctx  context.Context
	b    *Blobs
	id   string
	size int64
	info *jetstream.ObjectInfo

	next   uint64    // stream sequence to ask for the next chunks from
	chunks uint32    // chunks read so far
	buf    []byte    // the current chunk's unread bytes
	sum    hash.Hash // of the chunks read so far
	pos    int64     // bytes read from the object so far
	off    int64     // the reader's position
}

func (r *BlobReader) restart() {
	r.next, r.chunks, r.buf, r.pos, r.sum = 0, 0, nil, 0, sha256.New()
}

// Read implements io.Reader.
func (r *BlobReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if r.off < r.pos {
		r.restart()
	}
	for r.pos < r.off || len(r.buf) == 0 {
		if len(r.buf) == 0 {
			if err := r.fill(); err != nil {
				return 0, err
			}
			continue
		}
		skip := min(int64(len(r.buf)), r.off-r.pos)
		r.buf, r.pos = r.buf[skip:], r.pos+skip
	}
	n := copy(p, r.buf)
	r.buf, r.pos = r.buf[n:], r.pos+int64(n)
	r.off = r.pos
	return n, nil
}

// fill reads the next chunks (retrying, bounded by blobOpenRetry), and at
// the last one checks the digest.
func (r *BlobReader) fill() error {
	if r.chunks >= r.info.Chunks {
		if r.info.Chunks == 0 {
			return io.EOF
		}
		return fmt.Errorf("jetstream store: blob %s: read past its %d chunks", r.id, r.info.Chunks)
	}
	subj := fmt.Sprintf("$O.%s.C.%s", BlobBucket, r.info.NUID)
	stream := "OBJ_" + BlobBucket
	want := min(chunksPerGet, int(r.info.Chunks-r.chunks))
	deadline := time.Now().Add(blobOpenRetry)
	for try := 0; ; try++ {
		actx, cancel := context.WithTimeout(r.ctx, attemptTimeout)
		var got []entry
		var err error
		if try%2 == 0 {
			got, err = directBatch(actx, r.b.nc, stream, subj, r.next, want)
		} else {
			// The replica that answered (the local one, as a rule) had
			// nothing, or none answered: a replica that is not current
			// ignores direct gets, one that lags has not applied the
			// upload. Ask the leader for one chunk.
			got, err = leaderNext(actx, r.b.nc, stream, subj, r.next)
		}
		cancel()
		if err == nil && len(got) == 0 {
			err = fmt.Errorf("chunk %d of %d not found", r.chunks+1, r.info.Chunks)
		}

		if err == nil {
			var data []byte
			for _, e := range got {
				data = append(data, e.data...)
				r.next = e.seq + 1
				r.chunks++
			}
			r.sum.Write(data)
			r.buf = data
			if r.chunks == r.info.Chunks {
				if jetstream.GetObjectDigestValue(r.sum) != r.info.Digest {
					return fmt.Errorf("jetstream store: blob %s: %w", r.id, jetstream.ErrDigestMismatch)
				}
			}
			return nil
		}
		if time.Now().After(deadline) || r.ctx.Err() != nil {
			return fmt.Errorf("jetstream store: read blob %s: %w", r.id, err)
		}
		select {
		case <-r.ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// directBatch asks any replica of stream for up to max messages on subj
// from stream sequence start on (one direct-get batch request).
func directBatch(ctx context.Context, nc *nats.Conn, stream, subj string, start uint64, max int) ([]entry, error) {
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	req, _ := json.Marshal(struct {
		Seq   uint64 `json:"seq"`
		Next  string `json:"next_by_subj"`
		Batch int    `json:"batch"`
	}{start, subj, max})
	if err := nc.PublishRequest("$JS.API.DIRECT.GET."+stream, inbox, req); err != nil {
		return nil, err
	}
	var out []entry
	for len(out) < max {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return nil, err
		}
		if st := m.Header.Get(hdrStatus); st != "" {
			if st == "204" || st == "404" {
				return out, nil
			}
			return nil, fmt.Errorf("status %s %s", st, m.Header.Get("Description"))
		}
		seq, err := strconv.ParseUint(m.Header.Get(hdrStreamSeq), 10, 64)
		if err != nil {
			return nil, errors.New("bad sequence header")
		}
		out = append(out, entry{data: m.Data, hdr: m.Header, seq: seq})
	}
	return out, nil
}

// leaderNext asks stream's leader for the first message on subj from
// stream sequence start on.
func leaderNext(ctx context.Context, nc *nats.Conn, stream, subj string, start uint64) ([]entry, error) {
	req, _ := json.Marshal(struct {
		Seq  uint64 `json:"seq"`
		Next string `json:"next_by_subj"`
	}{start, subj})
	resp, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+stream, req)
	if err != nil {
		return nil, err
	}
	var a struct {
		Error   *apiError `json:"error"`
		Message *struct {
			Seq  uint64 `json:"seq"`
			Data []byte `json:"data"`
		} `json:"message"`
	}
	if err := json.Unmarshal(resp.Data, &a); err != nil {
		return nil, err
	}
	switch {
	case a.Error != nil && a.Error.ErrCode == codeNoMessage:
		return nil, nil
	case a.Error != nil:
		return nil, a.Error
	case a.Message == nil:
		return nil, errors.New("empty answer")
	}
	return []entry{{data: a.Message.Data, seq: a.Message.Seq}}, nil
}

// Seek implements io.Seeker; it only moves the offset.
func (r *BlobReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("jetstream store: blob seek: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("jetstream store: blob seek: negative offset")
	}
	r.off = offset
	return offset, nil
}

// Close implements io.Closer.
func (r *BlobReader) Close() error { return nil }

// Exists reports whether the bucket holds object id, as the replica that
// answers the direct get knows it (one that lags may not know the newest
// change yet).
func (b *Blobs) Exists(ctx context.Context, id string) (bool, error) {
	_, err := b.obs.GetInfo(ctx, id)
	switch {
	case errors.Is(err, jetstream.ErrObjectNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("jetstream store: blob %s: %w", id, err)
	}
	return true, nil
}
