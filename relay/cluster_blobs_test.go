package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/relay/store/jetstream"
)

// sealedBlob is an encrypted attachment as a client makes it: the relay
// only ever sees ciphertext.
type sealedBlob struct {
	plain, cipher []byte
	part          content.ExternalPart
}

func sealBlob(t testing.TB, size int) sealedBlob {
	t.Helper()
	plain := make([]byte, size)
	rand.Read(plain)
	part, cipher, err := content.SealAttachment(rand.Reader, plain, content.AttachmentSpec{Filename: "photo.jpg"})
	if err != nil {
		t.Fatal(err)
	}
	return sealedBlob{plain: plain, cipher: cipher, part: part}
}

// blobAt is the blob's URL on the relay listening on addr (any node).
func blobAt(info BlobInfo, addr string) string {
	return "http://" + addr + "/v1/blobs/" + info.ID
}

// getBlob fetches url (with a Range header if rng != "") and returns the
// status and body.
func getBlob(t testing.TB, url, rng string) (int, []byte, http.Header, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	c := http.Client{Timeout: 20 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header, err
}

// mustGetBlob fetches url until it answers 200 (a node that is starting, or
// a cluster electing a leader, answers 503 or not at all; bounded by
// deadline) and checks the bytes are b's ciphertext and decrypt to b's
// plaintext.
func mustGetBlob(t testing.TB, url string, b sealedBlob, deadline time.Time) {
	t.Helper()
	for {
		status, body, _, err := getBlob(t, url, "")
		if err == nil && status == http.StatusOK {
			if !bytes.Equal(body, b.cipher) {
				t.Fatalf("GET %s: %d bytes that are not the uploaded ciphertext (%d bytes)", url, len(body), len(b.cipher))
			}
			plain, err := content.VerifyAndDecrypt(&b.part, body)
			if err != nil || !bytes.Equal(plain, b.plain) {
				t.Fatalf("GET %s: does not decrypt to the attachment: %v", url, err)
			}
			return
		}
		if time.Now().After(deadline) || (err == nil && status != http.StatusServiceUnavailable && status < 500) {
			t.Fatalf("GET %s: status %d, err %v, %q", url, status, err, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestClusterBlobs: three relay nodes in process. An encrypted attachment
// uploaded through one node is downloaded, whole and by range, through the
// other two (the bytes live in the R3 object store bucket, not in the
// uploading node's directory); the single-node refusals hold (no token,
// over the size limit, the per-user quota counted across every node's
// uploads, unknown ids); retention run by one node deletes the metadata
// and the bytes for all.
func TestClusterBlobs(t *testing.T) {
	const max, quota = 600 << 10, 1 << 20
	nodes := startCluster(t, 3, func(c *Config) { c.MaxBlob, c.BlobQuota, c.RetainBlobs = max, quota, time.Hour })
	tok := addUser(t, nodes[0].Store(), "alice")
	deadline := time.Now().Add(30 * time.Second)

	// 400 KB: four chunks of the bucket's 128 KiB.
	b := sealBlob(t, 400<<10)
	status, info, ref, _ := postBlob(t, nodes[0].Addr(), tok, b.cipher)
	if status != http.StatusCreated {
		t.Fatalf("upload through node 1: %d %+v", status, ref)
	}
	if bytes.Contains(b.cipher, b.plain[:64]) {
		t.Fatal("the uploaded bytes hold the plaintext")
	}
	for _, n := range nodes {
		mustGetBlob(t, blobAt(info, n.Addr()), b, deadline)
	}
	// A range across a chunk boundary, through node 3.
	st, part, h, err := getBlob(t, blobAt(info, nodes[2].Addr()), "bytes=131000-263000")
	if err != nil || st != http.StatusPartialContent || !bytes.Equal(part, b.cipher[131000:263001]) {
		t.Fatalf("range through node 3: %d, %d bytes, %v", st, len(part), err)
	}
	if h.Get("ETag") != `"`+info.SHA256+`"` {
		t.Fatalf("ETag %q, sha256 %s", h.Get("ETag"), info.SHA256)
	}
	// The bytes are in the bucket: no node keeps a file.
	for i, n := range nodes {
		ents, err := os.ReadDir(n.blobs.dir)
		if err != nil {
			t.Fatal(err)
		}
		tmps, _ := os.ReadDir(filepath.Join(n.blobs.dir, blobTmp))
		if len(ents) != 1 || len(tmps) != 0 {
			t.Fatalf("node %d keeps %d entries and %d temp files in %s", i+1, len(ents), len(tmps), n.blobs.dir)
		}
	}

	// Refusals, as a single node answers them.
	if st, _, ref, _ := postBlob(t, nodes[1].Addr(), "", b.cipher); st != http.StatusUnauthorized {
		t.Fatalf("upload without a token: %d %+v", st, ref)
	}
	if st, _, ref, _ := postBlob(t, nodes[2].Addr(), tok, make([]byte, max+1)); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("upload over the limit: %d %+v", st, ref)
	}
	// 400 KB through node 1 and 400 KB through node 2 fit the 1 MiB quota;
	// a third through node 3 would not.
	b2 := sealBlob(t, 400<<10)
	if st, _, ref, _ := postBlob(t, nodes[1].Addr(), tok, b2.cipher); st != http.StatusCreated {
		t.Fatalf("second upload through node 2: %d %+v", st, ref)
	}
	if st, _, ref, retry := postBlob(t, nodes[2].Addr(), tok, b2.cipher); st != http.StatusTooManyRequests || retry == "" {
		t.Fatalf("upload over the quota through node 3: %d %+v (Retry-After %q)", st, ref, retry)
	}
	if st, _, _, _ := getBlob(t, "http://"+nodes[1].Addr()+"/v1/blobs/AAAAAAAAAAAAAAAAAAAAAA", ""); st != http.StatusNotFound {
		t.Fatalf("unknown blob: %d", st)
	}

	// Retention on node 3 deletes the metadata and the bytes.
	nodes[2].sweepOnce(time.Now().Add(2 * time.Hour))
	for _, n := range nodes {
		if st, body, _, err := getBlob(t, blobAt(info, n.Addr()), ""); err != nil || st != http.StatusNotFound {
			t.Fatalf("GET after retention through %s: %d %q %v", n.Addr(), st, body, err)
		}
	}
	for {
		has, err := nodes[0].blobs.objects.Exists(t.Context(), info.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !has {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("retention left the blob's bytes in the bucket")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestClusterBlobsSurviveKill: three relay processes. Attachments uploaded
// through node A (the blob bucket's leader) are downloaded through B and
// C; A is SIGKILLed, and B and C still serve them (one neither had served
// before), take a new upload and serve it; A restarts on its directory and
// serves that one too.
func TestClusterBlobsSurviveKill(t *testing.T) {
	nodes, _ := startProxiedCluster(t)
	js, err := jetstream.Open(jetstream.Options{URL: "nats://" + nodes[0].nats + ",nats://" + nodes[1].nats + ",nats://" + nodes[2].nats})
	if err != nil {
		t.Fatal(err)
	}
	users := &Store{db: js}
	defer users.Close()
	tok := addUser(t, users, "alice")
	a := bucketLeader(t, nodes)
	b, c := (a+1)%3, (a+2)%3
	deadline := time.Now().Add(60 * time.Second)
	upload := func(at int, s sealedBlob) BlobInfo {
		t.Helper()
		for {
			status, info, ref, _ := postBlob(t, nodes[at].addr, tok, s.cipher)
			if status == http.StatusCreated {
				return info
			}
			if status < 500 || time.Now().After(deadline) {
				t.Fatalf("upload through %s: %d %+v", nodes[at].name, status, ref)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	first, second, third := sealBlob(t, 300<<10), sealBlob(t, 1<<20), sealBlob(t, 200<<10)
	i1, i2 := upload(a, first), upload(a, second)
	mustGetBlob(t, blobAt(i1, nodes[b].addr), first, deadline)
	mustGetBlob(t, blobAt(i1, nodes[c].addr), first, deadline)

	nodes[a].kill()
	killed := time.Now()
	mustGetBlob(t, blobAt(i2, nodes[b].addr), second, deadline) // never served by B before
	servedAfter := time.Since(killed)
	mustGetBlob(t, blobAt(i1, nodes[c].addr), first, deadline)
	i3 := upload(b, third)
	uploadedAfter := time.Since(killed)
	mustGetBlob(t, blobAt(i3, nodes[c].addr), third, deadline)

	if err := nodes[a].start(); err != nil {
		t.Fatal(err)
	}
	mustGetBlob(t, blobAt(i3, nodes[a].addr), third, deadline)
	mustGetBlob(t, blobAt(i2, nodes[a].addr), second, deadline)
	t.Logf("killed %s (the blob bucket's leader): a blob it took served by %s %s after the kill; an upload through %s acked %s after the kill",
		nodes[a].name, nodes[b].name, servedAfter.Round(time.Millisecond), nodes[b].name, uploadedAfter.Round(time.Millisecond))
}

// bucketLeader is the index of the node leading the blob bucket's stream.
func bucketLeader(t testing.TB, nodes []*node) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, n := range nodes {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			st, err := jetstream.ReadStatus(ctx, "nats://"+n.nats, "OBJ_"+jetstream.BlobBucket)
			cancel()
			if err != nil {
				continue
			}
			for j, m := range nodes {
				if m.name == st.Leader {
					return j
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no node names the leader of OBJ_%s", jetstream.BlobBucket)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
