package history

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// appendDialog writes exactly what json.Marshal writes: for the dialog of
// every item of the every-kind room and of the 100k room, and for random
// dialogs whose strings and bodies hold what encoding/json escapes.
func TestAppendDialogIsMarshal(t *testing.T) {
	items := append(append([]Item(nil), everyKind(t).items...), big(t)...)
	vw, err := NewVConWriter(&bytes.Buffer{}, Room{ID: roomURI}, MembersOf(items), VConOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byHand := 0
	for i := range items {
		d, err := vw.dialog(&items[i])
		if err != nil {
			t.Fatal(err)
		}
		if dialogByHand(d) {
			byHand++
		}
		checkAppendDialog(t, d)
	}
	if byHand < len(items)*9/10 {
		t.Errorf("only %d of %d dialogs written by hand", byHand, len(items))
	}
	rng := rand.New(rand.NewPCG(18, 15))
	for range 5000 {
		checkAppendDialog(t, randomDialog(rng))
	}
}

func checkAppendDialog(t *testing.T, d *vDialog) {
	t.Helper()
	want, werr := json.Marshal(d)
	got, gerr := appendDialog([]byte("prefix"), d)
	if (werr != nil) != (gerr != nil) || !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Fatalf("appendDialog differs from json.Marshal\nwant %s (%v)\ngot  %s (%v)", want, werr, got[len("prefix"):], gerr)
	}
}

// randomDialog draws a dialog whose every field may be set, with strings
// from an alphabet of what JSON escapes (quotes, controls, HTML, U+2028,
// invalid UTF-8, non-ASCII).
func randomDialog(rng *rand.Rand) *vDialog {
	alphabet := []string{"a", "Z", "0", " ", "\"", "\\", "/", "<", ">", "&", "\n", "\t", "\x00", "\x1f", "\x7f",
		"é", "😀", "\u2028", "\u2029", "\u2026", "\xe2\x80", "\xff", "\xe2", "-", "_", "+", ":"}
	str := func() string {
		if rng.IntN(3) == 0 {
			return ""
		}
		var b []byte
		for range rng.IntN(12) {
			b = append(b, alphabet[rng.IntN(len(alphabet))]...)
		}
		return string(b)
	}
	d := &vDialog{Type: str(), Start: str(), MessageID: str(), Salt: str(), Replaces: str(), TopicID: str(),
		InReplyTo: str(), MIMIExtensions: str(), Disposition: str(), Language: str(), Status: str()}
	d.MediaType, d.MimeType, d.Encoding = str(), str(), str()
	if rng.IntN(2) == 0 {
		dur := []float64{0, math.Copysign(0, -1), 1.5, 1e21}[rng.IntN(4)]
		d.Duration = &dur
	}
	if rng.IntN(2) == 0 {
		d.Parties = []int{0, rng.IntN(100) - 50}[:1+rng.IntN(2)]
	}
	if rng.IntN(2) == 0 {
		o := rng.IntN(1000) - 10
		d.Originator = &o
	}
	if rng.IntN(3) == 0 {
		d.Expires = &vExpires{Relative: rng.IntN(2) == 0, RelativeTime: uint32(rng.IntN(3)), AbsoluteTime: str()}
	}
	if rng.IntN(2) == 0 {
		d.HubSeq = rng.Uint64() >> rng.IntN(64)
	}
	switch rng.IntN(4) {
	case 0:
		d.Body, _ = json.Marshal(str())
	case 1:
		d.Body = json.RawMessage(`"` + str() + `"`) // escapes Marshal would not write, or invalid JSON
	case 2:
		d.Body = json.RawMessage(`{"a": [1, 2]}`)
	}
	if rng.IntN(10) == 0 {
		d.PartyHistory = []vPartyEvent{{Time: str(), Event: str()}}
	}
	if rng.IntN(10) == 0 {
		d.ExternalPart = &vExternal{URL: str()}
	}
	return d
}
