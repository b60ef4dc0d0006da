package content

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestStatusReportErrors(t *testing.T) {
	entry := func(id, status string) string { return "82" + id + status }
	ok := entry(hID, "02")
	cases := []struct {
		name string
		in   []byte
		kind error
		path string
	}{
		{"empty", nil, ErrTruncated, "report"},
		{"map", x("a0"), ErrNotStatusReport, "report"},
		{"indefinite", x("9f ff"), ErrIndefinite, "report"},
		{"trailing", x("81" + ok + "00"), ErrTrailingBytes, "report"},
		{"huge claim", x("9b 1000000000000000"), ErrTruncated, "report"},
		{"entry not array", x("82" + ok + "01"), ErrType, "report[1]"},
		{"entry of 3", x("82" + ok + "83" + hID + "02 02"), ErrArrayLength, "report[1]"},
		{"id 31 bytes", x("83" + ok + ok + entry("581f"+strings.Repeat("01", 31), "00")), ErrIDSize, "report[2].messageId"},
		{"id hash alg", x("81" + entry("5820 05"+strings.Repeat("00", 31), "00")), ErrHashAlg, "report[0].messageId"},
		{"id text", x("81" + entry("60", "00")), ErrType, "report[0].messageId"},
		{"status 256", x("81" + entry(hID, "19 0100")), ErrRange, "report[0].status"},
		{"status negative", x("81" + entry(hID, "20")), ErrType, "report[0].status"},
	}
	for _, c := range cases {
		_, err := DecodeStatusReport(c.in)
		var de *DecodeError
		if !errors.As(err, &de) || !errors.Is(err, c.kind) || de.Path != c.path {
			t.Errorf("%s: got %v (%+v), want %v at %q", c.name, err, de, c.kind, c.path)
		}
	}
}

func TestStatusReportRoundTrip(t *testing.T) {
	var rep StatusReport
	for s := 0; s < 256; s += 17 {
		id := MessageID{0x01, byte(s)}
		rep = append(rep, StatusEntry{ID: id, Status: Status(s)})
	}
	b, err := rep.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeStatusReport(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rep) {
		t.Fatalf("%d entries, want %d", len(got), len(rep))
	}
	for i := range rep {
		if got[i] != rep[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], rep[i])
		}
	}
	if got[1].Status.Known() || got[1].Status.String() != "unknown(17)" || StatusRead.String() != "read" {
		t.Errorf("status names: %v %v", got[1].Status, StatusRead)
	}
	empty, err := StatusReport(nil).Encode()
	if err != nil || !bytes.Equal(empty, []byte{0x80}) {
		t.Errorf("empty report = %x, %v", empty, err)
	}
	bad := StatusReport{{ID: MessageID{0x02}}}
	if _, err := bad.Encode(); !errors.Is(err, ErrHashAlg) || !strings.HasPrefix(err.Error(), "report[0].messageId") {
		t.Errorf("bad ID encoded: %v", err)
	}
}

// phnx-im carriage: SinglePart [0, "", 1, "application/mimi-message-status", report].
func TestStatusCarriage(t *testing.T) {
	raw := readHex(t, filepath.Join(vectorsPath(t), "16-message-status-report.hex"))
	rep, err := DecodeStatusReport(raw)
	if err != nil {
		t.Fatal(err)
	}
	body, err := StatusBody(rep)
	if err != nil {
		t.Fatal(err)
	}
	m := &Message{Body: body}
	m.Extensions.SetSenderURI("mimi://example.com/u/bob-jones")
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := append(x("85 00 60 01 78 1f"), "application/mimi-message-status"...)
	want = append(append(want, 0x58, byte(len(raw))), raw...)
	if !bytes.HasSuffix(enc, want) {
		t.Errorf("carriage body:\n got %x\nwant suffix %x", enc, want)
	}
	got, err := Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !IsStatusUpdate(got) {
		t.Fatal("not recognised as a status update")
	}
	rep2, err := got.StatusReport()
	if err != nil || len(rep2) != 4 || rep2[3].Status != StatusExpired {
		t.Errorf("StatusReport() = %v, %v", rep2, err)
	}

	for ct, want := range map[string]bool{
		"application/mimi-message-status":               true,
		"Application/MIMI-Message-Status":               true,
		" application/mimi-message-status ; foo=bar":    true,
		"application/mimi-message-status;charset=utf-8": true,
		"application/mimi-message-statusx":              false,
		"application/mimi-content":                      false,
		"":                                              false,
	} {
		if IsStatusMediaType(ct) != want {
			t.Errorf("IsStatusMediaType(%q) != %v", ct, want)
		}
	}
	text := &Message{Body: NestedPart{Cardinality: Single, ContentType: "text/plain", Content: raw}}
	if IsStatusUpdate(text) || IsStatusUpdate(nil) {
		t.Errorf("text message taken for a status update")
	}
	if _, err := text.StatusReport(); !errors.Is(err, ErrNotStatusUpdate) {
		t.Errorf("StatusReport on text: %v", err)
	}
	broken := &Message{Body: NestedPart{Cardinality: Single, ContentType: StatusMediaType, Content: x("81 80 00 00")}}
	_, err = broken.StatusReport()
	var de *DecodeError
	if !errors.As(err, &de) || de.Path != "nestedPart.content.report[0]" {
		t.Errorf("broken report: %v", err)
	}
}

// The -06 report (IDs from the buggy -06 generator) has the same shape.
func TestLegacy06StatusReport(t *testing.T) {
	raw := readHex(t, filepath.Join(vectorsPath(t), "legacy-draft-06", "report.hex"))
	rep, err := DecodeStatusReport(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := []Status{StatusRead, StatusRead, StatusUnread, StatusExpired}
	if len(rep) != 4 || rep[0].ID.String() != "010714238126772e253118df3cd18fa69f90841d7df1f6f0cddab1f0dc0c9a26" {
		t.Fatalf("report = %v", rep)
	}
	for i, s := range want {
		if rep[i].Status != s {
			t.Errorf("entry %d status %v, want %v", i, rep[i].Status, s)
		}
	}
	if enc, err := rep.Encode(); err != nil || !bytes.Equal(enc, raw) {
		t.Errorf("re-encode differs: %v", err)
	}
}
