package mls

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// vectorDir is the official RFC 9420 test vectors, outside the module.
var vectorDir = filepath.Join("..", "..", "shared", "vectors", "mls")

func loadVectors(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, name))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("MLS test vectors absent: %s not found (expected ../shared/vectors/mls beside the project)", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// hexBytes decodes JSON hex strings.
type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == nil {
		*h = nil
		return nil
	}
	d, err := hex.DecodeString(*s)
	*h = d
	return err
}

// tally counts checked and skipped entries and reports them when the test ends.
type tally struct {
	t                *testing.T
	checked, skipped int
}

func newTally(t *testing.T) *tally {
	c := &tally{t: t}
	t.Cleanup(func() {
		t.Logf("%s: checked %d entries, skipped %d (unsupported cipher suites)", t.Name(), c.checked, c.skipped)
		if c.checked == 0 && !t.Skipped() {
			t.Errorf("no entries checked")
		}
	})
	return c
}

// suite returns the suite or counts a skip.
func (c *tally) suite(cs uint16) *suite {
	s, err := lookupSuite(CipherSuite(cs))
	if err != nil {
		c.skipped++
		return nil
	}
	return s
}

func eqHex(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if string(got) != string(want) {
		t.Errorf("%s mismatch:\n got %x\nwant %x", what, got, want)
	}
}
