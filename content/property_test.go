package content

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// Random messages of every shape: encode -> decode -> encode is the
// identity on bytes, and decode gives back the same message (extension
// values compared in canonical form, order ignored).

type gen struct {
	r       *rand.Rand
	sloppy  bool // emit non-preferred heads and unsorted maps sometimes
	parts   int
	maxPart int
}

func (g *gen) bytes(max int) []byte {
	b := make([]byte, g.r.IntN(max+1))
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

var runePool = []rune("aZ09 é€😀\u0301日本/;=-_")

func (g *gen) text(max int) string {
	n := g.r.IntN(max + 1)
	rs := make([]rune, n)
	for i := range rs {
		rs[i] = runePool[g.r.IntN(len(runePool))]
	}
	return string(rs)
}

func (g *gen) id() *MessageID {
	if g.r.IntN(2) == 0 {
		return nil
	}
	var id MessageID
	copy(id[:], g.bytes(32))
	id[0] = 0x01
	return &id
}

// head writes a head, sometimes wider than needed when sloppy.
func (g *gen) head(dst []byte, major byte, v uint64) []byte {
	if g.sloppy && g.r.IntN(8) == 0 && v <= 0xffff {
		return append(dst, major<<5|26, 0, 0, byte(v>>8), byte(v))
	}
	return appendHead(dst, major, v)
}

func (g *gen) key(dst []byte) []byte {
	switch g.r.IntN(4) {
	case 0:
		return g.head(dst, majUint, g.r.Uint64N(maxSafeInt+1)>>uint(g.r.IntN(54)))
	case 1:
		return g.head(dst, majNeg, g.r.Uint64N(maxSafeInt)>>uint(g.r.IntN(54)))
	case 2:
		s := g.text(6)
		return append(g.head(dst, majText, uint64(len(s))), s...)
	default:
		b := g.bytes(4)
		return append(g.head(dst, majBytes, uint64(len(b))), b...)
	}
}

// value appends a random extension value whose containers sit at level depth.
func (g *gen) value(dst []byte, depth int) []byte {
	k := g.r.IntN(10)
	if depth > maxExtDepth && k >= 6 {
		k = g.r.IntN(6)
	}
	switch k {
	case 0:
		return g.head(dst, majUint, g.r.Uint64()>>uint(g.r.IntN(64)))
	case 1:
		return g.head(dst, majNeg, g.r.Uint64()>>uint(g.r.IntN(64)))
	case 2:
		b := g.bytes(8)
		return append(g.head(dst, majBytes, uint64(len(b))), b...)
	case 3:
		s := g.text(8)
		return append(g.head(dst, majText, uint64(len(s))), s...)
	case 4:
		return append(dst, []byte{0xf4, 0xf5, 0xf6, 0xf7}[g.r.IntN(4)])
	case 5:
		switch g.r.IntN(4) {
		case 0:
			return append(dst, 0xf9, 0x7e, 0x00)
		case 1:
			return append(dst, 0xf9, 0x3c, 0x00) // 1.0
		case 2:
			if g.sloppy {
				return append(dst, 0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0) // 1.5 as float64
			}
			return append(dst, 0xfa, 0x3f, 0x9d, 0x70, 0xa4) // 1.23 (not exact in f16)
		default:
			return append(dst, 0xfb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a) // 0.1
		}
	case 6, 7:
		n := g.r.IntN(4)
		dst = g.head(dst, majArray, uint64(n))
		for i := 0; i < n; i++ {
			dst = g.value(dst, depth+1)
		}
		return dst
	case 8:
		n := g.r.IntN(4)
		keys := make([][]byte, 0, n)
		for len(keys) < n {
			kb := g.key(nil)
			// uniqueness by canonical form: two sloppy encodings of one key are duplicates
			if !slices.ContainsFunc(keys, func(o []byte) bool { return bytes.Equal(canonicalValue(nil, o), canonicalValue(nil, kb)) }) {
				keys = append(keys, kb)
			}
		}
		if !g.sloppy {
			slices.SortFunc(keys, bytes.Compare)
		}
		dst = g.head(dst, majMap, uint64(n))
		for _, kb := range keys {
			dst = g.value(append(dst, kb...), depth+1)
		}
		return dst
	default:
		return g.value(g.head(dst, majTag, uint64(g.r.IntN(300))), depth+1)
	}
}

func (g *gen) part(level int) NestedPart {
	p := NestedPart{
		Disposition: Disposition(g.r.IntN(256)),
		Language:    []string{"", "en", "en,fr", "de-CH"}[g.r.IntN(4)],
		Cardinality: Cardinality(g.r.IntN(4)),
	}
	g.parts++
	if p.Cardinality == Multi && (level >= MaxPartDepth || g.parts > g.maxPart) {
		p.Cardinality = Single
	}
	switch p.Cardinality {
	case Single:
		p.ContentType, p.Content = g.text(20), g.bytes(40)
	case External:
		p.ContentType = g.text(10)
		p.External = &ExternalPart{URL: g.text(20), Expires: g.r.Uint32(), Size: g.r.Uint64() >> uint(g.r.IntN(64)),
			EncAlg: uint16(g.r.Uint32()), Key: g.bytes(16), Nonce: g.bytes(12), AAD: g.bytes(4),
			HashAlg: uint8(g.r.Uint32()), ContentHash: g.bytes(32), Description: g.text(10), Filename: g.text(10)}
	case Multi:
		p.Semantics = PartSemantics(g.r.IntN(3))
		p.Parts = make([]NestedPart, 2+g.r.IntN(3))
		for i := range p.Parts {
			p.Parts[i] = g.part(level + 1)
		}
	}
	return p
}

func (g *gen) message() *Message {
	m := &Message{Replaces: g.id(), TopicID: g.bytes(12), InReplyTo: g.id()}
	copy(m.Salt[:], g.bytes(16))
	if g.r.IntN(2) == 0 {
		m.Expires = &Expiration{Relative: g.r.IntN(2) == 0, Time: g.r.Uint32()}
	}
	for n := g.r.IntN(6); len(m.Extensions) < n; {
		var k ExtKey
		if g.r.IntN(2) == 0 {
			k = IntKey(g.r.Int64N(2*maxSafeInt+1) - maxSafeInt)
			k.Int >>= uint(g.r.IntN(54))
		} else {
			k = TextKey(g.text(12) + "k")
		}
		m.Extensions.Set(k, g.value(nil, 2))
	}
	g.parts, g.maxPart = 0, 60
	m.Body = g.part(1)
	return m
}

// equalMessages compares messages as the wire sees them.
func equalMessages(a, b *Message) bool {
	if a.Salt != b.Salt || !equalID(a.Replaces, b.Replaces) || !equalID(a.InReplyTo, b.InReplyTo) ||
		!bytes.Equal(a.TopicID, b.TopicID) || (a.Expires == nil) != (b.Expires == nil) ||
		(a.Expires != nil && *a.Expires != *b.Expires) || len(a.Extensions) != len(b.Extensions) {
		return false
	}
	for _, e := range a.Extensions {
		v, ok := b.Extensions.Get(e.Key)
		if !ok || !bytes.Equal(canonicalValue(nil, v), canonicalValue(nil, e.Value)) {
			return false
		}
	}
	return equalParts(&a.Body, &b.Body)
}

func equalID(a, b *MessageID) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func equalParts(a, b *NestedPart) bool {
	if a.Disposition != b.Disposition || a.Language != b.Language || a.Cardinality != b.Cardinality {
		return false
	}
	switch a.Cardinality {
	case Single:
		return a.ContentType == b.ContentType && bytes.Equal(a.Content, b.Content)
	case External:
		x, y := a.External, b.External
		return a.ContentType == b.ContentType && x.URL == y.URL && x.Expires == y.Expires && x.Size == y.Size &&
			x.EncAlg == y.EncAlg && bytes.Equal(x.Key, y.Key) && bytes.Equal(x.Nonce, y.Nonce) &&
			bytes.Equal(x.AAD, y.AAD) && x.HashAlg == y.HashAlg && bytes.Equal(x.ContentHash, y.ContentHash) &&
			x.Description == y.Description && x.Filename == y.Filename
	case Multi:
		if a.Semantics != b.Semantics || len(a.Parts) != len(b.Parts) {
			return false
		}
		for i := range a.Parts {
			if !equalParts(&a.Parts[i], &b.Parts[i]) {
				return false
			}
		}
	}
	return true
}

// shapeStats records which shapes a run covered, so the test fails if the
// generator silently stops producing some of them.
type shapeStats struct {
	card     [4]int
	maxDepth int
	exts     int
	nonDet   int
}

func (s *shapeStats) part(p *NestedPart, level int) {
	s.card[p.Cardinality]++
	s.maxDepth = max(s.maxDepth, level)
	for i := range p.Parts {
		s.part(&p.Parts[i], level+1)
	}
}

func TestPropertyRoundTrip(t *testing.T) {
	for _, sloppy := range []bool{false, true} {
		g := &gen{r: rand.New(rand.NewPCG(2026, 8)), sloppy: sloppy}
		var st shapeStats
		for i := 0; i < 3000; i++ {
			m := g.message()
			st.part(&m.Body, 1)
			st.exts += len(m.Extensions)
			for _, e := range m.Extensions {
				if det, _ := checkValue(e.Value, 2); !det {
					st.nonDet++
				}
			}
			enc, err := m.Encode()
			if err != nil {
				t.Fatalf("sloppy=%v #%d: encode: %v", sloppy, i, err)
			}
			if err := CheckDeterministic(enc); err != nil {
				t.Fatalf("sloppy=%v #%d: encoding not deterministic: %v\n%x", sloppy, i, err, enc)
			}
			m2, err := Decode(enc)
			if err != nil {
				t.Fatalf("sloppy=%v #%d: decode: %v\n%x", sloppy, i, err, enc)
			}
			if !equalMessages(m, m2) {
				t.Fatalf("sloppy=%v #%d: decoded message differs\n%x", sloppy, i, enc)
			}
			enc2, err := m2.Encode()
			if err != nil || !bytes.Equal(enc, enc2) {
				t.Fatalf("sloppy=%v #%d: second encoding differs (%v)", sloppy, i, err)
			}
			if _, err := ComputeID("s", "r", enc); err != nil {
				t.Fatalf("ComputeID: %v", err)
			}
		}
		if min(st.card[0], st.card[1], st.card[2], st.card[3]) < 100 || st.maxDepth != MaxPartDepth ||
			st.exts < 3000 || (sloppy && st.nonDet < 300) {
			t.Errorf("sloppy=%v: weak coverage %+v", sloppy, st)
		}
		t.Logf("sloppy=%v: %+v", sloppy, st)
	}
}

// checkValue and canonicalValue agree: a value is deterministic exactly
// when canonicalizing leaves it unchanged, and canonical output is stable.
func TestPropertyCanonicalValue(t *testing.T) {
	g := &gen{r: rand.New(rand.NewPCG(7, 7)), sloppy: true}
	seenNonDet := 0
	for i := 0; i < 20000; i++ {
		v := g.value(nil, 2)
		det, err := checkValue(v, 2)
		if err != nil {
			t.Fatalf("generated value rejected: %v\n%x", err, v)
		}
		c := canonicalValue(nil, v)
		if det != bytes.Equal(c, v) {
			t.Fatalf("det=%v but canonical form %x vs %x", det, c, v)
		}
		if cdet, err := checkValue(c, 2); err != nil || !cdet {
			t.Fatalf("canonical form %x not deterministic (%v)", c, err)
		}
		if !det {
			seenNonDet++
		}
	}
	if seenNonDet < 1000 {
		t.Errorf("only %d non-deterministic values generated; the generator is not exercising canonicalization", seenNonDet)
	}
}
