package relay

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"mimichat/relay/store/jetstream"
)

// TestClusterOrphanBlobSweep: three nodes in process. Node 2 leaves what a
// node killed mid-upload leaves in the bucket: an object whose metadata
// was never written, and (through a put that fails at its info) chunks no
// info names. Node 3 sweeps with the relay's own cutoff (blobOrphanAge)
// over and over while four uploads go on through nodes 1 and 2: the young
// orphans are kept and every upload is acked and served whole by every
// node afterwards (a sweep never takes an upload in progress on another
// node). A sweep whose cutoff is after the orphans deletes exactly them,
// and the uploaded blobs are still served.
func TestClusterOrphanBlobSweep(t *testing.T) {
	nodes := startCluster(t, 3)
	tok := addUser(t, nodes[0].Store(), "alice")
	ctx := t.Context()
	deadline := time.Now().Add(60 * time.Second)

	objects, err := nodes[1].blobs.bucket(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 300 KB: three chunks of 128 KiB, no metadata.
	if err := objects.Put(ctx, "orphan-object", bytes.NewReader(bytes.Repeat([]byte("x"), 300<<10))); err != nil {
		t.Fatal(err)
	}
	// A put whose reader fails after two chunks: its deferred purge is
	// what a killed node never runs, so it is undone by hand below only
	// if it did run; either way the sweep must leave the bucket clean.
	cut := &cutReader{r: bytes.NewReader(bytes.Repeat([]byte("y"), 400<<10)), after: 256 << 10}
	if err := objects.Put(ctx, "cut-off", cut); err == nil {
		t.Fatal("a put whose reader failed succeeded")
	}
	chunkSet := publishChunks(t, nodes[1], 2)

	var wg sync.WaitGroup
	infos := make([]BlobInfo, 4)
	blobs := make([]sealedBlob, len(infos))
	for i := range infos {
		blobs[i] = sealBlob(t, 200<<10)
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, info, ref, _ := postBlob(t, nodes[i%2].Addr(), tok, blobs[i].cipher)
			if status != http.StatusCreated {
				t.Errorf("upload %d through node %d: %d %+v", i, i%2+1, status, ref)
			}
			infos[i] = info
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	sweeps := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		res, err := nodes[2].blobs.sweepOrphans(ctx, time.Now().Add(-blobOrphanAge))
		if err != nil {
			t.Fatalf("sweep %d: %v", sweeps, err)
		}
		if res.Objects != 0 || res.Chunks != 0 {
			t.Fatalf("sweep %d with the relay's cutoff deleted %+v", sweeps, res)
		}
		sweeps++
	}
	if t.Failed() {
		return
	}
	t.Logf("%d sweeps ran beside the uploads", sweeps)

	res, err := nodes[2].blobs.sweepOrphans(ctx, time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if res.Objects != 1 || res.Chunks != 1 || res.TooYoung != 0 {
		t.Fatalf("sweep after the orphans: %+v, want 1 object and 1 chunk set", res)
	}
	if ok, err := objects.Exists(ctx, "orphan-object"); err != nil || ok {
		t.Fatalf("the orphan object after the sweep: exists %v, %v", ok, err)
	}
	if left := chunkSetLeft(t, nodes[0], chunkSet); left {
		t.Fatal("the cut-off chunk set is still in the bucket")
	}
	for i, info := range infos {
		for _, n := range nodes {
			mustGetBlob(t, blobAt(info, n.Addr()), blobs[i], deadline)
		}
	}
	if res, err := nodes[0].blobs.sweepOrphans(ctx, time.Now().Add(time.Second)); err != nil || res != (jetstream.OrphanSweep{}) {
		t.Fatalf("a second sweep through node 1: %+v, %v; want nothing left", res, err)
	}
}

// cutReader fails after `after` bytes, like an upload's source cut off.
type cutReader struct {
	r     *bytes.Reader
	after int
	read  int
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.read >= c.after {
		return 0, fmt.Errorf("cut off after %d bytes", c.read)
	}
	p = p[:min(len(p), c.after-c.read)]
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

func (c *cutReader) Seek(off int64, whence int) (int64, error) {
	c.read = int(off)
	return c.r.Seek(off, whence)
}

// publishChunks stores n chunks under a fresh chunk subject of the bucket
// and no info: a put cut off by its node's death. It returns the subject.
func publishChunks(t *testing.T, n *Server, count int) string {
	t.Helper()
	js := n.db.(*jetstream.Store)
	subj := fmt.Sprintf("$O.%s.C.orphan%d", jetstream.BlobBucket, time.Now().UnixNano())
	for i := range count {
		resp, err := js.Conn().Request(subj, []byte(fmt.Sprintf("chunk %d", i)), 10*time.Second)
		if err != nil || bytes.Contains(resp.Data, []byte(`"error"`)) {
			t.Fatalf("publish chunk %d: %v %s", i, err, resp.Data)
		}
	}
	return subj
}

// chunkSetLeft reports whether the bucket still holds a message on subj.
func chunkSetLeft(t *testing.T, n *Server, subj string) bool {
	t.Helper()
	js := n.db.(*jetstream.Store)
	resp, err := js.Conn().Request("$JS.API.STREAM.MSG.GET.OBJ_"+jetstream.BlobBucket, []byte(`{"last_by_subj":"`+subj+`"}`), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return !bytes.Contains(resp.Data, []byte(`"error"`))
}
