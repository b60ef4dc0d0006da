package content

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The official -08 examples, read from ../../shared (the project's shared
// material). Tests skip, saying so, when it is absent.

const vectorDir = "../../shared/vectors/mimi-content"

type vector struct {
	ID        string  `json:"id"`
	HexFile   string  `json:"hex_file"`
	Length    int     `json:"length"`
	SenderURI string  `json:"sender_uri"`
	RoomURI   string  `json:"room_uri"`
	Salt      string  `json:"salt"`
	MessageID string  `json:"message_id"`
	Replaces  *string `json:"replaces"`
	InReplyTo *string `json:"in_reply_to"`
	raw       []byte
}

func vectorsPath(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(vectorDir, "index.json")); err != nil {
		t.Skipf("shared MIMI vectors not found at %s (expected ../../shared relative to content/): %v", vectorDir, err)
	}
	return vectorDir
}

func readHex(t testing.TB, path string) []byte {
	t.Helper()
	s, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(s)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	dir := vectorsPath(t)
	js, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(js, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) != 14 {
		t.Fatalf("index.json lists %d vectors, want the 14 examples", len(vs))
	}
	for i := range vs {
		vs[i].raw = readHex(t, filepath.Join(dir, vs[i].HexFile))
		if len(vs[i].raw) != vs[i].Length {
			t.Fatalf("%s: %d bytes, index says %d", vs[i].ID, len(vs[i].raw), vs[i].Length)
		}
		cb, err := os.ReadFile(filepath.Join(dir, vs[i].ID+".cbor"))
		if err != nil || !bytes.Equal(cb, vs[i].raw) {
			t.Fatalf("%s: .cbor and .hex differ (%v)", vs[i].ID, err)
		}
	}
	return vs
}

func vectorBytes(t testing.TB, id string) []byte {
	t.Helper()
	for _, v := range loadVectors(t) {
		if v.ID == id {
			return v.raw
		}
	}
	t.Fatalf("no vector %s", id)
	return nil
}

func TestVectorsDecodeRoundTripID(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.ID, func(t *testing.T) {
			m, det, err := DecodeCheck(v.raw)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !det {
				t.Errorf("vector reported as not deterministic")
			}
			if err := CheckDeterministic(v.raw); err != nil {
				t.Errorf("CheckDeterministic: %v", err)
			}
			if got := hex.EncodeToString(m.Salt[:]); got != v.Salt {
				t.Errorf("salt %s, want %s", got, v.Salt)
			}
			checkRef(t, "replaces", m.Replaces, v.Replaces)
			checkRef(t, "inReplyTo", m.InReplyTo, v.InReplyTo)
			if s, ok := m.Extensions.SenderURI(); !ok || s != v.SenderURI {
				t.Errorf("senderUri %q %v, want %q", s, ok, v.SenderURI)
			}
			if s, ok := m.Extensions.RoomURI(); !ok || s != v.RoomURI {
				t.Errorf("roomUri %q %v, want %q", s, ok, v.RoomURI)
			}
			enc, err := m.Encode()
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.Equal(enc, v.raw) {
				t.Errorf("re-encoding differs:\n got %x\nwant %x", enc, v.raw)
			}
			id, err := ComputeID(v.SenderURI, v.RoomURI, v.raw)
			if err != nil {
				t.Fatal(err)
			}
			if id.String() != v.MessageID {
				t.Errorf("ID %s, want %s", id, v.MessageID)
			}
			if !Verify(id, v.SenderURI, v.RoomURI, v.raw) {
				t.Errorf("Verify rejected the published ID")
			}
		})
	}
}

// checkRef compares an optional ID with the index's value (nil = null).
func checkRef(t *testing.T, field string, got *MessageID, want *string) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Errorf("%s = %s, want null", field, got)
	case want != nil && got == nil:
		t.Errorf("%s = null, want %s", field, *want)
	case want != nil && got.String() != *want:
		t.Errorf("%s = %s, want %s", field, got, *want)
	}
}

func TestVectorReferencesResolve(t *testing.T) {
	ids := map[string]string{}
	vs := loadVectors(t)
	for _, v := range vs {
		ids[v.ID] = v.MessageID
	}
	// 06 edit replaces 02, 08 unlike replaces 03: the published chain holds.
	for _, c := range []struct{ from, field, to string }{
		{"02-reply", "inReplyTo", "01-original"}, {"03-reaction", "inReplyTo", "01-original"},
		{"06-edit", "replaces", "02-reply"}, {"08-unlike", "replaces", "03-reaction"},
	} {
		m, err := Decode(vectorBytes(t, c.from))
		if err != nil {
			t.Fatal(err)
		}
		ref := m.InReplyTo
		if c.field == "replaces" {
			ref = m.Replaces
		}
		if ref == nil || ref.String() != ids[c.to] {
			t.Errorf("%s.%s = %v, want ID of %s", c.from, c.field, ref, c.to)
		}
	}
}

func TestVectorShapes(t *testing.T) {
	m, err := Decode(vectorBytes(t, "14-multipart-3"))
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	var walk func(p *NestedPart)
	walk = func(p *NestedPart) {
		count++
		for i := range p.Parts {
			walk(&p.Parts[i])
		}
	}
	walk(&m.Body)
	if count != 11 {
		t.Errorf("multipart-3 has %d parts, want 11", count)
	}
	a, err := Decode(vectorBytes(t, "10-attachment"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Body.Cardinality != External || a.Body.External.Size != 708234961 || a.Body.External.EncAlg != 1 ||
		a.Body.External.HashAlg != 1 || a.Body.Language != "en" || a.Body.ContentType != "video/mp4" {
		t.Errorf("attachment decoded as %+v / %+v", a.Body, a.Body.External)
	}
	e, err := Decode(vectorBytes(t, "09-expiring"))
	if err != nil {
		t.Fatal(err)
	}
	if e.Expires == nil || e.Expires.Relative || e.Expires.Time != 1644390004 {
		t.Errorf("expires = %+v", e.Expires)
	}
	c, err := Decode(vectorBytes(t, "11-conferencing"))
	if err != nil {
		t.Fatal(err)
	}
	if string(c.TopicID) != "Foo 118" || c.Body.Disposition != Session {
		t.Errorf("conferencing topic %q disposition %v", c.TopicID, c.Body.Disposition)
	}
}

func TestVector15Rejected(t *testing.T) {
	raw := readHex(t, filepath.Join(vectorsPath(t), "15-implied-original.hex"))
	_, err := Decode(raw)
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("want *DecodeError, got %v", err)
	}
	if !errors.Is(err, ErrSaltSize) || de.Path != "salt" {
		t.Errorf("got %v (path %q), want salt size error", err, de.Path)
	}
	if _, err := ComputeID("a", "b", raw); !errors.Is(err, ErrSaltSize) {
		t.Errorf("ComputeID accepted vector 15: %v", err)
	}
	if _, err := DecodeStatusReport(raw); err == nil {
		t.Errorf("vector 15 decoded as a status report")
	}
}

func TestVector16StatusReport(t *testing.T) {
	raw := readHex(t, filepath.Join(vectorsPath(t), "16-message-status-report.hex"))
	rep, err := DecodeStatusReport(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id string
		s  Status
	}{
		{"017ce54837404c3696e0c747b985cb172716d0ed0a3d249ca63ace7d82a096f4", StatusRead},
		{"015354973c2b65ca937bf1e035ae53a5ab80e947afa43d46920d4202e5cc0b27", StatusRead},
		{"018d825adf9f6be00dcafc5704c4102f5022e74219d0b603e4ba7622654042af", StatusUnread},
		{"01e59db8173939facc2c8a4a0f0ae8d0c7a11a81239626630c9464a8d6717a03", StatusExpired},
	}
	if len(rep) != len(want) {
		t.Fatalf("%d entries, want 4", len(rep))
	}
	for i, w := range want {
		if rep[i].ID.String() != w.id || rep[i].Status != w.s {
			t.Errorf("entry %d = %s/%v, want %s/%v", i, rep[i].ID, rep[i].Status, w.id, w.s)
		}
	}
	enc, err := rep.Encode()
	if err != nil || !bytes.Equal(enc, raw) {
		t.Errorf("re-encode: %v\n got %x\nwant %x", err, enc, raw)
	}
	if _, err := Decode(raw); !errors.Is(err, ErrNotMessage) {
		t.Errorf("a bare status report decoded as a message: %v", err)
	}
}

func TestLegacy07IDs(t *testing.T) {
	dir := vectorsPath(t)
	readme, err := os.ReadFile(filepath.Join(dir, "legacy-draft-07", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	uris := map[string][2]string{}
	for _, v := range loadVectors(t) {
		uris[v.ID] = [2]string{v.SenderURI, v.RoomURI}
	}
	n := 0
	for _, line := range strings.Split(string(readme), "\n") {
		// | 01-original | `01b0...` | published |
		f := strings.Split(line, "|")
		if len(f) < 4 || !strings.HasPrefix(strings.TrimSpace(f[2]), "`01") {
			continue
		}
		name := strings.TrimSpace(f[1])
		want := strings.Trim(strings.TrimSpace(f[2]), "`")
		raw := readHex(t, filepath.Join(dir, "legacy-draft-07", name+".hex"))
		u, ok := uris[name]
		if !ok {
			t.Fatalf("no URIs for %s", name)
		}
		m, err := Decode(raw)
		if err != nil {
			t.Errorf("%s: -07 document does not decode: %v", name, err)
			continue
		}
		if enc, err := m.Encode(); err != nil || !bytes.Equal(enc, raw) {
			t.Errorf("%s: -07 document does not re-encode identically (%v)", name, err)
		}
		id, err := ComputeIDRule(IDRule07, u[0], u[1], raw)
		if err != nil || id.String() != want {
			t.Errorf("%s: -07 ID %s (%v), want %s", name, id, err, want)
		}
		if id08, _ := ComputeID(u[0], u[1], raw); id08 == id {
			t.Errorf("%s: -07 and -08 rules gave the same ID", name)
		}
		n++
	}
	if n != 14 {
		t.Errorf("checked %d legacy vectors, want 14", n)
	}
}
