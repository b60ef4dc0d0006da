package history_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"mimichat/history"
	"mimichat/history/cache"
	"mimichat/session"
)

// belowFile is a vCon of the every-kind room (events, tombstones, every
// body) followed by 3,000 messages of the 100k room, and a store whose
// cache holds its newest 40 items as a run at relay seqs 1,000,000..
func belowFile(t *testing.T) ([]history.Item, []byte) {
	t.Helper()
	items := append(history.EveryKind(t), history.Big(t)[:3000]...)
	var buf bytes.Buffer
	now := history.T0.Add(2 * time.Hour).UnixMilli()
	if _, err := history.Export(&buf, history.Room{ID: history.RoomURI}, history.SliceSource(items), history.ExportOptions{Format: history.FormatVCon, Now: now}); err != nil {
		t.Fatal(err)
	}
	return items, buf.Bytes()
}

func storeWithRun(t *testing.T, items []history.Item) *session.Store {
	t.Helper()
	st := openStore(t)
	tail := items[len(items)-40:]
	if err := st.SaveRoom(session.Room{ID: history.RoomURI, Low: 1_000_000, Cursor: 999_999}); err != nil {
		t.Fatal(err)
	}
	entries := make([]session.Entry, len(tail))
	for i := range tail {
		entries[i] = cache.EntryFromItem(history.RoomURI, uint64(1_000_000+i), &tail[i])
	}
	if _, err := st.Commit(session.Room{ID: history.RoomURI}, entries); err != nil {
		t.Fatal(err)
	}
	return st
}

// dumpRoom is every field of every cached entry of the room, its run, and
// what the search index finds once it has indexed what the import queued.
func dumpRoom(t *testing.T, st *session.Store) string {
	t.Helper()
	var b strings.Builder
	r, _, err := st.Room(history.RoomURI)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "room %+v\n", r)
	es, err := st.After(history.RoomURI, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		fmt.Fprintf(&b, "%+v\n", e)
	}
	if _, err := st.IndexPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"message", "quick brown", "fox"} {
		hits, err := st.Search(context.Background(), q, history.RoomURI, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "search %q: %d hits\n", q, len(hits))
		for _, h := range hits {
			fmt.Fprintf(&b, "%+v\n", h)
		}
	}
	return b.String()
}

// The import below a cached run that counts the file ahead and writes while
// it reads gives the very store the sequential import (the file read once,
// entries held to the end) gives: every field of every entry, the run, the
// search index.
func TestImportBelowCountedEqualsSequential(t *testing.T) {
	items, file := belowFile(t)
	seqSt := storeWithRun(t, items)
	// A reader without ReadAt cannot be counted ahead.
	_, _, seqRes, err := cache.ImportFile(seqSt, struct{ io.Reader }{bytes.NewReader(file)}, "")
	if err != nil {
		t.Fatal(err)
	}
	cntSt := storeWithRun(t, items)
	_, _, cntRes, err := cache.ImportFile(cntSt, bytes.NewReader(file), "")
	if err != nil {
		t.Fatal(err)
	}
	if seqRes.Counted || !cntRes.Counted {
		t.Fatalf("counted: sequential %v, counted %v", seqRes.Counted, cntRes.Counted)
	}
	if seqRes.Imported != cntRes.Imported || seqRes.Duplicates != cntRes.Duplicates || cntRes.Duplicates < 40 {
		t.Fatalf("sequential %+v, counted %+v", seqRes, cntRes)
	}
	want, got := dumpRoom(t, seqSt), dumpRoom(t, cntSt)
	if got != want {
		t.Fatalf("the counted import differs from the sequential one (%d vs %d bytes of dump)", len(got), len(want))
	}
	if strings.Contains(got, "search \"fox\": 0 hits") {
		t.Fatal("the search index found nothing")
	}
}

// A parse error late in the file fails the counted import (its count was in
// and its rows were being written) and leaves the store as it was.
func TestCountedImportBrokenLateChangesNothing(t *testing.T) {
	items, file := belowFile(t)
	// The last dialog's salt made bad base64: counting does not read salts,
	// the import does, at the end.
	i := bytes.LastIndex(file, []byte(`"salt":"`))
	broken := append(append(append([]byte(nil), file[:i+8]...), '!'), file[i+9:]...)
	if !history.CountVCon(bytes.NewReader(broken), int64(len(broken)), nil, func(*history.Item) {}) {
		t.Fatal("the broken file is not counted: the test would not write before the error")
	}
	st := storeWithRun(t, items)
	before := dumpRoom(t, st)
	_, _, _, err := cache.ImportFile(st, bytes.NewReader(broken), "")
	var ie *history.ImportError
	if !errors.As(err, &ie) || !strings.Contains(ie.Path, "salt") {
		t.Fatalf("err = %v, want an ImportError at the salt", err)
	}
	if after := dumpRoom(t, st); after != before {
		t.Fatalf("the failed import changed the store\n--- before\n%.2000s\n--- after\n%.2000s", before, after)
	}
}
