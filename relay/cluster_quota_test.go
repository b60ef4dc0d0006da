package relay

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"mimichat/relay/store/jetstream"
)

// TestClusterQuotaInFlight: a user's upload quota holds across nodes for
// uploads in progress, not only for stored ones. Six 400 KB uploads start
// at once, two through each of three nodes, their bodies held back until
// every one was either refused or reserved: with a 1 MiB quota exactly two
// are let in (per-node reservations let two in on every node: six, 2.4 MB)
// and four refused 429 with Retry-After; the two complete and their
// reservations are released. A reservation whose node died (made here
// directly, expiring in 2 s) holds the quota until it expires, then frees
// it by itself.
func TestClusterQuotaInFlight(t *testing.T) {
	const max, quota, size = 600 << 10, 1 << 20, 400 << 10
	nodes := startCluster(t, 3, func(c *Config) { c.MaxBlob, c.BlobQuota = max, quota })
	tok := addUser(t, nodes[0].Store(), "alice")
	const alice = "mimi://example.com/u/alice"
	js := nodes[0].db.(*jetstream.Store)
	ctx := t.Context()

	type result struct {
		status int
		retry  string
		err    error
	}
	const uploads = 6
	results := make([]result, uploads)
	bodies := make([]*io.PipeWriter, uploads)
	answered := make(chan int, uploads)
	var wg sync.WaitGroup
	for i := range uploads {
		pr, pw := io.Pipe()
		bodies[i] = pw
		req, err := http.NewRequest(http.MethodPost, "http://"+nodes[i%3].Addr()+"/v1/blobs", pr)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = size
		req.Header.Set("Authorization", "Bearer "+tok)
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results[i] = result{err: err}
				answered <- i
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			results[i] = result{status: resp.StatusCode, retry: resp.Header.Get("Retry-After")}
			answered <- i
		}()
	}
	// Wait until every upload is refused or holds a reservation.
	refused := map[int]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for {
		held, err := js.BlobReservations(ctx, alice, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes { // a node's own reservations (none: they are the cluster's)
			n.blobs.mu.Lock()
			held += n.blobs.reserved[alice]
			n.blobs.mu.Unlock()
		}
	drain:
		for {
			select {
			case i := <-answered:
				refused[i] = true
			default:
				break drain
			}
		}
		if int(held/size)+len(refused) == uploads {
			if held != 2*size {
				t.Fatalf("%d bytes reserved with six uploads in flight, want two uploads' (%d)", held, 2*size)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %d bytes reserved, %d uploads answered", held, len(refused))
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := range refused {
		if r := results[i]; r.err != nil || r.status != http.StatusTooManyRequests || r.retry == "" {
			t.Fatalf("upload %d through node %d answered before its body: %+v, want 429 with Retry-After", i, i%3+1, r)
		}
	}
	payload := bytes.Repeat([]byte("z"), size)
	for i, pw := range bodies {
		if !refused[i] {
			go func() { pw.Write(payload); pw.Close() }()
		} else {
			pw.Close()
		}
	}
	wg.Wait()
	created := 0
	for i, r := range results {
		if !refused[i] {
			if r.err != nil || r.status != http.StatusCreated {
				t.Fatalf("upload %d through node %d: %+v, want 201", i, i%3+1, r)
			}
			created++
		}
	}
	if created != 2 {
		t.Fatalf("%d uploads stored, want 2", created)
	}
	// Released before each answer left (polled all the same).
	waitReleased := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			held, err := js.BlobReservations(ctx, alice, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if held == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("reservations 10 s after the uploads ended: %d bytes", held)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitReleased()

	// A node that died mid-upload: its reservation holds until it expires.
	if st, _, _, _ := postBlob(t, nodes[1].Addr(), tok, make([]byte, 100<<10)); st != http.StatusCreated {
		t.Fatalf("a 100 KB upload within the quota: %d", st)
	}
	waitReleased()
	now := time.Now()
	if _, ok, _, err := js.ReserveBlobBytes(ctx, alice, 100<<10, quota, now.Add(-24*time.Hour), now, now.Add(2*time.Second)); err != nil || !ok {
		t.Fatalf("a dead node's reservation: %v, %v", ok, err)
	}
	if st, _, _, retry := postBlob(t, nodes[2].Addr(), tok, make([]byte, 100<<10)); st != http.StatusTooManyRequests || retry == "" {
		t.Fatalf("an upload beside the dead node's reservation: %d, want 429", st)
	}
	time.Sleep(time.Until(now.Add(2100 * time.Millisecond)))
	if st, _, ref, _ := postBlob(t, nodes[2].Addr(), tok, make([]byte, 100<<10)); st != http.StatusCreated {
		t.Fatalf("an upload after the dead node's reservation expired: %d %+v", st, ref)
	}
}
