package history_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"reflect"
	"strings"
	"testing"

	"mimichat/history"
	"mimichat/history/cache"
)

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// An e-mail thread as vCon core writes it (parties by mailto/tel, dialog
// parties with nested channels and a null, base64url body, a time with an
// offset, call dialogs, an attachment tied by dialog index) imports the
// same from its gzip form (application/vcon+gzip, which receivers SHOULD
// accept), and each thing the model cannot hold is named in the report.
func TestSpecEmailThreadAndGzip(t *testing.T) {
	doc := specDoc(t, "vcon/email-text.json")
	plain, plainRep := readSpec(t, doc)
	zipped, zipRep := readSpec(t, gzipped(t, doc))
	if !reflect.DeepEqual(plain.Items, zipped.Items) || plainRep.String() != zipRep.String() {
		t.Fatalf("gzip'd document read differently:\n%s\nplain:\n%s", zipRep, plainRep)
	}
	if len(plain.Items) != 3 {
		t.Fatalf("%d items, want the 3 text dialogs", len(plain.Items))
	}
	senders := []string{"mailto:alice@example.com", "mailto:bob@example.com", "tel:+15551234567"}
	for i, it := range plain.Items {
		if it.Sender != senders[i] {
			t.Errorf("item %d sender %q, want %q", i, it.Sender, senders[i])
		}
	}
	if got := string(plain.Items[2].Msg.Body.Content); got != "**great**" {
		t.Errorf("base64url body %q", got)
	}
	if got, want := plain.Items[2].Time, int64(1793602980000); got != want {
		t.Errorf("time with +01:00 offset = %d, want %d", got, want)
	}
	for _, want := range []string{
		"$.dialog[].parties: recipients", "$.attachments[]: attachments without a dialog_object_ref",
		"dialogs of type incomplete", "dialogs of type recording", "sub-millisecond digits",
	} {
		if !strings.Contains(plainRep.String(), want) {
			t.Errorf("report does not name %q:\n%s", want, plainRep)
		}
	}
}

// A damaged gzip file is refused with an error and changes nothing.
func TestSpecGzipDamagedChangesNothing(t *testing.T) {
	z := gzipped(t, specDoc(t, "vcon/email-text.json"))
	for name, b := range map[string][]byte{
		"truncated": z[:len(z)/2],
		"checksum":  append(append([]byte(nil), z[:len(z)-8]...), 0, 0, 0, 0, 0, 0, 0, 0),
		"header":    {0x1f, 0x8b, 0x00},
		"nested":    gzipped(t, z),
	} {
		st := openStore(t)
		_, _, _, err := cache.ImportFile(st, bytes.NewReader(b), "")
		var ie *history.ImportError
		if !errors.As(err, &ie) {
			t.Errorf("%s: error %v, want a history.ImportError", name, err)
		}
		if rooms, err := st.Rooms(); err != nil || len(rooms) != 0 {
			t.Errorf("%s: %d rooms after a refused import (%v)", name, len(rooms), err)
		}
	}
}
