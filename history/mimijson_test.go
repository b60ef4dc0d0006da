package history

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func readMIMIJSONFile(t *testing.T, path string) (*History, *Report) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return readAll(t, func(s func(*Item) error) (*History, *Report, error) { return ReadMIMIJSON(f, s) })
}

// The draft's own example: a reaction whose target is only embedded still
// renders, because the embedded reference is imported as a message.
func TestMIMIJSONEmbeddedReference(t *testing.T) {
	h, rep := readMIMIJSONFile(t, "testdata/mimijson/reaction.json")
	if h.Room.ID != "mimi://whatsapp.com/r/72c659b7-d1f7-46ab-ae73-2339e3839036" || len(h.Items) != 2 {
		t.Fatalf("room %q, %d items", h.Room.ID, len(h.Items))
	}
	tl := timelineOf(h.Items, 0)
	if tl.Len() != 1 {
		t.Fatalf("rows %d", tl.Len())
	}
	it := tl.At(0)
	if string(it.Body.Content) != "Sure, I will join you guys *l8r*" || it.Sender != "tel:+17329876543" {
		t.Fatalf("row %+v", it)
	}
	g := tl.Reactions(it.ID)
	if len(g) != 1 || g[0].Key != "❤" || g[0].Who[0].User != "tel:+14085551212" {
		t.Fatalf("reactions %+v", g)
	}
	if rep.Dropped["refersTo (the sender's latest visible message; no MIMI field)"] != 1 {
		t.Errorf("refersTo not reported: %v", rep.Dropped)
	}
}

func TestMIMIJSONRoom(t *testing.T) {
	h, _ := readMIMIJSONFile(t, "testdata/mimijson/room.json")
	tl := timelineOf(h.Items, 0)
	s := snapshot(tl, carries{topics: true, deletedBy: true})
	for _, want := range []string{`"hello, edited"`, "reaction 👍", `"edited, original not in this file"`, "del=true"} {
		if !strings.Contains(s, want) {
			t.Errorf("snapshot lacks %q:\n%s", want, s)
		}
	}
	if tl.Len() != 3 {
		t.Errorf("rows %d:\n%s", tl.Len(), s)
	}
}

func TestMIMIJSONErrorsNamePath(t *testing.T) {
	for _, c := range []struct{ doc, path string }{
		{`[{"ID":"a","chat":{"ID":"c","provider":"p"},"sender":"s","type":"content","text":"x"},{"ID":"b","sender":"s","type":"reaction","reaction":{"unicode":"U+1F44D"}}]`, "$[1].reference"},
		{`[{"ID":"a","chat":{"ID":"c","provider":"p"},"sender":"s","type":"poll"}]`, "$[0].type"},
		{`{"ID":"a","sender":"s","type":"content"}`, "$[0].chat"},
		{`[{"ID":"a","chat":{"ID":"c","provider":"p"},"sender":"s","type":"reaction","reaction":{"unicode":"U+ZZ"},"reference":{"ID":"b","sender":"s"}}]`, "$[0].reaction.unicode"},
	} {
		_, _, err := ReadMIMIJSON(strings.NewReader(c.doc), func(*Item) error { return nil })
		var ie *ImportError
		if !errors.As(err, &ie) || ie.Path != c.path {
			t.Errorf("%s: err %v, want path %s", c.doc, err, c.path)
		}
	}
}
