package history

import (
	"slices"
	"strings"
	"testing"
)

// The walker behind the unmapped-field reports: keys matched as
// encoding/json matches them (case-insensitively), escaped keys decoded,
// nested objects and arrays followed, duplicates named.
func TestUnmappedFields(t *testing.T) {
	type inner struct {
		A string `json:"a"`
	}
	type outer struct {
		ID    string          `json:"id"`
		In    *inner          `json:"in"`
		List  []inner         `json:"list"`
		Raw   []byte          `json:"raw"`
		Whole map[string]bool `json:"whole"`
	}
	for _, tc := range []struct {
		doc  string
		want []string
	}{
		{`{"id":"x","in":{"a":"1"},"list":[{"a":"2"}]}`, nil},
		{`{"ID":"x","In":{"A":"1"}}`, nil},
		{`{"id":"x","extra":{"deep":[1,{"k":"}"}]},"in":{"a":"1","b":2}}`, []string{"$.extra", "$.in.b"}},
		{`{"list":[{"a":"2"},{"a":"3","c":null}],"z\u0041":"q"}`, []string{"$.list[].c", "$.zA"}},
		{`{"id":"x","id":"y"}`, []string{"$.id"}},
		{`{"whole":{"anything":true},"raw":"AAEC"}`, nil},
	} {
		rep := newReport(FormatVCon)
		unmappedFields([]byte(tc.doc), schemaFor[outer](), "$", rep)
		var paths []string
		for reason := range rep.Dropped {
			for _, suffix := range []string{": " + unmappedField, ": " + duplicateField} {
				if p, ok := strings.CutSuffix(reason, suffix); ok {
					paths = append(paths, p)
				}
			}
		}
		slices.Sort(paths)
		if !slices.Equal(paths, tc.want) {
			t.Errorf("%s: reported %v, want %v", tc.doc, paths, tc.want)
		}
	}
}

// A field shadowing an embedded struct's keeps one number: no other key
// counts as its duplicate.
func TestUnmappedFieldsShadowed(t *testing.T) {
	rep := newReport(FormatVCon)
	unmappedFields([]byte(`{"parties":[0],"url":"u","content_hash":"h","type":"text","start":"s","body":"b"}`), schemaFor[vDialogIn](), "$", rep)
	if !rep.Lossless() {
		t.Errorf("reported %v", rep.Dropped)
	}
}
