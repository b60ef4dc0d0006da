package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mimichat/config"
	"mimichat/content"
	"mimichat/internal/freeport"
	"mimichat/relay"
	"mimichat/session"
)

// startRelayCluster starts three relay nodes in this process, each
// embedding a NATS server joined to the others by routes on loopback (R3).
func startRelayCluster(t *testing.T) []*relay.Server {
	t.Helper()
	routes := freeport.Addrs(t, 3)
	nodes := make([]*relay.Server, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			nodes[i], errs[i] = relay.Start(relay.Config{Listen: "127.0.0.1:0", Data: t.TempDir(), Domain: "example.com",
				Logger: slog.New(slog.DiscardHandler), RatePerSec: -1,
				Cluster: &relay.ClusterConfig{Node: fmt.Sprintf("n%d", i+1), Listen: routes[i], Peers: routes}})
		})
	}
	wg.Wait()
	for i, n := range nodes {
		if n != nil {
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				n.Shutdown(ctx)
			})
		}
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i+1, errs[i])
		}
	}
	return nodes
}

// TestConfigRelaysFailover: a client whose config file lists a relay
// cluster's three nodes (client.relays) goes online through the first;
// when that node shuts down it reconnects to another at once and resumes
// the room from its cursor: every message bob sent before and after, once
// each, in one run of seqs with no gap, in an end-to-end encrypted room.
func TestConfigRelaysFailover(t *testing.T) {
	nodes := startRelayCluster(t)
	url := func(i int) string { return "ws://" + nodes[i].Addr() + "/v1" }
	alice, atok, err := nodes[0].Store().AddUser("example.com", "alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, btok, err := nodes[0].Store().AddUser("example.com", "bob")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	text := fmt.Sprintf("[client]\nrelays = [%q, %q, %q]\nuser = %q\ntoken = %q\ndata_dir = %q\n",
		url(0), url(1), url(2), alice.URI, atok, filepath.Join(dir, "data"))
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	// The client commands' path: the config file, then the session options.
	f := &clientFlags{configPath: path}
	cfg, err := f.load()
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.client(cfg).Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if r.Relay != url(0) || !slices.Equal(r.Relays, []string{url(1), url(2)}) {
		t.Fatalf("resolved relay %q relays %q", r.Relay, r.Relays)
	}
	o := sessionOptions(r, terminal)
	if !slices.Equal(o.Relays, r.Relays) {
		t.Fatalf("session relays %q", o.Relays)
	}
	as, err := session.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	bs, err := session.Open(session.Options{Relay: url(1), User: bob.URI, Token: btok, DataDir: t.TempDir(), ClientName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	// Alice's entries, as the session delivers them.
	var mu sync.Mutex
	var seqs []uint64
	got := map[content.MessageID]int{}
	go func() {
		for ev := range as.Events() {
			if e, ok := ev.(session.EntriesEvent); ok {
				mu.Lock()
				for _, en := range e.Entries {
					seqs = append(seqs, en.Seq)
					got[en.ID]++
				}
				mu.Unlock()
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	as.Start()
	bs.Start()
	for _, s := range []*session.Session{as, bs} {
		if err := s.WaitOnline(ctx); err != nil {
			t.Fatal(err)
		}
	}
	res, err := as.CreateRoom(ctx, session.CreateRoomOptions{Name: "Cluster"})
	if err != nil {
		t.Fatal(err)
	}
	room := res.Room
	if _, err := as.Invite(ctx, room, bob.URI); err != nil {
		t.Fatal(err)
	}
	for {
		// Bob's node learns of the invite from alice's.
		if _, err = bs.Join(ctx, room); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("bob joins through node 2: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var sent []content.MessageID
	send := func(n int, what string) {
		for i := range n {
			m, err := bs.Builder(room).Markdown(fmt.Sprintf("%s %d", what, i))
			if err != nil {
				t.Fatal(err)
			}
			it, err := bs.Send(room, m)
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, it.ID)
		}
	}
	received := func(ids []content.MessageID) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			if got[id] == 0 {
				return false
			}
		}
		return true
	}
	waitFor := func(what string, ids []content.MessageID) time.Time {
		for !received(ids) {
			if ctx.Err() != nil {
				t.Fatalf("alice did not receive %s (status %+v)", what, as.Status())
			}
			time.Sleep(20 * time.Millisecond)
		}
		return time.Now()
	}
	send(10, "before")
	waitFor("bob's messages before the shutdown", sent)

	// Alice's node goes away; bob goes on through his.
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	nodes[0].Shutdown(sctx)
	scancel()
	down := time.Now()
	send(10, "after")
	back := waitFor("bob's messages after the shutdown", sent)
	if err := as.WaitOnline(ctx); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("alice's entries jump from seq %d to %d: %v", seqs[i-1], seqs[i], seqs)
		}
	}
	for _, id := range sent {
		if got[id] != 1 {
			t.Fatalf("message %x delivered %d times", id, got[id])
		}
	}
	t.Logf("alice's node shut down; all of bob's 10 later messages reached her through another node %s later", back.Sub(down).Round(time.Millisecond))
}

// TestBlobClientFailsOver: an attachment uploaded through node 1 has node
// 1's URL; after node 1 shuts down, the client configured with the three
// nodes fetches the same URL through another node (a plain client cannot).
func TestBlobClientFailsOver(t *testing.T) {
	nodes := startRelayCluster(t)
	url := func(i int) string { return "ws://" + nodes[i].Addr() + "/v1" }
	_, tok, err := nodes[0].Store().AddUser("example.com", "alice")
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("ciphertext "), 30000)
	req, err := http.NewRequest(http.MethodPost, "http://"+nodes[0].Addr()+"/v1/blobs", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		URL string `json:"url"`
	}
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !strings.Contains(info.URL, nodes[0].Addr()) {
		t.Fatalf("upload: %d %q", resp.StatusCode, info.URL)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	nodes[0].Shutdown(sctx)
	cancel()
	if resp, err := http.Get(info.URL); err == nil {
		resp.Body.Close()
		t.Fatalf("node 1 still answers after its shutdown: %d", resp.StatusCode)
	}
	r := config.Resolved{Relay: url(0), Relays: []string{url(1), url(2)}}
	client := blobClient(r)
	if client == nil || blobClient(config.Resolved{Relay: url(0)}) != nil {
		t.Fatal("a client fails over with several relay URLs, and only then")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(info.URL)
		if err == nil {
			got, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && rerr == nil && bytes.Equal(got, body) {
				return
			}
			if resp.StatusCode < 500 {
				t.Fatalf("GET %s through the other nodes: %d, %d bytes", info.URL, resp.StatusCode, len(got))
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s through the other nodes: %v", info.URL, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
