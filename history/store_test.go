package history

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"mimichat/content"
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
func cachedRoom(t *testing.T, st *session.Store, items []Item) {
	t.Helper()
	entries := make([]session.Entry, len(items))
	for i := range items {
		entries[i] = EntryFromItem(roomURI, uint64(i+1), &items[i])
	}
	if _, err := st.Commit(session.Room{ID: roomURI, Name: "History room"}, entries); err != nil {
		t.Fatal(err)
	}
}

func storeTimeline(t *testing.T, st *session.Store, room string, now int64) *content.Timeline {
	t.Helper()
	var items []Item
	if err := ScanStore(st, room, func(it *Item) error { items = append(items, *it); return nil }); err != nil {
		t.Fatal(err)
	}
	return timelineOf(items, now)
}

func TestStoreExportImport(t *testing.T) {
	now := t0.Add(2 * time.Hour).UnixMilli()
	a := openStore(t)
	cachedRoom(t, a, everyKind(t).items)
	for _, f := range []Format{FormatVCon, FormatCPIM} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			rep, err := Export(&buf, Room{ID: roomURI, Name: "History room"}, StoreSource(a, roomURI), ExportOptions{Format: f, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			b := openStore(t)
			doc := buf.Bytes()
			format, irep, res, err := ImportFile(b, bytes.NewReader(doc), "")
			if err != nil || format != f {
				t.Fatalf("import: %v %v", format, err)
			}
			if !res.NewRoom || res.Imported == 0 {
				t.Fatalf("result %+v", res)
			}
			c := carries{deletedBy: true, multiSemantics: true, events: f == FormatVCon, topics: f == FormatVCon}
			src := everyKind(t).items
			if f == FormatCPIM {
				src = cpimCarries(src)
			}
			ref := openStore(t)
			cachedRoom(t, ref, src)
			want := snapshot(storeTimeline(t, ref, roomURI, now), c)
			got := snapshot(storeTimeline(t, b, roomURI, now), c)
			if got != want {
				t.Errorf("cache after import differs\n--- want\n%s--- got\n%s", want, got)
			}
			// Importing again adds nothing: every message is a duplicate.
			_, _, res2, err := ImportFile(b, bytes.NewReader(doc), "")
			if err != nil {
				t.Fatal(err)
			}
			if res2.Imported != 0 || res2.Duplicates == 0 {
				t.Errorf("second import added %d, duplicates %d", res2.Imported, res2.Duplicates)
			}
			t.Logf("export %s\nimport %s", rep, irep)
		})
	}
}

// A new member's cache starts at their join; the offered history goes
// below it, and what the cache has already is not duplicated.
func TestImportBelowCachedRun(t *testing.T) {
	now := t0.Add(2 * time.Hour).UnixMilli()
	items := everyKind(t).items
	var buf bytes.Buffer
	if _, err := Export(&buf, Room{ID: roomURI}, SliceSource(items), ExportOptions{Format: FormatVCon, Now: now}); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	tail := items[len(items)-8:]
	if err := st.SaveRoom(session.Room{ID: roomURI, Low: 100, Cursor: 99}); err != nil {
		t.Fatal(err)
	}
	entries := make([]session.Entry, len(tail))
	for i := range tail {
		entries[i] = EntryFromItem(roomURI, uint64(100+i), &tail[i])
	}
	if _, err := st.Commit(session.Room{ID: roomURI}, entries); err != nil {
		t.Fatal(err)
	}
	_, _, res, err := ImportFile(st, bytes.NewReader(buf.Bytes()), "")
	if err != nil {
		t.Fatal(err)
	}
	if res.NewRoom || res.Duplicates == 0 || res.Imported == 0 {
		t.Fatalf("result: new=%v dup=%d imported=%d", res.NewRoom, res.Duplicates, res.Imported)
	}
	r, _, _ := st.Room(roomURI)
	if r.Low != 100-uint64(res.Imported) {
		t.Errorf("low %d", r.Low)
	}
	if below, _ := st.Before(roomURI, 100, 1000); len(below) != res.Imported || below[len(below)-1].Seq != 99 || below[0].Seq != r.Low {
		t.Errorf("%d entries below the run (imported %d), low %d", len(below), res.Imported, r.Low)
	}
	want := snapshot(timelineOf(items, now), carries{events: false, deletedBy: true, multiSemantics: true, topics: true})
	got := snapshot(storeTimeline(t, st, roomURI, now), carries{events: false, deletedBy: true, multiSemantics: true, topics: true})
	if got != want {
		t.Errorf("merged cache differs\n--- want\n%s--- got\n%s", want, got)
	}
}

// A failed import changes nothing: a file broken at its last dialog, and a
// merge that does not fit below the cached run.
func TestFailedImportChangesNothing(t *testing.T) {
	now := t0.Add(2 * time.Hour).UnixMilli()
	items := everyKind(t).items
	var buf bytes.Buffer
	if _, err := Export(&buf, Room{ID: roomURI}, SliceSource(items), ExportOptions{Format: FormatVCon, Now: now}); err != nil {
		t.Fatal(err)
	}
	doc := buf.Bytes()
	i := bytes.LastIndex(doc, []byte(`"salt":"`))
	broken := append(append(append([]byte(nil), doc[:i+8]...), '!'), doc[i+9:]...)
	st := openStore(t)
	_, _, _, err := ImportFile(st, bytes.NewReader(broken), "")
	var ie *ImportError
	if !errors.As(err, &ie) || ie.Path == "" {
		t.Fatalf("err = %v, want an ImportError with a JSON path", err)
	}
	t.Log(err)
	if rooms, _ := st.Rooms(); len(rooms) != 0 {
		t.Fatalf("failed import left rooms %v", rooms)
	}
	if es, _ := st.After(roomURI, 0, 1000); len(es) != 0 {
		t.Fatalf("failed streamed import left %d entries", len(es))
	}
	// Broken halfway into a cached room (streamed below its run): the run,
	// its low and its entries stay as they were.
	const other = "mimi://example.com/r/older"
	cached := EntryFromItem(other, 500, &items[len(items)-1])
	if err := st.SaveRoom(session.Room{ID: other, Name: "kept", Low: 500, Cursor: 499}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(session.Room{ID: other, Name: "kept"}, []session.Entry{cached}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := ImportFile(st, bytes.NewReader(broken), other); !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an ImportError", err)
	}
	if r, _, _ := st.Room(other); r.Low != 500 || r.Cursor != 500 {
		t.Fatalf("failed merge moved the run to %d..%d", r.Low, r.Cursor)
	}
	if es, _ := st.After(other, 0, 1000); len(es) != 1 || es[0].Seq != 500 {
		t.Fatalf("failed merge left %d entries", len(es))
	}
	// No room below the run: nothing written either.
	if err := st.SaveRoom(session.Room{ID: roomURI, Low: 3, Cursor: 2}); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = ImportFile(st, bytes.NewReader(doc), "")
	if !errors.Is(err, ErrNoRoomBelow) {
		t.Fatalf("err = %v", err)
	}
	if es, _ := st.Recent(roomURI, 100); len(es) != 0 {
		t.Fatalf("failed merge wrote %d entries", len(es))
	}
}

func openStoreB(b *testing.B) *session.Store {
	st, err := session.OpenStore(filepath.Join(b.TempDir(), "cache.db"))
	if err != nil {
		b.Fatal(err)
	}
	return st
}
