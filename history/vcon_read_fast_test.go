package history

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// decodeDialogFast fills a dialog exactly as json.Unmarshal does whenever
// it takes one: for every dialog of the every-kind and 100k rooms' exports
// (which it must nearly all take) and for random dialog objects with every
// key the reader maps, unknown and camelCase keys, keys in other cases and
// given twice, values of every JSON type, escapes, non-ASCII and spacing.
func TestDecodeDialogFastIsUnmarshal(t *testing.T) {
	var fd fastDecoder
	check := func(raw []byte) bool {
		t.Helper()
		if !json.Valid(raw) {
			return false
		}
		var fast vDialogIn
		if !fd.decodeDialogFast(raw, &fast) {
			return false
		}
		var want vDialogIn
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("fast decode took %s, which json.Unmarshal refuses: %v", raw, err)
		}
		if !reflect.DeepEqual(fast, want) {
			t.Fatalf("fast decode of %s\ngot  %+v\nwant %+v", raw, fast, want)
		}
		return true
	}
	// The every-kind room is mostly what the fast path leaves to
	// encoding/json (events, external and multipart bodies); the 100k room
	// is what a user's history looks like.
	for name, share := range map[string]float64{"every kind": 0.4, "100k (first 20,000)": 0.9} {
		items := everyKind(t).items
		if name != "every kind" {
			items = big(t)[:20000]
		}
		var buf bytes.Buffer
		if _, err := Export(&buf, Room{ID: roomURI}, SliceSource(items), ExportOptions{Format: FormatVCon, Now: t0.UnixMilli()}); err != nil {
			t.Fatal(err)
		}
		var doc struct{ Dialog []json.RawMessage }
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		taken := 0
		for _, d := range doc.Dialog {
			if check(d) {
				taken++
			}
		}
		if float64(taken) < share*float64(len(doc.Dialog)) {
			t.Errorf("%s: fast decode took %d of %d dialogs", name, taken, len(doc.Dialog))
		}
	}
	rng := rand.New(rand.NewPCG(15, 18))
	taken := 0
	for range 20000 {
		if check(randomDialogJSON(rng)) {
			taken++
		}
	}
	t.Logf("random dialogs: %d of 20,000 decoded by hand", taken)
	if taken < 1000 {
		t.Errorf("fast decode took only %d of the random dialogs", taken)
	}
}

// randomDialogJSON writes a dialog object of random keys and values.
func randomDialogJSON(rng *rand.Rand) []byte {
	keys := []string{"extra", "messageId", "MESSAGE_ID", "Type", "expiring", "external_part", "multi_part",
		"party_history", "content_hash", "inReplyTo"}
	for k := range dialogKeys {
		keys = append(keys, k, k, k)
	}
	space := func() string { return []string{"", "", " ", "\n\t", "\r\n "}[rng.IntN(5)] }
	strs := []string{`"text"`, `"2026-01-02T03:04:05.678Z"`, `"abc_-09"`, `""`, `"a\"b"`, `"\u00e9"`, `"é"`,
		`"😀"`, `"a\nb"`, `"\/"`, `"x<y&z"`}
	nums := []string{"0", "1", "-1", "12", "1.5", "1e3", "-0", "4294967295", "4294967296", "18446744073709551615",
		"18446744073709551616", "9223372036854775808", "-9223372036854775809", "0.0"}
	var value func(depth int) string
	value = func(depth int) string {
		switch rng.IntN(9) {
		case 0, 1, 2:
			return strs[rng.IntN(len(strs))]
		case 3, 4:
			return nums[rng.IntN(len(nums))]
		case 5:
			return []string{"true", "false", "null"}[rng.IntN(3)]
		case 6:
			if depth > 2 {
				return "[]"
			}
			var parts []string
			for range rng.IntN(3) {
				parts = append(parts, space()+value(depth+1)+space())
			}
			return "[" + strings.Join(parts, ",") + "]"
		case 7:
			return `{"relative":` + []string{"true", "false", "1", "null"}[rng.IntN(4)] +
				[]string{"", `,"relative_time":` + nums[rng.IntN(len(nums))], `,"absolute_time":` + strs[rng.IntN(len(strs))],
					`,"relative":true`, `,"other":1`}[rng.IntN(5)] + "}"
		default:
			if depth > 2 {
				return "{}"
			}
			return "{" + space() + strconv.Quote("k") + ":" + value(depth+1) + "}"
		}
	}
	var b strings.Builder
	b.WriteString("{" + space())
	for i := range rng.IntN(8) {
		if i > 0 {
			b.WriteString("," + space())
		}
		b.WriteString(strconv.Quote(keys[rng.IntN(len(keys))]) + space() + ":" + space() + value(0) + space())
	}
	b.WriteString("}")
	return []byte(b.String())
}
