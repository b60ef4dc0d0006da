package history

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mimichat/content"
)

// The three importers never panic, and whatever they accept is valid MIMI
// content: each message's Raw decodes and is the encoding of its Msg.
//
// Seeds are kept small (one item per document, JSON compacted, at most
// maxSeed bytes): the fuzzer minimizes every new interesting input for up
// to -fuzzminimizetime (60 s) with a pass that is quadratic in its length,
// so one 8.5 KB seed (the whole everyKind room) held FuzzReadVCon at 3–13
// execs per 30 s, all of its time spent minimizing mutants of that seed.
const maxSeed = 1536

func addSamples(f *testing.F, glob string) {
	fs, _ := filepath.Glob(glob)
	for _, p := range fs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var compact bytes.Buffer
		if json.Compact(&compact, b) == nil {
			b = compact.Bytes()
		}
		if len(b) <= maxSeed {
			f.Add(b)
		}
	}
}

// addItemSeeds adds one small document per item of the everyKind room,
// each exported on its own by export.
func addItemSeeds(f *testing.F, export func(items []Item) []byte) {
	r := everyKind(f)
	for i := range r.items {
		if b := export(r.items[i : i+1]); len(b) <= maxSeed {
			f.Add(b)
		}
	}
}

func checkImported(t *testing.T, read func(r *bytes.Reader, sink func(*Item) error) (*History, *Report, error), data []byte) {
	n := 0
	h, rep, err := read(bytes.NewReader(data), func(it *Item) error {
		n++
		if n > 100000 {
			t.Fatal("runaway item count")
		}
		if it.Event != nil || it.Tombstone != NoTombstone {
			return nil
		}
		m, err := content.Decode(it.Raw)
		if err != nil {
			t.Fatalf("accepted item whose Raw does not decode: %v", err)
		}
		again, err := m.Encode()
		if err != nil || !bytes.Equal(again, it.Raw) {
			t.Fatalf("Raw is not deterministic MIMI content: %v", err)
		}
		return nil
	})
	if err == nil && (h == nil || rep == nil || rep.Items != n) {
		t.Fatalf("success without history/report or wrong count (%d vs %d)", rep.Items, n)
	}
}

func FuzzReadVCon(f *testing.F) {
	addSamples(f, "../../shared/samples/vcon/*")
	addSamples(f, "testdata/spec/vcon/*.json")
	addItemSeeds(f, func(items []Item) []byte { return exportVCon(f, items, t0.Add(time.Hour).UnixMilli()) })
	f.Fuzz(func(t *testing.T, data []byte) {
		checkImported(t, func(r *bytes.Reader, s func(*Item) error) (*History, *Report, error) { return ReadVCon(r, s) }, data)
	})
}

func FuzzReadCPIM(f *testing.F) {
	addSamples(f, "../../shared/samples/cpim/*")
	addSamples(f, "testdata/spec/cpim/*.cpim")
	addItemSeeds(f, func(items []Item) []byte {
		doc, _ := exportCPIM(f, items, t0.Add(time.Hour).UnixMilli())
		return doc
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkImported(t, func(r *bytes.Reader, s func(*Item) error) (*History, *Report, error) { return ReadCPIM(r, s) }, data)
	})
}

func FuzzReadMIMIJSON(f *testing.F) {
	addSamples(f, "testdata/mimijson/*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkImported(t, func(r *bytes.Reader, s func(*Item) error) (*History, *Report, error) { return ReadMIMIJSON(r, s) }, data)
	})
}
