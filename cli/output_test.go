package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

func TestOutputPrintfSanitizesArguments(t *testing.T) {
	type role string
	type count int
	for _, tc := range []struct {
		name   string
		format string
		args   []any
		want   string
	}{
		{"string", "name %s\n", []any{"a\x1b[2Jb"}, "name a␛b\n"},
		{"named string", "role %s\n", []any{role("x\u202ey")}, "role x⟪RLO⟫y\n"},
		{"line break in a field", "%s|\n", []any{"one\ntwo\r"}, "one␤two␤|\n"},
		{"error", "err: %v\n", []any{fmt.Errorf("no room %s", "r\x07")}, "err: no room r␇\n"},
		{"stringer", "%s\n", []any{bytes.NewBufferString("\u009b2J!")}, "␛!\n"},
		{"bytes", "%s\n", []any{[]byte("\xffa\x9b2Jb")}, "\uFFFDa␛b\n"},
		{"numbers stay numbers", "%d %d %.1f %t\n", []any{42, count(7), 1.5, true}, "42 7 1.5 true\n"},
		{"quoted", "%q\n", []any{"a\x1b]52;c;eA==\x07b"}, "\"a␛b\"\n"},
		{"struct", "%v\n", []any{struct{ S string }{"\x1bc"}}, "{␛}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := newOutput(&b).printf(tc.format, tc.args...); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
}

func TestOutputWriteKeepsLayout(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain\tcolumns\nnext\n", "plain\tcolumns\nnext\n"},
		{"a\x1b[31mred\x1b[0m\tb\x07\n", "a␛red␛\tb␇\n"},
		{"\u202eoverride\r\n", "⟪RLO⟫override␤\n"},
		{"\x1b]0;title\x07\x9b", "␛␛"},
	} {
		var b bytes.Buffer
		n, err := fmt.Fprint(newOutput(&b), tc.in)
		if err != nil || n != len(tc.in) {
			t.Errorf("Write(%q) = %d, %v; want %d, nil", tc.in, n, err, len(tc.in))
		}
		if b.String() != tc.want {
			t.Errorf("Write(%q) wrote %q, want %q", tc.in, b.String(), tc.want)
		}
	}
}

// TestEscapeJSON: encoding/json leaves DEL, the C1 controls and the bidi
// controls raw; escapeJSON escapes them and the decoded value is unchanged.
func TestEscapeJSON(t *testing.T) {
	for _, s := range []string{
		hostile,
		"plain ascii <b>&",
		"rtl \u200f\u061c\u2066iso\u2069 \u202a\u202b\u202c\u202d",
		"emoji 👩\u200d💻 and é, 日本",
		"c1 \u0080\u0085\u009f del \x7f",
		"backslash before \\\u202e",
	} {
		b, err := json.Marshal(map[string]string{"s": s})
		if err != nil {
			t.Fatal(err)
		}
		esc := escapeJSON(b)
		if c := rawControl(string(esc)); c != "" {
			t.Errorf("escapeJSON(%q) left a raw %s: %q", b, c, esc)
		}
		var back map[string]string
		if err := json.Unmarshal(esc, &back); err != nil {
			t.Fatalf("escapeJSON(%q) = %q: %v", b, esc, err)
		}
		if back["s"] != s {
			t.Errorf("round trip of %q gave %q", s, back["s"])
		}
	}
	// Indented JSON keeps its layout.
	in := []byte("{\n\t\"a\": \"\u202e\"\r\n}")
	if got, want := string(escapeJSON(in)), "{\n\t\"a\": \"\\u202e\"\r\n}"; got != want {
		t.Errorf("escapeJSON(%q) = %q, want %q", in, got, want)
	}
}

func TestOutputPrintError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("no room %s", "r\x1b[2J\u202e"), "mimichat rooms: no room r␛⟪RLO⟫\n"},
		{fmt.Errorf("relay: damaged.\nStop every process using %s.", "/d\x07"), "mimichat rooms: relay: damaged.\nStop every process using /d␇.\n"},
		{fmt.Errorf("overwrite\rfake line\n"), "mimichat rooms: overwrite␤fake line\n"},
	} {
		var b bytes.Buffer
		newOutput(&b).printError("rooms", tc.err)
		if b.String() != tc.want {
			t.Errorf("printError(%q) wrote %q, want %q", tc.err, b.String(), tc.want)
		}
	}
}
