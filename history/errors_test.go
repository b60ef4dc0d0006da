package history

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"mimichat/content"
)

// Bad input is refused with an ImportError naming the JSON path (vCon) or
// the line (CPIM).
func TestImportErrorsNameWhere(t *testing.T) {
	now := t0.Add(2 * time.Hour).UnixMilli()
	items := everyKind(t).items
	doc := string(exportVCon(t, items, now))
	cpim, _ := exportCPIM(t, items, now)
	nth := func(s, sub string, n int) int {
		i := -1
		for ; n >= 0; n-- {
			j := strings.Index(s[i+1:], sub)
			if j < 0 {
				t.Fatalf("no %q", sub)
			}
			i += 1 + j
		}
		return i
	}
	replaceAt := func(s string, at int, old, new string) string { return s[:at] + strings.Replace(s[at:], old, new, 1) }
	cases := []struct {
		name, doc string
		read      func(*strings.Reader) error
		where     string
	}{
		{"vcon salt", replaceAt(doc, nth(doc, `"salt":"`, 2), `"salt":"`, `"salt":"AAAA`), nil, "$.dialog[10].salt"},
		{"vcon originator", replaceAt(doc, nth(doc, `"originator":`, 0), `"originator":`, `"originator":9`), nil, "$.dialog[0].party_history[0].originator"},
		{"vcon reply", replaceAt(doc, nth(doc, `"in_reply_to":"`, 0), `"in_reply_to":"`, `"in_reply_to":"x`), nil, "$.dialog[11].in_reply_to"},
		{"vcon part", strings.Replace(doc, `"part_semantics":"chooseOne"`, `"part_semantics":"pickAny"`, 1), nil, ".multi_part.part_semantics"},
		{"vcon critical", strings.Replace(doc, `"extensions":`, `"critical":["lawful_intercept"],"extensions":`, 1), nil, "$.critical[0]"},
		{"vcon truncated", doc[:len(doc)/2], nil, "$.dialog["},
		{"cpim date", strings.Replace(string(cpim), "DateTime: 2026", "DateTime: yesterday 2026", 1), nil, "line 8"},
		{"cpim from", strings.Replace(string(cpim), "From: <mimi://example.com/u/bob>", "From: bob", 1), nil, "line "},
		{"cpim receipt", strings.Replace(string(cpim), "dispo=read", "dispo=devoured", 1), nil, "line "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, _, err := Read(strings.NewReader(c.doc), func(*Item) error { return nil })
			var ie *ImportError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.where) {
				t.Fatalf("err = %v, want an ImportError at %q", err, c.where)
			}
			t.Log(err)
		})
	}
}

// --since and --thread select a period and a thread.
func TestExportSinceAndThread(t *testing.T) {
	now := t0.Add(2 * time.Hour).UnixMilli()
	items := everyKind(t).items
	read := func(opts ExportOptions) []Item {
		var buf bytes.Buffer
		opts.Format, opts.Now = FormatVCon, now
		if _, err := Export(&buf, Room{ID: roomURI}, SliceSource(items), opts); err != nil {
			t.Fatal(err)
		}
		h, _ := readAll(t, func(s func(*Item) error) (*History, *Report, error) { return ReadVCon(bytes.NewReader(buf.Bytes()), s) })
		return h.Items
	}
	thread := read(ExportOptions{Thread: []byte("release-2")})
	if len(thread) != 2 || string(thread[0].Msg.TopicID) != "release-2" || *thread[1].Msg.InReplyTo != thread[0].ID {
		t.Fatalf("thread export: %d items", len(thread))
	}
	since := items[20].Time
	period := read(ExportOptions{Since: since})
	for _, it := range period {
		if it.Time < since {
			t.Fatalf("item at %d before --since %d", it.Time, since)
		}
	}
	if len(period) == 0 || len(period) >= len(items)-19 {
		t.Fatalf("since export: %d items of %d", len(period), len(items))
	}
}

// --embed-attachments: the plaintext travels in attachments with a
// dialog_object_ref and a checked hash.
func TestEmbeddedAttachments(t *testing.T) {
	now := t0.Add(2 * time.Hour).UnixMilli()
	items := everyKind(t).items
	var buf bytes.Buffer
	fetch := func(id content.MessageID, idx int, p *content.NestedPart) ([]byte, bool, error) {
		if p.Disposition != content.Attachment {
			return nil, false, nil
		}
		return []byte("PNG bytes of " + p.External.Filename), true, nil
	}
	rep, err := Export(&buf, Room{ID: roomURI}, SliceSource(items), ExportOptions{Format: FormatVCon, Now: now, Fetch: fetch})
	if err != nil || rep.Notes["attachments embedded"] != 1 {
		t.Fatalf("export: %v %v", err, rep.Notes)
	}
	h, _ := readAll(t, func(s func(*Item) error) (*History, *Report, error) { return ReadVCon(bytes.NewReader(buf.Bytes()), s) })
	if len(h.Attachments) != 1 || string(h.Attachments[0].Body) != "PNG bytes of cat.png" || h.Attachments[0].PartIndex != 0 {
		t.Fatalf("attachments %+v", h.Attachments)
	}
	doc := buf.Bytes()
	at := bytes.Index(doc, []byte(`"attachments":[`))
	tampered := append(append([]byte(nil), doc[:at]...), bytes.Replace(doc[at:], []byte(`"body":"`), []byte(`"body":"AAAA`), 1)...)
	if _, _, err := ReadVCon(bytes.NewReader(tampered), func(*Item) error { return nil }); err == nil || !strings.Contains(err.Error(), "$.attachments[0]") {
		t.Fatalf("tampered attachment: %v", err)
	}
}
