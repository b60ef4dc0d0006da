package history

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// itemKeys are what an import dedups items by, in file order: a message's
// ID, or the whole room event.
func itemKeys(items []Item) []string {
	keys := make([]string, len(items))
	for i, it := range items {
		if it.Event != nil {
			keys[i] = fmt.Sprintf("event %+v", *it.Event)
		} else {
			keys[i] = fmt.Sprintf("message %x", it.ID)
		}
	}
	return keys
}

// countKeys runs CountVCon over file.
func countKeys(file []byte) ([]string, bool) {
	var items []Item
	ok := CountVCon(bytes.NewReader(file), int64(len(file)), nil, func(it *Item) { items = append(items, *it) })
	return itemKeys(items), ok
}

// CountVCon gives exactly ReadVCon's items (their IDs and events, in order)
// for our exports (the every-kind room: events, tombstones, external and
// multipart bodies; 20,000 messages of the 100k room), also re-indented and
// read in blocks of a few bytes (values cut at every place), and for each
// spec document it counts; it refuses what it cannot follow.
func TestCountVConIsReadVCon(t *testing.T) {
	files := map[string][]byte{
		"every kind": exportVCon(t, everyKind(t).items, t0.UnixMilli()),
		"100k room":  exportVCon(t, big(t)[:20000], t0.UnixMilli()),
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, files["every kind"], "", "\t"); err != nil {
		t.Fatal(err)
	}
	files["every kind, indented"] = indented.Bytes()
	// Escaped quotes and backslashes in every body (the IDs no longer match
	// the content: kept as given).
	files["100k room, escapes"] = bytes.ReplaceAll(files["100k room"], []byte(`"body":"message `), []byte(`"body":"\"q\\\" message `))
	// IDs in standard base64 with padding, which decodeID also takes.
	files["every kind, std base64 IDs"] = regexp.MustCompile(`"message_id":"[^"]*"`).ReplaceAllFunc(files["every kind"], func(m []byte) []byte {
		raw, err := base64.RawURLEncoding.DecodeString(string(m[len(`"message_id":"`) : len(m)-1]))
		if err != nil {
			t.Fatal(err)
		}
		return []byte(`"message_id":"` + base64.StdEncoding.EncodeToString(raw) + `"`)
	})
	specs, _ := filepath.Glob("testdata/spec/vcon/*.json")
	for _, p := range specs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files["spec "+filepath.Base(p)] = b
	}
	mustCount := map[string]bool{"100k room, escapes": true, "every kind": true, "100k room": true, "every kind, indented": true, "every kind, std base64 IDs": true}
	for name, file := range files {
		var items []Item
		_, _, readErr := ReadVCon(bytes.NewReader(file), func(it *Item) error { items = append(items, *it); return nil })
		want := itemKeys(items)
		if mustCount[name] && (readErr != nil || len(want) == 0) {
			t.Fatalf("%s: the reader took %d items (%v)", name, len(want), readErr)
		}
		for _, block := range []int{1 << 20, 7, 1} {
			if block < 1<<20 && len(file) > 1<<20 {
				continue
			}
			func() {
				defer func(b int) { spanBlock = b }(spanBlock)
				spanBlock = block
				got, ok := countKeys(file)
				if mustCount[name] && !ok {
					t.Fatalf("%s (blocks of %d): not counted", name, block)
				}
				if !ok {
					return
				}
				if readErr != nil {
					return // a failing import writes nothing, whatever the count
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("%s (blocks of %d): %d items counted, %d read\ncounted %q\nread    %q", name, block, len(got), len(want),
						got[:min(len(got), 5)], want[:min(len(want), 5)])
				}
			}()
		}
		if mustCount[name] {
			t.Logf("%s: %d items counted as read", name, len(want))
		}
	}
}

// What CountVCon cannot follow as ReadVCon does it refuses, and a cut
// file is refused rather than counted short.
func TestCountVConRefuses(t *testing.T) {
	file := exportVCon(t, everyKind(t).items, t0.UnixMilli())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(file)
	zw.Close()
	// The dialogs before the room and parties: the reader keeps them for the end.
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(file, &doc); err != nil {
		t.Fatal(err)
	}
	dialogFirst := []byte(`{"dialog":` + string(doc["dialog"]) + `,"room":` + string(doc["room"]) + `,"parties":` + string(doc["parties"]) + `}`)
	twoDialogs := bytes.Replace(file, []byte(`"dialog":`), []byte(`"dialog":[],"dialog":`), 1)
	escapedKey := bytes.Replace(file, []byte(`"dialog":`), []byte(`"dialo\u0067":`), 1)
	signed := []byte(`{"payload":"` + base64.RawURLEncoding.EncodeToString(file) + `","signatures":[]}`)
	noRoom := bytes.Replace(file, []byte(`"room":`), []byte(`"x_room":`), 1)
	for name, b := range map[string][]byte{
		"gzip":              gz.Bytes(),
		"dialogs first":     dialogFirst,
		"two dialog arrays": twoDialogs,
		"escaped key":       escapedKey,
		"signed":            signed,
		"no MIMI room":      noRoom,
		"cut short":         file[:len(file)-len(file)/3],
		"cut at the end":    bytes.TrimSpace(file)[:len(bytes.TrimSpace(file))-1],
		"empty":             nil,
		"an array":          []byte(`[` + string(file) + `]`),
		// vCon's keys only after the first 8 KiB: Read takes it for MIMI JSON.
		"MIMI JSON": []byte(`{"chat":["` + strings.Repeat("a", 9000) + `"],"room":{"id":"mimi://example.com/r/x"},"parties":[{"im_uri":"mimi://example.com/r/x"}],"dialog":[]}`),
	} {
		if _, ok := countKeys(b); ok {
			t.Errorf("%s: counted", name)
		}
	}
}

// BenchmarkCountVCon100k is the count an import below a cached run makes
// of the 100k room's vCon (42.7 MB) beside its own read.
func BenchmarkCountVCon100k(b *testing.B) {
	file := exportVCon(b, big(b), t0.UnixMilli())
	b.SetBytes(int64(len(file)))
	b.ResetTimer()
	for range b.N {
		n := 0
		if !CountVCon(bytes.NewReader(file), int64(len(file)), nil, func(*Item) { n++ }) || n < 99_000 {
			b.Fatalf("counted %d", n)
		}
	}
}
