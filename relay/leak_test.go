package relay

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mimichat/proto"
	"mimichat/relay/store"
	"mimichat/relay/store/sqlite"
)

// secretPath is in every injected storage error: no answer may carry it.
const secretPath = "/srv/secret-data/relay.db"

// pathLeakingStore is the real store whose read and write paths fail, once
// broken, with errors naming a server path, as SQLite's and the OS's do.
type pathLeakingStore struct {
	store.Store
	broken atomic.Bool
}

func (p *pathLeakingStore) fail() error {
	return errors.New("open " + secretPath + ": disk I/O error")
}

func (p *pathLeakingStore) AppendBatch(ctx context.Context, b store.Batch) error {
	if p.broken.Load() {
		return p.fail()
	}
	return p.Store.AppendBatch(ctx, b)
}

func (p *pathLeakingStore) EventsBefore(ctx context.Context, room string, from, before uint64, limit int) ([]store.Event, bool, error) {
	if p.broken.Load() {
		return nil, false, p.fail()
	}
	return p.Store.EventsBefore(ctx, room, from, before, limit)
}

func (p *pathLeakingStore) UserByURI(ctx context.Context, uri string) (store.User, error) {
	if p.broken.Load() {
		return store.User{}, p.fail()
	}
	return p.Store.UserByURI(ctx, uri)
}

func (p *pathLeakingStore) BlobUsage(ctx context.Context, uploader string, since time.Time) (int64, time.Time, error) {
	if p.broken.Load() {
		return 0, time.Time{}, p.fail()
	}
	return p.Store.BlobUsage(ctx, uploader, since)
}

func (p *pathLeakingStore) Blob(ctx context.Context, id string) (store.Blob, error) {
	if p.broken.Load() {
		return store.Blob{}, p.fail()
	}
	return p.Store.Blob(ctx, id)
}

// TestStorageErrorsNameNoServerPath: when storage fails with errors that
// name server paths, every answer a client gets (error frames of a submit,
// a room operation, history, an invite; blob upload and download refusals)
// says what failed without the path.
func TestStorageErrorsNameNoServerPath(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(dir, sqlite.SyncFull)
	if err != nil {
		t.Fatal(err)
	}
	ps := &pathLeakingStore{Store: db}
	s := startRelay(t, Config{Data: dir, Store: ps, RatePerSec: -1})
	tok := addUser(t, s.Store(), "alice")
	addUser(t, s.Store(), "bob")
	alice := dial(t, s.Addr(), tok)
	room := alice.createRoom("r", proto.CreateRoom{})
	_, blob, _, _ := postBlob(t, s.Addr(), tok, []byte("ciphertext"))
	ps.broken.Store(true)

	var reasons []string
	m := message(t, alice.user, room, "lost")
	m.RID = alice.nextRID()
	alice.send(m)
	reasons = append(reasons, alice.expectError(proto.CodeInternal).Reason)
	_, ef := alice.op(room, proto.KindTopic, "", func(o *proto.RoomOp) { o.Value = "x" })
	_, ef2 := alice.op(room, proto.KindInvite, "mimi://example.com/u/bob")
	alice.send(&proto.History{RID: alice.nextRID(), Room: room, Before: 2, Limit: 10})
	ef3 := alice.expectError(proto.CodeInternal)
	for _, e := range []*proto.ErrorFrame{ef, ef2, ef3} {
		if e == nil {
			t.Fatal("a request on broken storage was not refused")
		}
		reasons = append(reasons, e.Reason)
	}
	_, _, ref, _ := postBlob(t, s.Addr(), tok, []byte("more"))
	reasons = append(reasons, ref.Reason)
	resp, err := http.Get("http://" + s.Addr() + "/v1/blobs/" + blob.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got blobError
	if json.Unmarshal(raw, &got) != nil || resp.StatusCode < 500 {
		t.Fatalf("download on broken storage: %d %q", resp.StatusCode, raw)
	}
	reasons = append(reasons, got.Reason)
	for _, r := range reasons {
		if r == "" || strings.Contains(r, "secret-data") || strings.Contains(r, dir) {
			t.Fatalf("answer %q names a server path (all: %q)", r, reasons)
		}
	}
}
