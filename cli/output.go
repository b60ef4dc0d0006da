package cli

// What the commands print. Room names, topics, message text, member URIs,
// relay refusal reasons and imported files are other people's text: printed
// raw, ESC [2J clears the user's screen, OSC 52 writes their clipboard and
// U+202E reorders the line, when they merely run `mimichat rooms`. So a
// command's stdout and stderr are an output, which neutralizes that text exactly
// as the terminal client does (render.SanitizeLine: ␛, ␇, ⟪RLO⟫ …), and
// JSON output keeps the exact text but escapes what a terminal would act on.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

	"mimichat/render"
)

// output is a command's stdout or stderr.
//
//   - printf formats like fmt.Fprintf with every argument that is not a
//     number or a bool sanitized as one line (the format is the command's own
//     text; an argument cannot break the line or reach the terminal raw).
//   - jsonLine and writeJSON print JSON: the exact text, with the characters
//     a terminal acts on escaped (escapeJSON).
//   - Write, the net under a plain fmt.Fprint(c.out, …), sanitizes each run
//     of text between line breaks and tabs, which it keeps.
//   - data is for bytes the user asked for unchanged (CBOR from content
//     encode, an export to "-"): the stream as it is, unless it is a
//     terminal, which gets them through Write.
//   - raw is the stream as it is, for our own control characters (a
//     progress bar's "\r").
type output struct{ w io.Writer }

func newOutput(w io.Writer) *output { return &output{w: w} }

// printf writes format with each argument sanitized (sanitizeArg).
func (o *output) printf(format string, a ...any) error {
	for i := range a {
		a[i] = sanitizeArg(a[i])
	}
	_, err := fmt.Fprintf(o.w, format, a...)
	return err
}

// jsonLine writes v as one line of JSON (encoding/json's form, HTML escaped
// as before) with escapeJSON's escapes.
func (o *output) jsonLine(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return o.writeJSON(append(b, '\n'))
}

// writeJSON writes JSON text b with escapeJSON's escapes.
func (o *output) writeJSON(b []byte) error {
	_, err := o.w.Write(escapeJSON(b))
	return err
}

// Write sanitizes p, keeping its line breaks and tabs: what a command
// prints with fmt.Fprint(c.out, …) cannot reach the terminal raw, though an
// argument's own line breaks survive (printf is the way to print fields).
func (o *output) Write(p []byte) (int, error) {
	var b strings.Builder
	s := string(p)
	for {
		i := strings.IndexAny(s, "\n\t")
		if i < 0 {
			b.WriteString(render.SanitizeLine(s))
			break
		}
		b.WriteString(render.SanitizeLine(s[:i]))
		b.WriteByte(s[i])
		s = s[i+1:]
	}
	if _, err := io.WriteString(o.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// printError writes a command's error, `mimichat NAME: TEXT`, on stderr.
// The text keeps its line breaks (some errors explain themselves over
// several lines, e.g. the relay's start-up refusals); everything else in it
// is sanitized as Write does, since it may quote the relay or a file.
func (o *output) printError(name string, err error) {
	o.printf("mimichat %s: ", name)
	fmt.Fprintln(o, strings.TrimRight(err.Error(), "\n"))
}

// raw is the unsanitized stream.
func (o *output) raw() io.Writer { return o.w }

// data is where a command writes bytes asked for as they are: a pipe or a
// file gets them unchanged, a terminal through Write (a message's escape
// sequences in a CPIM export or in CBOR would act on it).
func (o *output) data() io.Writer {
	if isTerminal(o.w) {
		return o
	}
	return o.w
}

// sanitizeArg makes one printf argument safe: numbers and bools (named
// ones with a String method too: theirs are our own words) as they are,
// everything else as its text through render.SanitizeLine.
func sanitizeArg(a any) any {
	if a == nil {
		return a
	}
	switch reflect.ValueOf(a).Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return a
	}
	switch v := a.(type) {
	case error:
		return render.SanitizeLine(v.Error())
	case fmt.Stringer:
		return render.SanitizeLine(v.String())
	case []byte:
		return render.SanitizeLine(string(v))
	}
	if rv := reflect.ValueOf(a); rv.Kind() == reflect.String {
		return render.SanitizeLine(rv.String())
	}
	return render.SanitizeLine(fmt.Sprint(a))
}

// escapeJSON returns JSON text with the characters that encoding/json
// leaves raw but a terminal acts on written as \u escapes: DEL and the C1
// controls (U+0080..U+009F; U+009B is a CSI to many terminals), the bidi
// controls that reorder a line (U+202A..U+202E, U+2066..U+2069 and the
// marks U+200E, U+200F, U+061C) and any C0 control but the layout's "\n",
// "\t" and "\r". A consumer decodes the same value: these characters only
// occur inside strings, where an escape means the character itself.
// Invalid UTF-8 (encoding/json never writes it) becomes \ufffd.
func escapeJSON(b []byte) []byte {
	if !needsJSONEscape(b) {
		return b
	}
	var out bytes.Buffer
	out.Grow(len(b) + 16)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			out.WriteString(`\ufffd`)
		case jsonEscaped(r):
			fmt.Fprintf(&out, `\u%04x`, r)
		default:
			out.Write(b[i : i+size])
		}
		i += size
	}
	return out.Bytes()
}

func needsJSONEscape(b []byte) bool {
	for _, c := range b {
		if c >= 0x7f || (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
			return true // a closer look at anything not plain ASCII
		}
	}
	return false
}

func jsonEscaped(r rune) bool {
	switch {
	case r < 0x20:
		return r != '\n' && r != '\t' && r != '\r'
	case r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200e || r == 0x200f || r == 0x061c:
		return true
	}
	return false
}
