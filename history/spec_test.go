package history_test

// Documents written from the specifications (testdata/spec), one class of
// valid input at a time (issue 15): each must import, lose nothing silently,
// and come back the same through an export where the format allows.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/history"
	"mimichat/history/cache"
)

func specDoc(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "spec", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readSpec(t *testing.T, doc []byte) (*history.History, *history.Report) {
	t.Helper()
	var items []history.Item
	_, h, rep, err := history.Read(bytes.NewReader(doc), func(it *history.Item) error { items = append(items, *it); return nil })
	if err != nil {
		t.Fatal(err)
	}
	h.Items = items
	return h, rep
}

// exportedDialogs imports doc into a fresh cache, exports the room as a
// vCon and returns the export and its dialog objects as generic JSON.
func exportedDialogs(t *testing.T, doc []byte, now time.Time) ([]byte, []map[string]any) {
	t.Helper()
	st := openStore(t)
	_, _, res, err := cache.ImportFile(st, bytes.NewReader(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := history.Export(&buf, history.Room{ID: res.Room}, cache.Source(st, res.Room), history.ExportOptions{Format: history.FormatVCon, Now: now.UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Dialog []map[string]any `json:"dialog"`
	}
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), v.Dialog
}

// The MIMI vCon draft's tombstone has type, start, message_id and status
// only; it imports as a tombstone and is exported as one, through the cache.
func TestSpecTombstones(t *testing.T) {
	doc := specDoc(t, "vcon/tombstone.json")
	h, _ := readSpec(t, doc)
	want := []struct {
		status history.TombstoneStatus
		sender string
	}{{history.Retracted, ""}, {history.Expired, ""}, {history.Retracted, "mimi://example.com/u/alice"}}
	check := func(what string, h *history.History) {
		t.Helper()
		if len(h.Items) != len(want) {
			t.Fatalf("%s: %d items, want %d", what, len(h.Items), len(want))
		}
		for i, w := range want {
			it := h.Items[i]
			sender := w.sender
			if sender == "" {
				sender = h.Room.ID
			}
			if it.Tombstone != w.status || it.Sender != sender {
				t.Errorf("%s: item %d: tombstone %v sender %q, want %v %q", what, i, it.Tombstone, it.Sender, w.status, sender)
			}
		}
	}
	check("import", h)
	out, dialogs := exportedDialogs(t, doc, time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	if len(dialogs) != len(want) {
		t.Fatalf("export has %d dialogs, want %d:\n%s", len(dialogs), len(want), out)
	}
	for i, d := range dialogs {
		if d["type"] != "tombstone" || d["status"] != want[i].status.String() || d["message_id"] != base64.RawURLEncoding.EncodeToString(h.Items[i].ID[:]) {
			t.Errorf("dialog %d exported as %v", i, d)
		}
		for _, k := range []string{"salt", "disposition", "body", "mediatype", "parties"} {
			if _, ok := d[k]; ok {
				t.Errorf("dialog %d: a tombstone has no %s: %v", i, k, d)
			}
		}
		if _, ok := d["originator"]; ok != (want[i].sender != "") {
			t.Errorf("dialog %d: originator %v, want one only for a known sender", i, d["originator"])
		}
	}
	h2, _ := readSpec(t, out)
	check("re-import", h2)
	for i := range h.Items {
		if h.Items[i].ID != h2.Items[i].ID {
			t.Errorf("item %d: ID changed on the round trip", i)
		}
	}
}

// vCon core allows empty party objects (redaction leaves them): the file
// imports, the redacted sender's messages keep a stable stand-in sender,
// and the report says so.
func TestSpecEmptyParty(t *testing.T) {
	doc := specDoc(t, "vcon/empty-party.json")
	h, rep := readSpec(t, doc)
	if len(h.Items) != 2 {
		t.Fatalf("%d items, want 2", len(h.Items))
	}
	if h.Items[0].Sender != "tel:+15551230001" {
		t.Errorf("first sender %q", h.Items[0].Sender)
	}
	anon := h.Items[1].Sender
	if anon == "" || anon == h.Items[0].Sender || anon == h.Room.ID {
		t.Errorf("redacted party's message has sender %q", anon)
	}
	if rep.Notes["parties without identity (redacted or empty), named <room>#party<index>"] != 1 {
		t.Errorf("report does not note the empty party:\n%s", rep)
	}
	h2, _ := readSpec(t, doc)
	if h2.Items[1].Sender != anon || h2.Items[1].ID != h.Items[1].ID {
		t.Errorf("stand-in sender or ID not stable across imports")
	}
}

// vCon core's content_hash is one token or an array of them: an external
// part keeps the first hash MIMI can carry (the others are reported), an
// attachment is checked against every token.
func TestSpecContentHashArray(t *testing.T) {
	doc := specDoc(t, "vcon/content-hash-array.json")
	h, rep := readSpec(t, doc)
	if len(h.Items) != 1 || h.Items[0].Msg == nil {
		t.Fatalf("%d items", len(h.Items))
	}
	x := h.Items[0].Msg.Body.External
	if x == nil || x.HashAlg != 1 || len(x.ContentHash) != 32 {
		t.Fatalf("external part %+v, want its sha256", x)
	}
	if rep.Dropped["content_hash tokens beyond the first of an external part (MIMI carries one hash)"] != 1 {
		t.Errorf("second hash not reported:\n%s", rep)
	}
	if len(h.Attachments) != 1 || string(h.Attachments[0].Body) != "hello, attachment" {
		t.Fatalf("attachments %+v", h.Attachments)
	}
	// A wrong token among several still refuses the attachment.
	bad := bytes.Replace(doc, []byte(`"sha512-`), []byte(`"sha512-AA`), 2)
	if _, _, _, err := history.Read(bytes.NewReader(bad), func(*history.Item) error { return nil }); err == nil {
		t.Error("a content_hash array with a wrong sha512 was accepted")
	}
}

// RFC 3339 times with the lower-case "t" and "z" its §5.6 allows import;
// digits beyond the model's milliseconds are reported, not cut silently.
func TestSpecTimes(t *testing.T) {
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).UnixMilli()
	for _, tc := range []struct {
		doc   string
		times []int64
		cut   int
	}{
		{"vcon/times.json", []int64{base + 250, base + 1123, base + 2500}, 1},
		{"cpim/times.cpim", []int64{base}, 1},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			h, rep := readSpec(t, specDoc(t, tc.doc))
			if len(h.Items) != len(tc.times) {
				t.Fatalf("%d items", len(h.Items))
			}
			for i, w := range tc.times {
				if h.Items[i].Time != w {
					t.Errorf("item %d: time %d, want %d", i, h.Items[i].Time, w)
				}
			}
			if got := rep.Dropped["sub-millisecond digits of times (cut to milliseconds)"]; got != tc.cut {
				t.Errorf("%d times reported cut, want %d:\n%s", got, tc.cut, rep)
			}
		})
	}
}

// CPIM documents as RFC 3862, RFC 2045 and RFC 5438 allow them.
func TestSpecCPIM(t *testing.T) {
	for _, tc := range []struct {
		doc   string
		texts []string // text of each message, "" for a status report
	}{
		{"cpim/quoted-printable.cpim", []string{"Café at noon? This line is long enough that the sender wrapped it with a soft line break."}},
		{"cpim/latin1.cpim", []string{"Café crème à côté"}},
		{"cpim/back-to-back.cpim", []string{"First message.", "Second message."}},
		{"cpim/back-to-back-bare.cpim", []string{"First message.", "Second message."}},
		{"cpim/body-quotes-headers.cpim", []string{"Forwarding this:\n\nFrom: Carol <mimi://example.com/u/carol>\nTo: the team\n\nLunch is at noon."}},
		{"cpim/imdn.cpim", []string{"Are you there?", "", ""}},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			h, rep := readSpec(t, specDoc(t, tc.doc))
			if len(h.Items) != len(tc.texts) {
				t.Fatalf("%d items, want %d\n%s", len(h.Items), len(tc.texts), rep)
			}
			for i, w := range tc.texts {
				m := h.Items[i].Msg
				if w == "" {
					continue
				}
				if m.Body.Cardinality != content.Single || string(m.Body.Content) != w {
					t.Errorf("item %d: body %q (%s), want %q", i, m.Body.Content, m.Body.ContentType, w)
				}
				if mt, ps, _ := mime.ParseMediaType(m.Body.ContentType); mt != "text/plain" || ps["charset"] != "" && !strings.EqualFold(ps["charset"], "utf-8") {
					t.Errorf("item %d: content type %q", i, m.Body.ContentType)
				}
			}
			if tc.doc != "cpim/imdn.cpim" {
				return
			}
			want := []content.Status{content.StatusDelivered, content.StatusRead}
			for i, w := range want {
				sr, err := h.Items[1+i].Msg.StatusReport()
				if err != nil || len(sr) != 1 || sr[0].ID != h.Items[0].ID || sr[0].Status != w {
					t.Errorf("notification %d: %v %v, want %v of the first message", i, sr, err, w)
				}
			}
		})
	}
}

// What the model or the cache cannot keep is reported by its JSON path,
// and what it can keep (a body by reference, a JSON string, the room's
// subject and description, the members' names, roles and thumbprints) is
// kept: TestSpecProfileKept.
func TestSpecNothingLostSilently(t *testing.T) {
	doc := specDoc(t, "vcon/unkept.json")
	st := openStore(t)
	_, rep, _, err := cache.ImportFile(st, bytes.NewReader(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	reported := func(path string) int {
		n := 0
		for _, m := range []map[string]int{rep.Dropped, rep.Notes} {
			for k, v := range m {
				if strings.HasPrefix(k, path+" ") || strings.HasPrefix(k, path+":") {
					n += v
				}
			}
		}
		return n
	}
	for _, c := range []struct {
		path string
		n    int
	}{
		{"$.subject", 0}, {"$.room", 0}, {"$.parties", 0},
		{"$.analysis", 1}, {"$.redacted", 1}, {"$.amended", 1}, {"$.appended", 1},
		{"$.dialog[].body", 1}, {"$.dialog[].url", 1},
	} {
		if got := reported(c.path); got != c.n {
			t.Errorf("%s reported %d times, want %d", c.path, got, c.n)
		}
	}
	if t.Failed() {
		t.Logf("report:\n%s", rep)
	}
	h, _ := readSpec(t, doc)
	if len(h.Items) != 3 {
		t.Fatalf("%d items", len(h.Items))
	}
	if b := h.Items[0].Msg.Body; string(b.Content) != "quoted in JSON" {
		t.Errorf("JSON string body %q, want its value", b.Content)
	}
	if b := h.Items[1].Msg.Body; string(b.Content) != `{"lunch":"12:30"}` {
		t.Errorf("JSON object body %q, want the JSON text", b.Content)
	}
	if b := h.Items[2].Msg.Body; b.Cardinality != content.External || b.External.URL != "https://example.com/transcripts/3.txt" || b.External.HashAlg != 8 {
		t.Errorf("dialog by url: %+v, want an external part with its sha512", b)
	}
}

// Every spec document survives import → export → import: the same items
// (IDs, senders, times, content bytes, tombstones) in the same order.
func TestSpecRoundTrip(t *testing.T) {
	docs, _ := filepath.Glob(filepath.Join("testdata", "spec", "*", "*"))
	for _, path := range docs {
		name, _ := filepath.Rel(filepath.Join("testdata", "spec"), path)
		for _, f := range []history.Format{history.FormatVCon, history.FormatCPIM} {
			t.Run(name+"→"+string(f), func(t *testing.T) {
				h, _ := readSpec(t, specDoc(t, name))
				var buf bytes.Buffer
				now := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC).UnixMilli()
				if _, err := history.Export(&buf, h.Room, history.SliceSource(h.Items), history.ExportOptions{Format: f, Now: now, Members: h.Members}); err != nil {
					t.Fatal(err)
				}
				h2, _ := readSpec(t, buf.Bytes())
				if f == history.FormatVCon {
					sameProfile(t, h, h2)
				}
				if len(h2.Items) != len(h.Items) {
					t.Fatalf("%d items after the round trip, want %d", len(h2.Items), len(h.Items))
				}
				for i := range h.Items {
					a, b := h.Items[i], h2.Items[i]
					// CPIM has no tombstone: it carries an empty placeholder (documented).
					tombstoneLost := f == history.FormatCPIM && a.Tombstone != history.NoTombstone
					if a.ID != b.ID || a.Sender != b.Sender || a.Time != b.Time || a.Tombstone != b.Tombstone && !tombstoneLost {
						t.Errorf("item %d: %x %s %d %v, after the round trip %x %s %d %v", i, a.ID[:4], a.Sender, a.Time, a.Tombstone, b.ID[:4], b.Sender, b.Time, b.Tombstone)
					}
					if f == history.FormatVCon && !bytes.Equal(a.Raw, b.Raw) {
						t.Errorf("item %d: content changed on the vCon round trip", i)
					}
				}
			})
		}
	}
}

// sameProfile fails unless b has a's room (name, subject, description,
// avatar, mood) and members (names, roles, thumbprints), in any order.
func sameProfile(t *testing.T, a, b *history.History) {
	t.Helper()
	if !reflect.DeepEqual(a.Room, b.Room) {
		t.Errorf("room %+v, after the round trip %+v", a.Room, b.Room)
	}
	sorted := func(ms []history.Member) []history.Member {
		out := slices.Clone(ms)
		slices.SortFunc(out, func(x, y history.Member) int { return strings.Compare(x.URI, y.URI) })
		return out
	}
	if x, y := sorted(a.Members), sorted(b.Members); !reflect.DeepEqual(x, y) {
		t.Errorf("members %+v, after the round trip %+v", x, y)
	}
}

// The room's subject and description and the members' display names,
// roles and thumbprints are kept: in the cache after an import, in an
// export of the cached room, and the same after importing that export
// (import → export → import gives the same model). A second import of a
// history without them keeps them.
func TestSpecProfileKept(t *testing.T) {
	doc := specDoc(t, "vcon/unkept.json")
	h, _ := readSpec(t, doc)
	if h.Room.Subject != "Planning the offsite" || len(h.Room.Description) != 1 {
		t.Fatalf("model room %+v: want the top-level subject as the topic and the description", h.Room)
	}
	st := openStore(t)
	if _, _, _, err := cache.ImportFile(st, bytes.NewReader(doc), ""); err != nil {
		t.Fatal(err)
	}
	room, members, ok, err := cache.Room(st, h.Room.ID)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	h1 := &history.History{Room: room, Members: members}
	sameProfile(t, h, h1)
	for _, f := range []history.Format{history.FormatVCon, history.FormatCPIM} {
		var buf bytes.Buffer
		now := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC).UnixMilli()
		if _, err := history.Export(&buf, room, cache.Source(st, room.ID), history.ExportOptions{Format: f, Now: now, Members: members}); err != nil {
			t.Fatal(err)
		}
		h2, _ := readSpec(t, buf.Bytes())
		if f == history.FormatVCon {
			sameProfile(t, h, h2)
			continue
		}
		// CPIM carries display names in From: (of members who sent).
		for _, m := range h2.Members {
			if m.URI == "mimi://example.com/u/alice" && m.Name != "Alice Liddell" {
				t.Errorf("CPIM export: From: %q, want Alice's display name", m.Name)
			}
		}
	}
	// The same history without names, roles and description again (all its
	// messages cached already) keeps them.
	plain := strings.NewReplacer(`"name": "Alice Liddell",`, "", `"role": "owner",`, "", `"description"`, `"x_description"`).Replace(string(doc))
	if _, _, res, err := cache.ImportFile(st, strings.NewReader(plain), ""); err != nil || res.Duplicates != 3 {
		t.Fatal(res, err)
	}
	if _, again, _, _ := cache.Room(st, h.Room.ID); !reflect.DeepEqual(again, members) {
		t.Errorf("members after a second import %+v, want %+v", again, members)
	}
}
