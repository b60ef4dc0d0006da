package jetstream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"mimichat/relay/store"
)

// TestSweepOrphanBlobs: a blob with metadata, an object without metadata
// (its node died between the put and the metadata write) and chunks
// without an info (a put cut off) are in the bucket. A sweep whose cutoff
// is before they were written keeps all three (as it keeps an upload in
// progress on another node); one whose cutoff is after deletes the object
// and the chunks and keeps the blob, which still reads back whole.
func TestSweepOrphanBlobs(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	b, err := s.OpenBlobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kept := bytes.Repeat([]byte("kept "), 60_000) // 300 KB: three chunks
	orphan := bytes.Repeat([]byte("orphan "), 1000)
	if err := b.Put(ctx, "kept", bytes.NewReader(kept)); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(kept)
	if err := s.AddBlob(ctx, store.Blob{ID: "kept", Uploader: "mimi://example.com/u/alice", Size: int64(len(kept)), SHA256: sum[:], Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, "orphan", bytes.NewReader(orphan)); err != nil {
		t.Fatal(err)
	}
	chunkSubj := fmt.Sprintf("$O.%s.C.%s", BlobBucket, nuid.Next())
	for i := range 2 {
		if _, err := b.js.PublishMsg(ctx, &nats.Msg{Subject: chunkSubj, Data: []byte(fmt.Sprintf("cut-off chunk %d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	chunksLeft := func() uint64 {
		t.Helper()
		info, err := b.stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	before := chunksLeft()

	res, err := s.SweepOrphanBlobs(ctx, b, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res != (OrphanSweep{TooYoung: 2}) {
		t.Fatalf("sweep with an hour-old cutoff: %+v, want the two young orphans kept", res)
	}
	if n := chunksLeft(); n != before {
		t.Fatalf("the young sweep removed messages: %d left of %d", n, before)
	}

	res, err = s.SweepOrphanBlobs(ctx, b, time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if res != (OrphanSweep{Objects: 1, Chunks: 1}) {
		t.Fatalf("sweep with a cutoff after the writes: %+v, want one object and one chunk set", res)
	}
	if ok, err := b.Exists(ctx, "orphan"); err != nil || ok {
		t.Fatalf("the orphan object after the sweep: exists %v, %v", ok, err)
	}
	if _, err := b.stream.GetLastMsgForSubject(ctx, chunkSubj); err == nil {
		t.Fatal("the cut-off chunks are still in the bucket")
	}
	r, err := b.Open(ctx, "kept", int64(len(kept)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, kept) {
		t.Fatalf("the kept blob after the sweep: %d bytes, %v", len(got), err)
	}
	// A second sweep finds nothing more.
	if res, err = s.SweepOrphanBlobs(context.Background(), b, time.Now().Add(time.Second)); err != nil || res != (OrphanSweep{}) {
		t.Fatalf("second sweep: %+v, %v", res, err)
	}
}
