package content

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// ERRATA.md "Derived determinism check": {1:5, -1:3, "a":1, 256:2, 1000:4}.
func TestEncodeErrataDeterminismMap(t *testing.T) {
	const bytewise = "a5 01 05 19 0100 02 19 03e8 04 20 03 61 61 01"
	const lengthFirst = "a5 01 05 20 03 61 61 01 19 0100 02 19 03e8 04"
	orders := [][]ExtKey{
		{TextKey("a"), IntKey(1), IntKey(1000), IntKey(-1), IntKey(256)},
		{IntKey(1000), IntKey(256), IntKey(-1), TextKey("a"), IntKey(1)},
	}
	vals := map[ExtKey][]byte{IntKey(1): {0x05}, IntKey(-1): {0x03}, TextKey("a"): {0x01}, IntKey(256): {0x02}, IntKey(1000): {0x04}}
	for _, order := range orders {
		m := &Message{Body: NestedPart{Cardinality: NullPart}}
		for _, k := range order {
			m.Extensions.Set(k, vals[k])
		}
		enc, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		want := x("87 50" + strings.Repeat("00", 16) + "f6 40 f6 f6" + bytewise + "83 00 60 00")
		if !bytes.Equal(enc, want) {
			t.Errorf("got  %x\nwant %x", enc, want)
		}
		if bytes.Contains(enc, x(lengthFirst)) {
			t.Errorf("encoded the length-first (RFC 7049) order")
		}
	}
	// The length-first order is well-formed: accepted, but flagged.
	in := withExts(lengthFirst)
	if _, det, err := DecodeCheck(in); err != nil || det {
		t.Errorf("length-first map: det=%v err=%v, want accepted as non-deterministic", det, err)
	}
	if err := CheckDeterministic(in); !errors.Is(err, ErrNotDeterministic) {
		t.Errorf("CheckDeterministic(length-first) = %v", err)
	}
	if err := CheckDeterministic(withExts(bytewise)); err != nil {
		t.Errorf("CheckDeterministic(bytewise) = %v", err)
	}
}

func TestCompareExtKeys(t *testing.T) {
	ordered := []ExtKey{IntKey(0), IntKey(1), IntKey(23), IntKey(24), IntKey(255), IntKey(256), IntKey(1000),
		IntKey(65536), IntKey(maxSafeInt), IntKey(-1), IntKey(-24), IntKey(-25), IntKey(-maxSafeInt),
		TextKey("a"), TextKey("b"), TextKey("aa"), TextKey(strings.Repeat("z", 24))}
	for i := range ordered {
		for j := range ordered {
			got := compareExtKeys(ordered[i], ordered[j])
			if (i < j && got >= 0) || (i > j && got <= 0) || (i == j && got != 0) {
				t.Errorf("compare(%v, %v) = %d", ordered[i], ordered[j], got)
			}
		}
	}
	if !IntKey(5).Equal(ExtKey{Int: 5, Text: "ignored"}) {
		t.Errorf("int keys with stray Text differ")
	}
}

func validMessage() *Message {
	id := MessageID{0x01, 2, 3}
	return &Message{
		Replaces:  &id,
		InReplyTo: &id,
		Expires:   &Expiration{Relative: true, Time: 60},
		Body: NestedPart{Cardinality: Multi, Semantics: ProcessAll, Parts: []NestedPart{
			{Disposition: Render, Cardinality: Single, ContentType: "text/plain", Content: []byte("x")},
			{Disposition: Attachment, Cardinality: External, External: &ExternalPart{URL: "https://e.example/f"}},
		}},
	}
}

func TestEncodeErrors(t *testing.T) {
	bad := MessageID{0x02}
	deep := NestedPart{Cardinality: NullPart}
	for i := 0; i < 4; i++ {
		deep = NestedPart{Cardinality: Multi, Parts: []NestedPart{deep, {}}}
	}
	many := make([]NestedPart, 1024)
	cases := []struct {
		name   string
		modify func(m *Message)
		kind   error
		path   string
	}{
		{"replaces alg", func(m *Message) { m.Replaces = &bad }, ErrHashAlg, "replaces"},
		{"inReplyTo alg", func(m *Message) { m.InReplyTo = &bad }, ErrHashAlg, "inReplyTo"},
		{"dup key", func(m *Message) {
			m.Extensions = Extensions{{IntKey(7), []byte{0}}, {IntKey(7), []byte{1}}}
		}, ErrDuplicateKey, "mimiExtensions[7]"},
		{"empty text key", func(m *Message) { m.Extensions = Extensions{{TextKey(""), []byte{0}}} }, ErrKeyRange, `mimiExtensions[""]`},
		{"key 2^53", func(m *Message) { m.Extensions = Extensions{{IntKey(1 << 53), []byte{0}}} }, ErrKeyRange, "mimiExtensions[9007199254740992]"},
		{"empty value", func(m *Message) { m.Extensions = Extensions{{IntKey(9), nil}} }, ErrMissing, "mimiExtensions[9]"},
		{"two items", func(m *Message) { m.Extensions = Extensions{{IntKey(9), []byte{0, 0}}} }, ErrTrailingBytes, "mimiExtensions[9]"},
		{"value depth", func(m *Message) { m.Extensions = Extensions{{IntKey(9), x("81818181 00")}} }, ErrDepth, "mimiExtensions[9][0][0][0]"},
		{"value utf8", func(m *Message) { m.Extensions = Extensions{{TextKey("k"), x("61 ff")}} }, ErrUTF8, `mimiExtensions["k"]`},
		{"language utf8", func(m *Message) { m.Body.Language = "\xff" }, ErrUTF8, "nestedPart.language"},
		{"contentType utf8", func(m *Message) { m.Body.Parts[0].ContentType = "\xff" }, ErrUTF8, "nestedPart.parts[0].contentType"},
		{"url utf8", func(m *Message) { m.Body.Parts[1].External.URL = "\xc3" }, ErrUTF8, "nestedPart.parts[1].url"},
		{"external nil", func(m *Message) { m.Body.Parts[1].External = nil }, ErrMissing, "nestedPart.parts[1].url"},
		{"one part", func(m *Message) { m.Body.Parts = m.Body.Parts[:1] }, ErrTooFewParts, "nestedPart.parts"},
		{"semantics", func(m *Message) { m.Body.Semantics = 3 }, ErrUnknownSemantics, "nestedPart.partSemantics"},
		{"cardinality", func(m *Message) { m.Body.Parts[0].Cardinality = 4 }, ErrUnknownCardinality, "nestedPart.parts[0].cardinality"},
		{"depth", func(m *Message) { m.Body = deep }, ErrDepth, "nestedPart.parts[0].parts[0].parts[0].parts[0]"},
		{"1025 parts", func(m *Message) { m.Body.Parts = many }, ErrTooManyParts, "nestedPart.parts[1023]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := validMessage()
			if _, err := m.Encode(); err != nil {
				t.Fatalf("base message: %v", err)
			}
			c.modify(m)
			prefix := []byte("keep")
			out, err := m.AppendEncode(prefix)
			var ee *EncodeError
			if !errors.As(err, &ee) {
				t.Fatalf("want *EncodeError, got %v", err)
			}
			if !errors.Is(err, c.kind) || ee.Path != c.path {
				t.Errorf("got %v (kind %v, path %q), want %v at %q", err, ee.Kind, ee.Path, c.kind, c.path)
			}
			if !bytes.Equal(out, prefix) || len(out) != len(prefix) {
				t.Errorf("partial output on error: %q", out)
			}
			if b, err := m.Encode(); err == nil || b != nil {
				t.Errorf("Encode returned bytes on error")
			}
		})
	}
	var nilMsg *Message
	if _, err := nilMsg.Encode(); !errors.Is(err, ErrMissing) {
		t.Errorf("nil message: %v", err)
	}
}

func TestAppendEncode(t *testing.T) {
	m := validMessage()
	m.Extensions.SetSenderURI("mimi://example.com/u/a")
	want, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.AppendEncode([]byte{0xde, 0xad})
	if err != nil || !bytes.Equal(got[:2], []byte{0xde, 0xad}) || !bytes.Equal(got[2:], want) {
		t.Errorf("AppendEncode = %x, %v", got, err)
	}
	m2, err := Decode(want)
	if err != nil {
		t.Fatal(err)
	}
	if !equalMessages(m, m2) {
		t.Errorf("round trip differs")
	}
}

func TestEncodeCanonicalizesValues(t *testing.T) {
	m := &Message{Body: NestedPart{Cardinality: NullPart}}
	m.Extensions.Set(IntKey(9), x("a2 18 02 fb 3ff0000000000000 01 c2 42 0001"))
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// {1: 1, 2: 1.0} with the bignum reduced and the float shortened
	if want := "a1 09 a2 01 01 02 f9 3c00"; !strings.Contains(hex.EncodeToString(enc), strings.ReplaceAll(want, " ", "")) {
		t.Errorf("got %x, want it to contain %s", enc, want)
	}
	if err := CheckDeterministic(enc); err != nil {
		t.Error(err)
	}
}
