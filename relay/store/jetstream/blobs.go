package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"mimichat/relay/store"
)

// Blob metadata lives in the stream; the bytes stay in the relay's data
// directory (docs/cluster.md: a shared blob store for a cluster).

type blobJSON struct {
	ID       string `json:"id"`
	Uploader string `json:"uploader"`
	Size     int64  `json:"size"`
	SHA256   []byte `json:"sha256"`
	Created  int64  `json:"created"` // ms
}

func (b blobJSON) blob() store.Blob {
	return store.Blob{ID: b.ID, Uploader: b.Uploader, Size: b.Size, SHA256: b.SHA256, Created: time.UnixMilli(b.Created)}
}

// AddBlob implements store.Store.
func (s *Store) AddBlob(ctx context.Context, b store.Blob) error {
	fail := func(err error) error { return fmt.Errorf("jetstream store: add blob %s: %w", b.ID, err) }
	e, err := s.getLast(ctx, subjBlob(b.ID))
	if err != nil {
		return fail(err)
	}
	if e.live() {
		return fail(store.ErrExists)
	}
	data, _ := json.Marshal(blobJSON{ID: b.ID, Uploader: b.Uploader, Size: b.Size, SHA256: b.SHA256, Created: b.Created.UnixMilli()})
	_, err = s.publish(ctx, []*nats.Msg{msg(subjBlob(b.ID), data, seqp(e.seq))})
	if isAPI(err, codeWrongLastSeq, codeWrongLastSeqConst) {
		return fail(store.ErrExists)
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// Blob implements store.Store.
func (s *Store) Blob(ctx context.Context, id string) (store.Blob, error) {
	e, err := s.getLast(ctx, subjBlob(id))
	if err != nil {
		return store.Blob{}, fmt.Errorf("jetstream store: blob %s: %w", id, err)
	}
	if !e.live() {
		return store.Blob{}, fmt.Errorf("jetstream store: blob %s: %w", id, store.ErrNotFound)
	}
	var b blobJSON
	if err := json.Unmarshal(e.data, &b); err != nil {
		return store.Blob{}, fmt.Errorf("jetstream store: blob %s: %w", id, err)
	}
	return b.blob(), nil
}

// blobs reads every blob's metadata (usage and retention scan them all:
// uploads are rare next to messages, and the relay asks once per upload).
func (s *Store) blobs(ctx context.Context) ([]store.Blob, error) {
	subjs, err := s.subjects(ctx, "m.blob.*")
	if err != nil {
		return nil, err
	}
	es, err := s.getAll(ctx, subjs)
	if err != nil {
		return nil, err
	}
	out := make([]store.Blob, 0, len(es))
	for _, e := range es {
		var b blobJSON
		if err := json.Unmarshal(e.data, &b); err != nil {
			return nil, err
		}
		out = append(out, b.blob())
	}
	return out, nil
}

// BlobUsage implements store.Store.
func (s *Store) BlobUsage(ctx context.Context, uploader string, since time.Time) (int64, time.Time, error) {
	all, err := s.blobs(ctx)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("jetstream store: blob usage of %s: %w", uploader, err)
	}
	var used int64
	var oldest time.Time
	for _, b := range all {
		if b.Uploader != uploader || b.Created.UnixMilli() <= since.UnixMilli() {
			continue
		}
		used += b.Size
		if oldest.IsZero() || b.Created.Before(oldest) {
			oldest = b.Created
		}
	}
	return used, oldest, nil
}

// DeleteBlobsBefore implements store.Store.
func (s *Store) DeleteBlobsBefore(ctx context.Context, t time.Time) ([]string, error) {
	fail := func(ids []string, err error) ([]string, error) {
		return ids, fmt.Errorf("jetstream store: delete blobs before %v: %w", t, err)
	}
	all, err := s.blobs(ctx)
	if err != nil {
		return fail(nil, err)
	}
	st, err := s.js.Stream(ctx, s.stream)
	if err != nil {
		return fail(nil, err)
	}
	var ids []string
	for _, b := range all {
		if b.Created.UnixMilli() >= t.UnixMilli() {
			continue
		}
		if err := st.Purge(ctx, jetstream.WithPurgeSubject(subjBlob(b.ID))); err != nil {
			return fail(ids, err)
		}
		ids = append(ids, b.ID)
	}
	return ids, nil
}
