package history

// The property behind "never silently lost" (issue 15): for any input
// document, every field is either mapped into the model or named in the
// report. Documents of every format get fields (JSON keys, MIME and CPIM
// headers) the readers do not know inserted at random places; the import
// must come out the same as without them, and the report must name each
// inserted one (by its JSON path, or its header name).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const propertyTrials = 40 // per document

// propertyDocs returns the documents of a format to insert fields into: the
// spec test documents and an export of the everyKind room.
func propertyDocs(t *testing.T, glob string, export func() []byte) map[string][]byte {
	t.Helper()
	docs := map[string][]byte{}
	fs, _ := filepath.Glob(glob)
	for _, f := range fs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[filepath.Base(f)] = b
	}
	if export != nil {
		docs["everyKind export"] = export()
	}
	return docs
}

type imported struct {
	h     *History
	items []Item
	rep   *Report
}

func importDoc(t *testing.T, doc []byte) imported {
	t.Helper()
	var im imported
	_, h, rep, err := Read(bytes.NewReader(doc), func(it *Item) error { im.items = append(im.items, *it); return nil })
	if err != nil {
		t.Fatalf("import: %v\n%s", err, doc)
	}
	im.h, im.rep = h, rep
	return im
}

// sameImport fails unless b holds what a holds.
func sameImport(t *testing.T, a, b imported, doc []byte) {
	t.Helper()
	if !reflect.DeepEqual(a.h, b.h) {
		t.Fatalf("room, members or attachments differ:\n%+v\n%+v\n%s", a.h, b.h, doc)
	}
	if len(a.items) != len(b.items) {
		t.Fatalf("%d items, %d without the inserted fields\n%s", len(b.items), len(a.items), doc)
	}
	for i := range a.items {
		x, y := a.items[i], b.items[i]
		x.Msg, y.Msg = nil, nil // Raw is its encoding
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("item %d differs:\n%+v\n%+v\n%s", i, x, y, doc)
		}
	}
}

// reportedPath reports whether a Dropped reason names path or one of its
// ancestors (a value dropped whole takes what is inside it along).
func reportedPath(rep *Report, path string) bool {
	for reason := range rep.Dropped {
		p, _, ok := strings.Cut(reason, ": ")
		if ok && (p == path || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[")) {
			return true
		}
	}
	return false
}

// jsonObject is a JSON object found in a document, with its path.
type jsonObject struct {
	m    map[string]any
	path string
}

// objects lists the objects of v, indices written as []; what is under a
// "body" key is content (a body with encoding json may be any value), not
// fields.
func objects(v any, path string, out []jsonObject) []jsonObject {
	switch x := v.(type) {
	case map[string]any:
		out = append(out, jsonObject{x, path})
		for _, k := range slices.Sorted(mapsKeys(x)) {
			if k != "body" {
				out = objects(x[k], path+"."+strings.ToLower(k), out)
			}
		}
	case []any:
		for _, e := range x {
			out = objects(e, path+"[]", out)
		}
	}
	return out
}

func mapsKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func randomValue(rng *rand.Rand) any {
	switch rng.IntN(5) {
	case 0:
		return fmt.Sprintf("v%x", rng.Uint32())
	case 1:
		return json.Number(fmt.Sprint(rng.IntN(1000)))
	case 2:
		return map[string]any{"inner": "x", "n": json.Number("1")}
	case 3:
		return []any{"a", json.Number("2"), map[string]any{"k": "v"}}
	}
	return nil
}

func decodeTree(t *testing.T, doc []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkJSONFields inserts 1–3 unknown keys into random objects of each
// document, propertyTrials times, and checks the property.
// root is the path the reader gives the document's top value.
func checkJSONFields(t *testing.T, docs map[string][]byte, root func(tree any) string) {
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range docs {
			if !yield(k) {
				return
			}
		}
	}) {
		t.Run(name, func(t *testing.T) {
			for trial := range propertyTrials {
				rng := rand.New(rand.NewPCG(uint64(trial), uint64(len(name))))
				tree := decodeTree(t, docs[name])
				base := importDoc(t, marshal(t, tree))
				objs := objects(tree, root(tree), nil)
				var inserted []string
				for range 1 + rng.IntN(3) {
					o := objs[rng.IntN(len(objs))]
					key := fmt.Sprintf("x_%08x", rng.Uint32())
					o.m[key] = randomValue(rng)
					inserted = append(inserted, o.path+"."+key)
				}
				doc := marshal(t, tree)
				got := importDoc(t, doc)
				sameImport(t, base, got, doc)
				for _, p := range inserted {
					if !reportedPath(got.rep, p) {
						t.Fatalf("trial %d: %s not named in the report %v\n%s", trial, p, got.rep.Dropped, doc)
					}
				}
			}
		})
	}
}

func TestEveryUnknownVConFieldIsReported(t *testing.T) {
	docs := propertyDocs(t, "testdata/spec/vcon/*.json", func() []byte {
		return exportVCon(t, everyKind(t).items, t0.Add(time.Hour).UnixMilli())
	})
	checkJSONFields(t, docs, func(any) string { return "$" })
}

func TestEveryUnknownMIMIJSONFieldIsReported(t *testing.T) {
	// A file is one message, an array or a sequence of them: each message is
	// at $[] whichever it is.
	checkJSONFields(t, propertyDocs(t, "testdata/mimijson/*.json", nil), func(tree any) string {
		if _, ok := tree.([]any); ok {
			return "$"
		}
		return "$[]"
	})
}

// headerAt matches the first line of a header that starts a header block
// in the test documents (so an inserted header lands in a header block,
// never in a body).
var headerAt = regexp.MustCompile(`^(Content-Type|From|To|DateTime|Message-ID|NS|Content-Disposition|Content-Language|Content-Transfer-Encoding|MIME-Version): `)

func TestEveryUnknownCPIMHeaderIsReported(t *testing.T) {
	docs := propertyDocs(t, "testdata/spec/cpim/*.cpim", func() []byte {
		doc, _ := exportCPIM(t, everyKind(t).items, t0.Add(time.Hour).UnixMilli())
		return doc
	})
	// Its body quotes header lines on purpose: a line inserted there is text.
	delete(docs, "body-quotes-headers.cpim")
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			base := importDoc(t, doc)
			lines := strings.SplitAfter(string(doc), "\n")
			var at []int // header lines not continued on the next line
			for i, l := range lines {
				next := ""
				if i+1 < len(lines) {
					next = lines[i+1]
				}
				if headerAt.MatchString(l) && !strings.HasPrefix(next, " ") && !strings.HasPrefix(next, "\t") {
					at = append(at, i)
				}
			}
			if len(at) == 0 {
				t.Fatal("no header line found")
			}
			eol := "\n"
			if strings.Contains(string(doc), "\r\n") {
				eol = "\r\n"
			}
			for trial := range propertyTrials {
				rng := rand.New(rand.NewPCG(uint64(trial), uint64(len(name))))
				ins := map[int]string{}
				for range 1 + rng.IntN(3) {
					ins[at[rng.IntN(len(at))]] = fmt.Sprintf("X-Prop-%08x", rng.Uint32())
				}
				var b strings.Builder
				for i, l := range lines {
					b.WriteString(l)
					if h, ok := ins[i]; ok {
						b.WriteString(h + ": " + fmt.Sprintf("v%x", rng.Uint32()) + eol)
					}
				}
				mutated := []byte(b.String())
				got := importDoc(t, mutated)
				sameImport(t, base, got, mutated)
				for _, h := range ins {
					found := false
					for reason := range got.rep.Dropped {
						found = found || strings.Contains(reason, " header "+h+": ")
					}
					if !found {
						t.Fatalf("trial %d: header %s not named in the report %v\n%s", trial, h, got.rep.Dropped, mutated)
					}
				}
			}
		})
	}
}

// imdnOpenTag matches a line that opens an IMDN element that may hold
// others (RFC 5438 §9 allows extension elements in imdn and in status; an
// unknown element anywhere is a loss to report).
var imdnOpenTag = regexp.MustCompile(`^\s*<(imdn|[a-z]+-notification|status)[ >]`)

// The property for the XML inside CPIM: unknown elements (in the IMDN
// namespace or another) inserted into a message/imdn+xml body are each named
// in the report by their path, and the import is otherwise unchanged.
func TestEveryUnknownIMDNElementIsReported(t *testing.T) {
	docs := propertyDocs(t, "testdata/spec/cpim/imdn*.cpim", nil)
	if len(docs) < 3 {
		t.Fatalf("%d IMDN documents", len(docs))
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			base := importDoc(t, doc)
			lines := strings.SplitAfter(string(doc), "\n")
			paths := map[int]string{} // line → path of the element it opens
			notification := ""
			for i, l := range lines {
				m := imdnOpenTag.FindStringSubmatch(l)
				if m == nil {
					continue
				}
				switch {
				case m[1] == "imdn":
					paths[i] = "imdn"
				case m[1] == "status":
					paths[i] = "imdn/" + notification + "/status"
				default:
					notification = m[1]
					paths[i] = "imdn/" + notification
				}
			}
			at := slices.Sorted(func(yield func(int) bool) {
				for i := range paths {
					if !yield(i) {
						return
					}
				}
			})
			for trial := range propertyTrials {
				rng := rand.New(rand.NewPCG(uint64(trial), uint64(len(name))))
				ins := map[int]string{}
				var want []string
				for range 1 + rng.IntN(3) {
					i := at[rng.IntN(len(at))]
					local := fmt.Sprintf("x_%08x", rng.Uint32())
					el, pathName := "<"+local+">v</"+local+">", local
					if rng.IntN(2) == 0 {
						el = `<e:` + local + ` xmlns:e="urn:example:prop" e:a="1"><e:in>v</e:in></e:` + local + `>`
						pathName = "{urn:example:prop}" + local
					}
					ins[i] += el
					want = append(want, paths[i]+"/"+pathName)
				}
				var b strings.Builder
				for i, l := range lines {
					b.WriteString(l)
					b.WriteString(ins[i])
				}
				mutated := []byte(b.String())
				got := importDoc(t, mutated)
				sameImport(t, base, got, mutated)
				for _, p := range want {
					found := false
					for reason := range got.rep.Dropped {
						found = found || strings.HasPrefix(reason, "IMDN "+p+": ")
					}
					if !found {
						t.Fatalf("trial %d: %s not named in the report %v\n%s", trial, p, got.rep.Dropped, mutated)
					}
				}
			}
		})
	}
}
