package history_test

// Tests of the cache adapter (history/cache) on real SQLite files: exports
// from the cache, the streaming file import, offers merged below a cached
// run. They live here, in package history_test, to share the format tests'
// room (export_test.go).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/history"
	"mimichat/history/cache"
	"mimichat/session"
)

func openStore(t *testing.T) *session.Store {
	t.Helper()
	st, err := session.OpenStore(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// cachedRoom stores items as a cached room numbered from 1.
func cachedRoom(t *testing.T, st *session.Store, items []history.Item) {
	t.Helper()
	entries := make([]session.Entry, len(items))
	for i := range items {
		entries[i] = cache.EntryFromItem(history.RoomURI, uint64(i+1), &items[i])
	}
	if _, err := st.Commit(session.Room{ID: history.RoomURI, Name: "History room"}, entries); err != nil {
		t.Fatal(err)
	}
}

func storeTimeline(t *testing.T, st *session.Store, room string, now int64) *content.Timeline {
	t.Helper()
	var items []history.Item
	if err := cache.Scan(st, room, func(it *history.Item) error { items = append(items, *it); return nil }); err != nil {
		t.Fatal(err)
	}
	return history.TimelineOf(items, now)
}

func TestStoreExportImport(t *testing.T) {
	now := history.T0.Add(2 * time.Hour).UnixMilli()
	a := openStore(t)
	cachedRoom(t, a, history.EveryKind(t))
	for _, f := range []history.Format{history.FormatVCon, history.FormatCPIM} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			rep, err := history.Export(&buf, history.Room{ID: history.RoomURI, Name: "History room"}, cache.Source(a, history.RoomURI), history.ExportOptions{Format: f, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			b := openStore(t)
			doc := buf.Bytes()
			format, irep, res, err := cache.ImportFile(b, bytes.NewReader(doc), "")
			if err != nil || format != f {
				t.Fatalf("import: %v %v", format, err)
			}
			if !res.NewRoom || res.Imported == 0 {
				t.Fatalf("result %+v", res)
			}
			vcon := f == history.FormatVCon
			src := history.EveryKind(t)
			if f == history.FormatCPIM {
				src = history.CPIMCarries(src)
			}
			ref := openStore(t)
			cachedRoom(t, ref, src)
			want := history.SnapshotCached(storeTimeline(t, ref, history.RoomURI, now), vcon, vcon)
			got := history.SnapshotCached(storeTimeline(t, b, history.RoomURI, now), vcon, vcon)
			if got != want {
				t.Errorf("cache after import differs\n--- want\n%s--- got\n%s", want, got)
			}
			// Importing again adds nothing: every message is a duplicate.
			_, _, res2, err := cache.ImportFile(b, bytes.NewReader(doc), "")
			if err != nil {
				t.Fatal(err)
			}
			if res2.Imported != 0 || res2.Duplicates == 0 {
				t.Errorf("second import added %d, duplicates %d", res2.Imported, res2.Duplicates)
			}
			for k := range irep.Dropped {
				if strings.HasPrefix(k, "$.parties[].role") {
					t.Errorf("a role the imported role changes give the cache is reported lost: %q", k)
				}
			}
			t.Logf("export %s\nimport %s", rep, irep)
		})
	}
}

// A new member's cache starts at their join; the offered history goes
// below it, and what the cache has already is not duplicated.
func TestImportBelowCachedRun(t *testing.T) {
	now := history.T0.Add(2 * time.Hour).UnixMilli()
	items := history.EveryKind(t)
	var buf bytes.Buffer
	if _, err := history.Export(&buf, history.Room{ID: history.RoomURI}, history.SliceSource(items), history.ExportOptions{Format: history.FormatVCon, Now: now}); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	tail := items[len(items)-8:]
	if err := st.SaveRoom(session.Room{ID: history.RoomURI, Low: 100, Cursor: 99}); err != nil {
		t.Fatal(err)
	}
	entries := make([]session.Entry, len(tail))
	for i := range tail {
		entries[i] = cache.EntryFromItem(history.RoomURI, uint64(100+i), &tail[i])
	}
	if _, err := st.Commit(session.Room{ID: history.RoomURI}, entries); err != nil {
		t.Fatal(err)
	}
	_, _, res, err := cache.ImportFile(st, bytes.NewReader(buf.Bytes()), "")
	if err != nil {
		t.Fatal(err)
	}
	if res.NewRoom || res.Duplicates == 0 || res.Imported == 0 {
		t.Fatalf("result: new=%v dup=%d imported=%d", res.NewRoom, res.Duplicates, res.Imported)
	}
	r, _, _ := st.Room(history.RoomURI)
	if r.Low != 100-uint64(res.Imported) {
		t.Errorf("low %d", r.Low)
	}
	if below, _ := st.Before(history.RoomURI, 100, 1000); len(below) != res.Imported || below[len(below)-1].Seq != 99 || below[0].Seq != r.Low {
		t.Errorf("%d entries below the run (imported %d), low %d", len(below), res.Imported, r.Low)
	}
	want := history.SnapshotCached(history.TimelineOf(items, now), true, false)
	got := history.SnapshotCached(storeTimeline(t, st, history.RoomURI, now), true, false)
	if got != want {
		t.Errorf("merged cache differs\n--- want\n%s--- got\n%s", want, got)
	}
}

// A failed import changes nothing: a file broken at its last dialog, and a
// merge that does not fit below the cached run.
func TestFailedImportChangesNothing(t *testing.T) {
	now := history.T0.Add(2 * time.Hour).UnixMilli()
	items := history.EveryKind(t)
	var buf bytes.Buffer
	if _, err := history.Export(&buf, history.Room{ID: history.RoomURI}, history.SliceSource(items), history.ExportOptions{Format: history.FormatVCon, Now: now}); err != nil {
		t.Fatal(err)
	}
	doc := buf.Bytes()
	i := bytes.LastIndex(doc, []byte(`"salt":"`))
	broken := append(append(append([]byte(nil), doc[:i+8]...), '!'), doc[i+9:]...)
	st := openStore(t)
	_, _, _, err := cache.ImportFile(st, bytes.NewReader(broken), "")
	var ie *history.ImportError
	if !errors.As(err, &ie) || ie.Path == "" {
		t.Fatalf("err = %v, want an ImportError with a JSON path", err)
	}
	t.Log(err)
	if rooms, _ := st.Rooms(); len(rooms) != 0 {
		t.Fatalf("failed import left rooms %v", rooms)
	}
	if es, _ := st.After(history.RoomURI, 0, 1000); len(es) != 0 {
		t.Fatalf("failed streamed import left %d entries", len(es))
	}
	// Broken halfway into a cached room (streamed below its run): the run,
	// its low and its entries stay as they were.
	const other = "mimi://example.com/r/older"
	cached := cache.EntryFromItem(other, 500, &items[len(items)-1])
	if err := st.SaveRoom(session.Room{ID: other, Name: "kept", Low: 500, Cursor: 499}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(session.Room{ID: other, Name: "kept"}, []session.Entry{cached}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := cache.ImportFile(st, bytes.NewReader(broken), other); !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an ImportError", err)
	}
	if r, _, _ := st.Room(other); r.Low != 500 || r.Cursor != 500 {
		t.Fatalf("failed merge moved the run to %d..%d", r.Low, r.Cursor)
	}
	if es, _ := st.After(other, 0, 1000); len(es) != 1 || es[0].Seq != 500 {
		t.Fatalf("failed merge left %d entries", len(es))
	}
	// No room below the run: nothing written either.
	if err := st.SaveRoom(session.Room{ID: history.RoomURI, Low: 3, Cursor: 2}); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = cache.ImportFile(st, bytes.NewReader(doc), "")
	if !errors.Is(err, cache.ErrNoRoomBelow) {
		t.Fatalf("err = %v", err)
	}
	if es, _ := st.Recent(history.RoomURI, 100); len(es) != 0 {
		t.Fatalf("failed merge wrote %d entries", len(es))
	}
}

// A moderator shares the history with a member who joined late: the offer
// travels as a message, the member's client finds it, and merging it gives
// the member the room as the moderator sees it, below its own cached run.
func TestShareHistoryOffer(t *testing.T) {
	now := history.T0.Add(2 * time.Hour).UnixMilli()
	items := history.EveryKind(t)
	b := &content.Builder{Sender: history.Alice, Room: history.RoomURI}
	msg, rep, err := history.BuildOffer(b, history.Room{ID: history.RoomURI}, history.SliceSource(items), history.ExportOptions{Now: now}, "mimi://example.com/u/dave", 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := msg.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := content.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	offer, ok := history.OfferOf(got)
	if !ok || offer.For != "mimi://example.com/u/dave" {
		t.Fatalf("offer %v %q", ok, offer.For)
	}
	if _, ok := history.OfferOf(items[8].Msg); ok {
		t.Fatal("an ordinary message is not an offer")
	}
	// Dave's cache: he joined at hub seq 500 and has the last 3 entries.
	st := openStore(t)
	if err := st.SaveRoom(session.Room{ID: history.RoomURI, Low: 500, Cursor: 499}); err != nil {
		t.Fatal(err)
	}
	tail := items[len(items)-3:]
	var es []session.Entry
	for i := range tail {
		es = append(es, cache.EntryFromItem(history.RoomURI, uint64(500+i), &tail[i]))
	}
	if _, err := st.Commit(session.Room{ID: history.RoomURI}, es); err != nil {
		t.Fatal(err)
	}
	irep, res, err := cache.ImportOffer(st, offer, history.RoomURI)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicates != 3 || len(res.Added) != rep.Items-3 {
		t.Fatalf("added %d, duplicates %d of %d (%s)", len(res.Added), res.Duplicates, rep.Items, irep)
	}
	ref := openStore(t) // the moderator's cache, as the reference (the cache keeps no actor for joins)
	cachedRoom(t, ref, items)
	want := history.SnapshotCached(storeTimeline(t, ref, history.RoomURI, now), true, true)
	if got := history.SnapshotCached(storeTimeline(t, st, history.RoomURI, now), true, true); got != want {
		t.Errorf("merged history differs\n--- want\n%s--- got\n%s", want, got)
	}
	// Merging again changes nothing.
	_, res, err = cache.ImportOffer(st, offer, history.RoomURI)
	if err != nil || len(res.Added) != 0 {
		t.Fatalf("second merge: %v, added %d", err, len(res.Added))
	}
	if _, _, err := cache.ImportOffer(st, offer, "mimi://example.com/r/other"); err == nil {
		t.Error("an offer for another room was merged")
	}
}

// Sharing a cache's history back into the same cache adds nothing: room
// events match although the vCon does not carry every role (the creator's
// owner role, an invite's role).
func TestShareOfferIntoSameCache(t *testing.T) {
	now := history.T0.Add(2 * time.Hour).UnixMilli()
	items := history.EveryKind(t)
	ev0 := content.RoomEvent{Seq: 1, HubTime: history.T0.UnixMilli() - 1000, Kind: content.EventJoin, Actor: history.Alice, Target: history.Alice, Role: content.RoleOwner}
	ev1 := content.RoomEvent{Seq: 2, HubTime: history.T0.UnixMilli() - 900, Kind: content.EventInvite, Actor: history.Alice, Target: "mimi://example.com/u/dave", Role: content.RoleMember}
	items = append([]history.Item{{Seq: 1, Time: ev0.HubTime, Sender: history.Alice, Event: &ev0}, {Seq: 2, Time: ev1.HubTime, Sender: history.Alice, Event: &ev1}}, items...)
	for i := range items {
		items[i].Seq = uint64(i + 1)
	}
	st := openStore(t)
	cachedRoom(t, st, items)
	b := &content.Builder{Sender: history.Alice, Room: history.RoomURI}
	src := func(fn func(*history.Item) error) error { return cache.Scan(st, history.RoomURI, fn) }
	msg, _, err := history.BuildOffer(b, history.Room{ID: history.RoomURI}, src, history.ExportOptions{Now: now}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	offer, ok := history.OfferOf(msg)
	if !ok {
		t.Fatal("no offer")
	}
	_, res, err := cache.ImportOffer(st, offer, history.RoomURI)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 0 {
		t.Fatalf("added %d entries to the cache they came from", len(res.Added))
	}
}

// An offer larger than the relay's content limit is sealed and uploaded;
// the receiver fetches, checks and decrypts it, and bytes changed on the
// server are refused.
func TestShareOfferExternal(t *testing.T) {
	now := history.T0.Add(2 * time.Hour)
	items := history.EveryKind(t)
	var mu sync.Mutex
	blobs := map[string][]byte{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		b, ok := blobs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	upload := func(_ context.Context, name string, ct []byte) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		p := fmt.Sprintf("/blob/%d", len(blobs))
		blobs[p] = append([]byte(nil), ct...)
		return srv.URL + p, nil
	}
	b := &content.Builder{Sender: history.Alice, Room: history.RoomURI}
	msg, rep, err := history.ShareOffer(context.Background(), b, history.Room{ID: history.RoomURI}, history.SliceSource(items),
		history.ExportOptions{Now: now.UnixMilli(), Since: 1}, "mimi://example.com/u/dave", 512, upload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := msg.Encode()
	if err != nil || len(raw) > 2048 {
		t.Fatalf("offer message: %d bytes, %v", len(raw), err)
	}
	got, _ := content.Decode(raw)
	offer, ok := history.OfferOf(got)
	if !ok || offer.External == nil || offer.VCon != nil || offer.Messages != rep.Messages || offer.Since.IsZero() {
		t.Fatalf("offer %+v", offer)
	}
	if _, _, err := cache.ImportOffer(openStore(t), offer, history.RoomURI); err == nil {
		t.Fatal("an unfetched offer was imported")
	}
	tampered := offer
	if err := history.FetchOffer(context.Background(), srv.Client(), &offer, now); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	if _, res, err := cache.ImportOffer(st, offer, history.RoomURI); err != nil || len(res.Added) != rep.Items {
		t.Fatalf("import: %v, added %v of %d", err, res, rep.Items)
	}
	mu.Lock()
	for k := range blobs {
		blobs[k][len(blobs[k])/2] ^= 1
	}
	mu.Unlock()
	if err := history.FetchOffer(context.Background(), srv.Client(), &tampered, now); !errors.Is(err, content.ErrHashMismatch) {
		t.Fatalf("tampered blob: %v", err)
	}
}
