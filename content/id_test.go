package content

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

// The -08 construction written out longhand, independent of ComputeID.
func longhandID(sender, room string, raw, salt []byte, lengths bool) MessageID {
	var in []byte
	if lengths {
		in = append(in, byte(len(sender)>>8), byte(len(sender)))
	}
	in = append(in, sender...)
	if lengths {
		in = append(in, byte(len(room)>>8), byte(len(room)))
	}
	in = append(in, room...)
	in = append(append(in, raw...), salt...)
	sum := sha256.Sum256(in)
	var id MessageID
	id[0] = 1
	copy(id[1:], sum[:31])
	return id
}

func TestComputeIDLonghand(t *testing.T) {
	raw := withBody(hText)
	salt := raw[2:18]
	for _, u := range []struct{ s, r string }{
		{"mimi://example.com/u/alice-smith", "mimi://example.com/r/engineering_team"},
		{"", ""},
		{strings.Repeat("s", 300), strings.Repeat("r", 65535)},
	} {
		got, err := ComputeID(u.s, u.r, raw)
		if err != nil {
			t.Fatal(err)
		}
		if want := longhandID(u.s, u.r, raw, salt, true); got != want {
			t.Errorf("-08 ID %s, want %s", got, want)
		}
		got07, err := ComputeIDRule(IDRule07, u.s, u.r, raw)
		if err != nil {
			t.Fatal(err)
		}
		if want := longhandID(u.s, u.r, raw, salt, false); got07 != want {
			t.Errorf("-07 ID %s, want %s", got07, want)
		}
	}
}

// The u16 length prefixes are what separate "ab"+"c" from "a"+"bc".
func TestComputeIDLengthPrefixes(t *testing.T) {
	raw := withBody(hNull)
	a08, _ := ComputeID("ab", "c", raw)
	b08, _ := ComputeID("a", "bc", raw)
	if a08 == b08 {
		t.Errorf("-08 IDs collide across the sender/room boundary")
	}
	a07, _ := ComputeIDRule(IDRule07, "ab", "c", raw)
	b07, _ := ComputeIDRule(IDRule07, "a", "bc", raw)
	if a07 != b07 {
		t.Errorf("-07 rule unexpectedly separated the URIs")
	}
}

func TestComputeIDErrors(t *testing.T) {
	long := strings.Repeat("x", 65536)
	raw := withBody(hNull)
	cases := []struct {
		name         string
		sender, room string
		raw          []byte
		kind         error
		path         string
	}{
		{"sender too long", long, "r", raw, ErrURITooLong, "senderUri"},
		{"room too long", "s", long, raw, ErrURITooLong, "roomUri"},
		{"empty", "s", "r", nil, ErrTruncated, "mimiContent"},
		{"map", "s", "r", x("a0"), ErrNotMessage, "mimiContent"},
		{"status report", "s", "r", x("80"), ErrNotMessage, "mimiContent"},
		{"short salt", "s", "r", x("87 4f" + strings.Repeat("00", 15)), ErrSaltSize, "salt"},
		{"salt truncated", "s", "r", x("87 50 0011"), ErrTruncated, "salt"},
		{"salt text", "s", "r", x("87 70" + strings.Repeat("00", 16)), ErrType, "salt"},
	}
	for _, c := range cases {
		_, err := ComputeID(c.sender, c.room, c.raw)
		if !errors.Is(err, c.kind) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.kind)
			continue
		}
		var path string
		var de *DecodeError
		var ee *EncodeError
		switch {
		case errors.As(err, &de):
			path = de.Path
		case errors.As(err, &ee):
			path = ee.Path
		}
		if path != c.path {
			t.Errorf("%s: path %q, want %q", c.name, path, c.path)
		}
	}
	if _, err := ComputeIDRule(IDRule(9), "s", "r", raw); err == nil {
		t.Errorf("unknown rule accepted")
	}
	// -07 has no length field, so no URI limit
	if _, err := ComputeIDRule(IDRule07, long, long, raw); err != nil {
		t.Errorf("-07 with long URIs: %v", err)
	}
}

// The fast path (shortest heads) and the general path find the same salt.
func TestComputeIDNonPreferredSalt(t *testing.T) {
	fast := withBody(hNull)
	slow := x("98 07 58 10" + hSalt[3:] + "f6 40 f6 f6 a0" + hNull)
	s1, err1 := saltOf(fast)
	s2, err2 := saltOf(slow)
	if err1 != nil || err2 != nil || string(s1) != string(s2) {
		t.Fatalf("salts %x (%v) and %x (%v)", s1, err1, s2, err2)
	}
	got, _ := ComputeID("s", "r", slow)
	if want := longhandID("s", "r", slow, s2, true); got != want {
		t.Errorf("ID over non-preferred bytes %s, want %s", got, want)
	}
}

func TestComputeIDAllocs(t *testing.T) {
	raw := withBody(hText)
	if n := testing.AllocsPerRun(50, func() { ComputeID("mimi://example.com/u/a", "mimi://example.com/r/b", raw) }); n > 2 {
		t.Errorf("%v allocations per ComputeID", n)
	}
}
