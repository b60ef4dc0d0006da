package jetstream

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Orphan objects. An upload puts the bytes into the bucket first and the
// blob's metadata (m.blob.ID) into the stream after (objects.go), so a node
// that dies, or whose metadata write fails and whose cleanup fails too,
// leaves bytes that no metadata names: a whole object (chunks and info)
// between the two writes, or chunks without an info in the middle of a
// put. Neither is ever served; SweepOrphanBlobs deletes them.
//
// An upload in progress on another node looks the same until its metadata
// lands, so only bytes older than a cutoff are swept: the caller passes a
// cutoff well before any put still running (a put and its metadata write
// are bounded by the relay's 30 s blobPutTimeout). The age of an object is
// its info's stream timestamp; of a chunk set, its newest chunk's.

// OrphanSweep counts what SweepOrphanBlobs deleted and kept.
type OrphanSweep struct {
	Objects  int // objects (info and chunks) without metadata, deleted
	Chunks   int // chunk sets without an info, purged
	TooYoung int // orphans newer than the cutoff, kept (an upload in progress, maybe)
}

// SweepOrphanBlobs deletes b's objects that the stream has no metadata for
// and chunk sets that no object's info names, when they were written
// before cutoff. It reads every object's info once (one ordered consumer)
// and the metadata of every object (multi-subject direct gets, then the
// leader's answer for each candidate before it is deleted).
func (s *Store) SweepOrphanBlobs(ctx context.Context, b *Blobs, cutoff time.Time) (OrphanSweep, error) {
	var res OrphanSweep
	fail := func(err error) (OrphanSweep, error) {
		return res, fmt.Errorf("jetstream store: sweep orphan blobs: %w", err)
	}
	lister, err := b.obs.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		return fail(err)
	}
	infos := map[string]*jetstream.ObjectInfo{} // live objects by name
	named := map[string]bool{}                  // chunk NUIDs that an info names
	for _, info := range lister {
		infos[info.Name] = info
		named[info.NUID] = true
	}
	// Objects without metadata: a first pass from any replica, the leader's
	// word for each candidate.
	names := make([]string, 0, len(infos))
	for name := range infos {
		names = append(names, name)
	}
	var candidates []string
	for len(names) > 0 {
		n := min(len(names), maxMultiLast)
		subjs := make([]string, n)
		for i, name := range names[:n] {
			subjs[i] = subjBlob(name)
		}
		found, err := s.directLastOf(ctx, subjs)
		if err != nil {
			return fail(err)
		}
		for i, subj := range subjs {
			if e, ok := found[subj]; !ok || len(e.data) == 0 {
				candidates = append(candidates, names[i])
			}
		}
		names = names[n:]
	}
	for _, name := range candidates {
		e, err := s.getLast(ctx, subjBlob(name))
		if err != nil {
			return fail(err)
		}
		if e.live() {
			continue
		}
		written, err := b.written(ctx, fmt.Sprintf("$O.%s.M.%s", BlobBucket, base64.URLEncoding.EncodeToString([]byte(name))))
		if err != nil {
			return fail(err)
		}
		if !written.Before(cutoff) {
			res.TooYoung++
			continue
		}
		if err := b.Delete(ctx, name); err != nil {
			return fail(err)
		}
		res.Objects++
	}
	// Chunk sets no info names (listed after the infos: a put that
	// finished in between is unnamed here, but newer than the cutoff).
	st, err := b.stream.Info(ctx, jetstream.WithSubjectFilter(fmt.Sprintf("$O.%s.C.*", BlobBucket)))
	if err != nil {
		return fail(err)
	}
	prefix := fmt.Sprintf("$O.%s.C.", BlobBucket)
	for subj := range st.State.Subjects {
		if named[strings.TrimPrefix(subj, prefix)] {
			continue
		}
		written, err := b.written(ctx, subj)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // purged meanwhile
		}
		if err != nil {
			return fail(err)
		}
		if !written.Before(cutoff) {
			res.TooYoung++
			continue
		}
		if err := b.stream.Purge(ctx, jetstream.WithPurgeSubject(subj)); err != nil {
			return fail(err)
		}
		res.Chunks++
	}
	return res, nil
}

// written is when subject's newest message was stored.
func (b *Blobs) written(ctx context.Context, subject string) (time.Time, error) {
	m, err := b.stream.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		return time.Time{}, err
	}
	return m.Time, nil
}
