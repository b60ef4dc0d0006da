package history_test

import (
	"bytes"
	"strings"
	"testing"

	"mimichat/content"
	"mimichat/history"
)

// RFC 3862's Subject comes back as a Subject header from a CPIM round trip;
// one that cannot be a header as it is (a line break, a leading ";") is not
// written and stays reported.
func TestCPIMSubject(t *testing.T) {
	doc := "From: Piglet <im:piglet@100akerwood.com>\r\nTo: <im:eeyore@100akerwood.com>\r\n" +
		"DateTime: 2000-12-13T13:40:00-08:00\r\nSubject: the weather will be fine today\r\n" +
		"Subject:;lang=fr beau temps prevu\r\n\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
	h, rep := readSpec(t, []byte(doc))
	if !strings.Contains(rep.String(), "Subject language variants") {
		t.Errorf("language variant not reported:\n%s", rep)
	}
	if s, ok, err := h.Items[0].Msg.Extensions.Subject(); !ok || err != nil || s != "the weather will be fine today" {
		t.Fatalf("subject %q %v %v", s, ok, err)
	}
	for _, c := range []struct {
		subject, header string
		dropped         bool
	}{
		{"the weather will be fine today", "Subject: the weather will be fine today\r\n", false},
		{"two\r\nFrom: <im:mallory@evil.example>", "", true},
		{";lang=fr looks like a tag", "", true},
		{"tab\there", "", true},
	} {
		m := &content.Message{Body: content.NestedPart{Cardinality: content.Single, ContentType: "text/plain", Content: []byte("hi")}}
		if err := m.Extensions.SetSubject(c.subject); err != nil {
			t.Fatal(err)
		}
		it := history.Item{Seq: 1, Time: 1, Sender: "mimi://example.com/u/alice", Msg: m}
		var buf bytes.Buffer
		rep, err := history.Export(&buf, history.Room{ID: "mimi://example.com/r/x"}, history.SliceSource([]history.Item{it}), history.ExportOptions{Format: history.FormatCPIM, Now: 1})
		if err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if c.header != "" && !strings.Contains(out, c.header) {
			t.Errorf("%q: no %q in\n%s", c.subject, c.header, out)
		}
		if strings.Contains(out, "mallory") || (c.header == "" && strings.Contains(out, "Subject:")) {
			t.Errorf("%q written as a header:\n%s", c.subject, out)
		}
		if got := strings.Contains(rep.String(), "MIMI extensions"); got != c.dropped {
			t.Errorf("%q: extensions reported %v, want %v:\n%s", c.subject, got, c.dropped, rep)
		}
	}
}
