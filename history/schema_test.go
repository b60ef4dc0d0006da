package history

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Exported vCons validate against the core-03 JSON schema except where the
// MIMI extension conflicts with it (docs/history.md lists them):
//   - dialog type "tombstone" is not in the core enum;
//   - a standalone party_history dialog element has no type/start and MIMI
//     event names (add, leave, ...) outside the core enum;
//   - dialog "disposition" is MIMI's (reaction, attachment, ...) where core
//     reserves the name for incomplete-call reasons.
func TestExportedVConValidatesAgainstSchema(t *testing.T) {
	const schemaPath = "../../shared/samples/vcon/vcon-core-03_vcon_json_schema.json"
	f, err := os.Open(schemaPath)
	if err != nil {
		t.Skipf("schema absent: %v", err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("vcon.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("vcon.json")
	if err != nil {
		t.Fatal(err)
	}
	validate := func(data []byte) []*jsonschema.ValidationError {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		var ve *jsonschema.ValidationError
		if err := sch.Validate(inst); !errors.As(err, &ve) {
			if err != nil {
				t.Fatal(err)
			}
			return nil
		}
		return leaves(ve)
	}

	r := everyKind(t)
	now := t0.Add(2 * time.Hour).UnixMilli()
	// Plain messages only: no conflict at all.
	var plain []Item
	for _, it := range r.items {
		if it.Event == nil && it.Msg.Replaces == nil && it.Msg.Body.Disposition == 1 && it.Msg.Expires == nil {
			plain = append(plain, it)
		}
	}
	if errs := validate(exportVCon(t, plain, now)); len(errs) > 0 {
		for _, e := range errs {
			t.Errorf("plain export: %s: %v", "/"+strings.Join(e.InstanceLocation, "/"), e)
		}
	}
	// Every kind: only the documented conflicts.
	data := exportVCon(t, r.items, now)
	h, _ := readAll(t, func(s func(*Item) error) (*History, *Report, error) { return ReadVCon(bytes.NewReader(data), s) })
	errs := validate(data)
	if len(errs) == 0 {
		t.Fatal("expected the documented conflicts (tombstones, party_history, MIMI dispositions)")
	}
	for _, e := range errs {
		t.Logf("conflict at /%s: %v", strings.Join(e.InstanceLocation, "/"), e.ErrorKind)
		loc := e.InstanceLocation
		if len(loc) < 2 || loc[0] != "dialog" {
			t.Errorf("undocumented schema conflict at /%s: %v", strings.Join(loc, "/"), e)
			continue
		}
		i, _ := strconv.Atoi(loc[1])
		it := h.Items[i]
		switch {
		case it.Tombstone != NoTombstone && len(loc) == 3 && loc[2] == "type":
		case it.Event != nil && (len(loc) == 2 || len(loc) >= 4 && loc[2] == "party_history" && loc[4] == "event"):
		case len(loc) == 3 && loc[2] == "disposition":
		default:
			t.Errorf("undocumented schema conflict at /%s: %v", strings.Join(loc, "/"), e)
		}
	}
}

func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}
