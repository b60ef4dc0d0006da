package history

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mimichat/content"
)

// The three importers never panic, and whatever they accept is valid MIMI
// content: each message's Raw decodes and is the encoding of its Msg.

func addSamples(f *testing.F, glob string) {
	fs, _ := filepath.Glob(glob)
	for _, p := range fs {
		if b, err := os.ReadFile(p); err == nil && len(b) < 1<<20 {
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
	r := everyKind(f)
	f.Add(exportVCon(f, r.items, t0.Add(time.Hour).UnixMilli()))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkImported(t, func(r *bytes.Reader, s func(*Item) error) (*History, *Report, error) { return ReadVCon(r, s) }, data)
	})
}

func FuzzReadCPIM(f *testing.F) {
	addSamples(f, "../../shared/samples/cpim/*")
	r := everyKind(f)
	doc, _ := exportCPIM(f, r.items, t0.Add(time.Hour).UnixMilli())
	f.Add(doc)
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
