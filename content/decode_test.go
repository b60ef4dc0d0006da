package content

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// x decodes hex, ignoring spaces, so test inputs can be laid out by field.
func x(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

const (
	hSalt  = "50 00112233445566778899aabbccddeeff"
	hID    = "5820 01" + "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	hNull  = "83 01 60 00"                                 // NullPart [1, "", 0]
	hText  = "85 01 60 01 6a 746578742f706c61696e 42 6869" // ["text/plain", 'hi']
	hExt   = "a2 01 61 61 02 61 62"                        // {1: "a", 2: "b"}
	hEmpty = "a0"
)

// msg assembles a mimiContent from the hex of its seven fields.
func msg(salt, replaces, topic, expires, inReplyTo, exts, body string) []byte {
	return x("87" + salt + replaces + topic + expires + inReplyTo + exts + body)
}

// withBody and withExts vary one field of an otherwise valid message.
func withBody(body string) []byte { return msg(hSalt, "f6", "40", "f6", "f6", hEmpty, body) }
func withExts(exts string) []byte { return msg(hSalt, "f6", "40", "f6", "f6", exts, hNull) }

// extPart is an ExternalPart with one field replaced by its index (0 = url).
func extPart(field int, val string) string {
	f := []string{"60", "00", "00", "00", "40", "40", "40", "00", "40", "60", "60"}
	f[field] = val
	return "8f 06 60 02 60" + strings.Join(f, "")
}

func nestMulti(levels int, leaf string) string {
	if levels == 0 {
		return leaf
	}
	return "85 01 60 03 02 82" + nestMulti(levels-1, leaf) + hNull
}

func manyParts(n int) string {
	var sb strings.Builder
	sb.WriteString("85 01 60 03 02 99")
	sb.WriteString(hex.EncodeToString([]byte{byte(n >> 8), byte(n)}))
	for i := 0; i < n; i++ {
		sb.WriteString(hNull)
	}
	return sb.String()
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		kind error
		path string
		msg  string // substring of Error(), optional
	}{
		{"empty", nil, ErrTruncated, "mimiContent", ""},
		{"map at top", x("a0"), ErrNotMessage, "mimiContent", "want array of 7 elements, got map"},
		{"array of 6", x("86" + hSalt + "f6 40 f6 f6 a0"), ErrNotMessage, "mimiContent", "got array of 6"},
		{"indefinite top", x("9f ff"), ErrIndefinite, "mimiContent", ""},
		{"trailing", append(withBody(hNull), 0), ErrTrailingBytes, "mimiContent", "1 trailing bytes"},
		{"salt 15", msg("4f 00112233445566778899aabbccddee", "f6", "40", "f6", "f6", hEmpty, hNull), ErrSaltSize, "salt", "want 16 bytes, got 15"},
		{"salt text", msg("70 00112233445566778899aabbccddeeff", "f6", "40", "f6", "f6", hEmpty, hNull), ErrType, "salt", "want byte string, got text string"},
		{"replaces 31", msg(hSalt, "581f"+strings.Repeat("01", 31), "40", "f6", "f6", hEmpty, hNull), ErrIDSize, "replaces", "want 32 bytes, got 31"},
		{"replaces hash alg", msg(hSalt, "5820 02"+strings.Repeat("00", 31), "40", "f6", "f6", hEmpty, hNull), ErrHashAlg, "replaces", "0x2"},
		{"inReplyTo int", msg(hSalt, "f6", "40", "f6", "01", hEmpty, hNull), ErrType, "inReplyTo", "got unsigned integer"},
		{"inReplyTo hash alg", msg(hSalt, "f6", "40", "f6", "5820 ff"+strings.Repeat("00", 31), hEmpty, hNull), ErrHashAlg, "inReplyTo", ""},
		{"topic text", msg(hSalt, "f6", "60", "f6", "f6", hEmpty, hNull), ErrType, "topicId", ""},
		{"expires short", msg(hSalt, "f6", "40", "81 f4", "f6", hEmpty, hNull), ErrArrayLength, "expires", ""},
		{"expires relative int", msg(hSalt, "f6", "40", "82 01 05", "f6", hEmpty, hNull), ErrType, "expires.relative", "want boolean"},
		{"expires time u32", msg(hSalt, "f6", "40", "82 f4 1b 0000000100000000", "f6", hEmpty, hNull), ErrRange, "expires.time", ""},
		{"extensions array", withExts("80"), ErrType, "mimiExtensions", "want map"},
		{"duplicate key", withExts("a2 01 61 61 01 61 62"), ErrDuplicateKey, "mimiExtensions[1]", ""},
		{"duplicate unsorted", withExts("a3 02 00 01 00 02 01"), ErrDuplicateKey, "mimiExtensions[2]", ""},
		{"duplicate non-shortest", withExts("a2 01 00 18 01 00"), ErrDuplicateKey, "mimiExtensions[1]", ""},
		{"duplicate wide after non-det value", withExts("a3 00 fa 3f800000 01 00 18 01 00"), ErrDuplicateKey, "mimiExtensions[1]", ""},
		{"nested duplicate wide after non-det value", withExts("a1 01 a3 00 fa 3f800000 01 00 18 01 00"), ErrDuplicateKey, "mimiExtensions[1][1]", ""},
		{"duplicate text", withExts("a2 61 61 00 61 61 00"), ErrDuplicateKey, `mimiExtensions["a"]`, ""},
		{"empty text key", withExts("a1 60 00"), ErrKeyRange, "mimiExtensions[key 0]", "1..255"},
		{"long text key", withExts("a1 79 0100" + strings.Repeat("61", 256) + "00"), ErrKeyRange, "mimiExtensions[key 0]", "got 256"},
		{"bstr key", withExts("a1 41 00 00"), ErrKeyType, "mimiExtensions[key 0]", "got byte string"},
		{"key 2^53", withExts("a1 1b 0020000000000000 00"), ErrKeyRange, "mimiExtensions[key 0]", ""},
		{"key -2^53", withExts("a1 3b 001fffffffffffff 00"), ErrKeyRange, "mimiExtensions[key 0]", ""},
		{"key invalid utf8", withExts("a1 61 ff 00"), ErrUTF8, "mimiExtensions[key 0]", ""},
		{"value depth 5", withExts("a1 19 0100 81 81 81 81 01"), ErrDepth, "mimiExtensions[256][0][0][0]", "level 5"},
		{"value tag depth", withExts("a1 01 c1 c1 c1 c1 00"), ErrDepth, "mimiExtensions[1](tag 1)(tag 1)(tag 1)", ""},
		{"nested float key", withExts("a1 01 a1 f9 3c00 00"), ErrKeyType, "mimiExtensions[1][key 0]", "got float"},
		{"nested array key", withExts("a1 01 a1 80 00"), ErrKeyType, "mimiExtensions[1][key 0]", ""},
		{"nested dup key", withExts("a1 01 a2 41 00 00 41 00 00"), ErrDuplicateKey, "mimiExtensions[1][h'1 bytes']", ""},
		{"value truncated inner", x("87" + hSalt + "f6 40 f6 f6 a1 01 82 00 62"), ErrTruncated, "mimiExtensions[1][1]", ""},
		{"nested utf8", withExts("a1 01 82 00 62 c328"), ErrUTF8, "mimiExtensions[1][1]", ""},
		{"nested key range", withExts("a1 01 a1 1b 0020000000000000 00"), ErrKeyRange, "mimiExtensions[1][key 0]", ""},
		{"NaN half payload", withExts("a1 01 f9 7e01"), ErrNaN, "mimiExtensions[1]", ""},
		{"NaN float32", withExts("a1 01 fa 7fc00000"), ErrNaN, "mimiExtensions[1]", ""},
		{"NaN float64", withExts("a1 01 fb 7ff8000000000000"), ErrNaN, "mimiExtensions[1]", ""},
		{"value indefinite", withExts("a1 01 9f ff"), ErrIndefinite, "mimiExtensions[1]", ""},
		{"value indefinite text", withExts("a1 01 7f ff"), ErrIndefinite, "mimiExtensions[1]", ""},
		{"value break", withExts("a1 01 ff"), ErrMalformed, "mimiExtensions[1]", ""},
		{"value reserved ai", withExts("a1 01 1c"), ErrMalformed, "mimiExtensions[1]", ""},
		{"value simple below 32", withExts("a1 01 f8 14"), ErrMalformed, "mimiExtensions[1]", ""},
		{"value truncated", x("87" + hSalt + "f6 40 f6 f6 a1 01 82 00"), ErrTruncated, "mimiExtensions[1]", ""},
		{"huge array claim", withExts("a1 01 9b 1000000000000000"), ErrTruncated, "mimiExtensions[1]", ""},
		{"huge map claim", withExts("bb 1000000000000000"), ErrTruncated, "mimiExtensions", ""},
		{"huge bstr claim", msg(hSalt, "f6", "5b 1000000000000000", "f6", "f6", hEmpty, hNull), ErrTruncated, "topicId", ""},
		{"huge parts claim", withBody("85 01 60 03 02 9b 1000000000000000"), ErrTruncated, "nestedPart.parts", ""},
		{"body not array", withBody("01"), ErrType, "nestedPart", "want array"},
		{"body too short", withBody("82 01 60"), ErrArrayLength, "nestedPart", "at least 3"},
		{"unknown cardinality", withBody("83 01 60 04"), ErrUnknownCardinality, "nestedPart.cardinality", "unknown cardinality 4"},
		{"single wrong length", withBody("84 01 60 01 60"), ErrArrayLength, "nestedPart", "want 5 elements for single, got 4"},
		{"null wrong length", withBody("84 01 60 00 00"), ErrArrayLength, "nestedPart", "want 3 elements for nullpart"},
		{"disposition 256", withBody("83 19 0100 60 00"), ErrRange, "nestedPart.disposition", ""},
		{"disposition negative", withBody("83 20 60 00"), ErrType, "nestedPart.disposition", "got negative integer"},
		{"language bytes", withBody("83 01 40 00"), ErrType, "nestedPart.language", ""},
		{"language utf8", withBody("83 01 61 80 00"), ErrUTF8, "nestedPart.language", ""},
		{"content text", withBody("85 01 60 01 60 60"), ErrType, "nestedPart.content", "want byte string, got text string"},
		{"contentType bytes in part 2", withBody("85 01 60 03 02 83" + hNull + hNull + "85 01 60 01 40 40"), ErrType,
			"nestedPart.parts[2].contentType", "nestedPart.parts[2].contentType: want text string, got byte string"},
		{"one part", withBody("85 01 60 03 02 81" + hNull), ErrTooFewParts, "nestedPart.parts", "at least 2 parts, got 1"},
		{"semantics 3", withBody("85 01 60 03 03 82" + hNull + hNull), ErrUnknownSemantics, "nestedPart.partSemantics", "unknown partSemantics 3"},
		{"depth 5", withBody(nestMulti(4, hNull)), ErrDepth, "nestedPart.parts[0].parts[0].parts[0].parts[0]", "level 5"},
		{"1025 parts", withBody(manyParts(1024)), ErrTooManyParts, "nestedPart.parts", "more than 1024"},
		{"1025 parts nested", withBody("85 01 60 03 02 82" + manyParts(600) + manyParts(600)), ErrTooManyParts, "nestedPart.parts[1].parts", ""},
		{"external length", withBody("8e 06 60 02 60 60 00 00 00 40 40 40 00 40 60"), ErrArrayLength, "nestedPart", "want 15 elements for external, got 14"},
		{"external url bytes", withBody(extPart(0, "40")), ErrType, "nestedPart.url", ""},
		{"external expires u32", withBody(extPart(1, "1b 0000000100000000")), ErrRange, "nestedPart.expires", "exceeds maximum 4294967295"},
		{"external size neg", withBody(extPart(2, "20")), ErrType, "nestedPart.size", ""},
		{"external encAlg u16", withBody(extPart(3, "1a 00010000")), ErrRange, "nestedPart.encAlg", "exceeds maximum 65535"},
		{"external key text", withBody(extPart(4, "60")), ErrType, "nestedPart.key", ""},
		{"external hashAlg u8", withBody(extPart(7, "19 0100")), ErrRange, "nestedPart.hashAlg", "exceeds maximum 255"},
		{"external filename utf8", withBody(extPart(10, "61 ff")), ErrUTF8, "nestedPart.filename", ""},
		{"nested external in multi", withBody("85 01 60 03 00 82" + hNull + extPart(9, "40")), ErrType, "nestedPart.parts[1].description", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode(c.in)
			if err == nil {
				t.Fatalf("decoded %+v, want error %v", m, c.kind)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DecodeError", err, err)
			}
			if !errors.Is(err, c.kind) {
				t.Errorf("kind %v, want %v (%v)", de.Kind, c.kind, err)
			}
			if de.Path != c.path {
				t.Errorf("path %q, want %q (%v)", de.Path, c.path, err)
			}
			if c.msg != "" && !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
			if de.Offset < 0 || de.Offset > len(c.in) {
				t.Errorf("offset %d outside input of %d bytes", de.Offset, len(c.in))
			}
		})
	}
}

func TestDecodeAcceptsLimits(t *testing.T) {
	for name, in := range map[string][]byte{
		"depth 4":       withBody(nestMulti(3, hNull)),
		"1024 parts":    withBody(manyParts(1023)),
		"value depth 4": withExts("a1 19 0100 81 81 81 01"),
		"tag 32 depth":  withExts("a2 01 61 61 19 0100 82 82 42 1234 d8 20 60 82 42 3456 19 168b"), // the -08 §6.3 example
		"key ±(2^53-1)": withExts("a2 1b 001fffffffffffff 00 3b 001ffffffffffffe 00"),
		"key 255 bytes": withExts("a1 78 ff" + strings.Repeat("61", 255) + "00"),
		"half NaN":      withExts("a1 01 f9 7e00"),
		"undefined":     withExts("a1 01 f7"),
		"unknown dispo": withBody("83 18 c8 60 00"),
		"external max":  withBody(extPart(2, "1b ffffffffffffffff")),
		"bignum":        withExts("a1 01 c2 49 010000000000000000"),
	} {
		if _, err := Decode(in); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := CheckDeterministic(in); err != nil {
			t.Errorf("%s: CheckDeterministic: %v", name, err)
		}
	}
}

// Non-deterministic but well-formed input: accepted by default, reported,
// rejected under RequireDeterministic with a path; Encode canonicalizes.
func TestNonDeterministic(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		path string
	}{
		{"salt length 58 10", msg("58 10 00112233445566778899aabbccddeeff", "f6", "40", "f6", "f6", hEmpty, hNull), "salt"},
		{"array head 98 07", x("98 07" + hSalt + "f6 40 f6 f6 a0" + hNull), "mimiContent"},
		{"unsorted keys", withExts("a2 02 00 01 00"), "mimiExtensions[1]"},
		{"length-first order", withExts("a2 61 61 00 19 0100 00"), "mimiExtensions[256]"},
		{"disposition 18 01", withBody("83 18 01 60 00"), "nestedPart.disposition"},
		{"float32 fits half", withExts("a1 01 fa 3f800000"), "mimiExtensions[1]"},
		{"float64 fits float32", withExts("a1 01 fb 3ff0000000000000"), "mimiExtensions[1]"},
		{"nested unsorted", withExts("a1 01 a2 02 00 01 00"), "mimiExtensions[1][1]"},
		{"small bignum", withExts("a1 01 c2 41 05"), "mimiExtensions[1]"},
		{"expires time 1a", msg(hSalt, "f6", "40", "82 f5 1a 00000005", "f6", hEmpty, hNull), "expires.time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, det, err := DecodeCheck(c.in)
			if err != nil {
				t.Fatalf("default decode rejected: %v", err)
			}
			if det {
				t.Errorf("reported deterministic")
			}
			_, err = DecodeOptions{RequireDeterministic: true}.Decode(c.in)
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, ErrNotDeterministic) || de.Path != c.path {
				t.Errorf("strict decode: %v (path %v), want ErrNotDeterministic at %q", err, de, c.path)
			}
			enc, err := m.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(enc, c.in) {
				t.Errorf("encode kept the non-deterministic bytes")
			}
			if err := CheckDeterministic(enc); err != nil {
				t.Errorf("encoding is not deterministic: %v", err)
			}
			m2, err := Decode(enc)
			if err != nil {
				t.Fatal(err)
			}
			if enc2, _ := m2.Encode(); !bytes.Equal(enc, enc2) {
				t.Errorf("encode not idempotent")
			}
			// the ID is over the bytes as received, so the two differ
			id1, _ := ComputeID("s", "r", c.in)
			id2, _ := ComputeID("s", "r", enc)
			if id1 == id2 {
				t.Errorf("ID did not depend on the received bytes")
			}
		})
	}
}

// The result aliases the input; document-level guarantee.
func TestDecodeAliasesInput(t *testing.T) {
	in := withBody(hText)
	m, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	in[len(in)-1] = 'X'
	if string(m.Body.Content) != "hX" {
		t.Errorf("content %q does not alias the input", m.Body.Content)
	}
	if cap(m.Body.Content) != len(m.Body.Content) {
		t.Errorf("aliased slice has spare capacity: appending would overwrite the input")
	}
}

func TestDecodeBoundedAllocation(t *testing.T) {
	for _, in := range [][]byte{
		withExts("bb 1000000000000000"),
		withBody("85 01 60 03 02 9b 1000000000000000"),
		x("9b 1000000000000000"),
	} {
		allocs := testing.AllocsPerRun(20, func() { Decode(in) })
		if allocs > 10 {
			t.Errorf("%x: %v allocations for a huge length claim", in, allocs)
		}
	}
}
