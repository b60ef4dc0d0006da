package content

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz targets for every decoder. Crashers found by `go test -fuzz` land in
// testdata/fuzz/<Target>/ and run as regression cases with plain `go test`.

// fuzzSeeds returns the official vectors, the -07 legacy documents, vectors
// 15 and 16, and deterministic mutations of each (flipped bytes, truncation,
// a trailing byte), or a few hand-made inputs when ../../shared is absent.
func fuzzSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{withBody(hText), withBody(extPart(0, "60")), withBody(nestMulti(3, hNull)),
		withExts("a2 01 82 f9 7e00 d8 20 60 19 0100 a1 41 00 80"), x("81 82" + hID + "02")}
	dir := vectorDir
	if _, err := os.Stat(dir); err == nil {
		files, _ := filepath.Glob(filepath.Join(dir, "*.hex"))
		legacy, _ := filepath.Glob(filepath.Join(dir, "legacy-draft-0*", "*.hex"))
		for _, p := range append(files, legacy...) {
			if strings.Contains(p, "errata-") {
				continue
			}
			seeds = append(seeds, readHex(f, p))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	n := len(seeds)
	for _, s := range seeds[:n] {
		for i := 0; i < 3 && len(s) > 0; i++ {
			m := bytes.Clone(s)
			m[r.IntN(len(m))] ^= byte(1 << r.IntN(8))
			seeds = append(seeds, m)
		}
		if len(s) > 1 {
			seeds = append(seeds, s[:r.IntN(len(s))], append(bytes.Clone(s), 0))
		}
	}
	return seeds
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b) // Decode aliases its input; keep a pristine copy
		m, det, err := DecodeCheck(b)
		strictErr := CheckDeterministic(b)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Kind == nil || de.Path == "" || de.Offset < 0 || de.Offset > len(b) {
				t.Fatalf("bad error %T %#v", err, err)
			}
			if strictErr == nil {
				t.Fatalf("strict decode accepted what default decode rejected: %v", err)
			}
			return
		}
		if det != (strictErr == nil) {
			t.Fatalf("DecodeCheck det=%v but CheckDeterministic=%v", det, strictErr)
		}
		enc, err := m.Encode()
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		if det && !bytes.Equal(enc, in) {
			t.Fatalf("deterministic input re-encodes differently:\n in %x\nout %x", in, enc)
		}
		if err := CheckDeterministic(enc); err != nil {
			t.Fatalf("encoding not deterministic: %v", err)
		}
		m2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !equalMessages(m, m2) {
			t.Fatalf("Decode(Encode(m)) != m")
		}
		if enc2, err := m2.Encode(); err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not idempotent: %v", err)
		}
		if _, err := ComputeID("s", "r", in); err != nil {
			t.Fatalf("ComputeID rejected a valid message: %v", err)
		}
		if IsStatusUpdate(m) {
			m.StatusReport() // must not panic
		}
		// typed accessors must not panic on whatever a valid message carries
		m.Extensions.SenderTimestamp()
		m.Extensions.ExternalMessageID()
		m.Extensions.Subject()
		m.Extensions.LastSeen()
	})
}

func FuzzDecodeStatusReport(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := DecodeStatusReport(b)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || !strings.HasPrefix(de.Path, "report") {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		enc, err := rep.Encode()
		if err != nil {
			t.Fatalf("decoded report does not encode: %v", err)
		}
		if len(enc) > len(b) {
			t.Fatalf("encoding longer than a valid input")
		}
		rep2, err := DecodeStatusReport(enc)
		if err != nil || len(rep2) != len(rep) {
			t.Fatalf("re-decode: %v", err)
		}
		for i := range rep {
			if rep[i] != rep2[i] {
				t.Fatalf("entry %d changed", i)
			}
		}
	})
}

func FuzzComputeID(f *testing.F) {
	for i, s := range fuzzSeeds(f) {
		f.Add([]string{"mimi://example.com/u/alice-smith", "", "a"}[i%3], "mimi://example.com/r/engineering_team", s)
	}
	f.Fuzz(func(t *testing.T, sender, room string, raw []byte) {
		id, err := ComputeID(sender, room, raw)
		id7, err7 := ComputeIDRule(IDRule07, sender, room, raw)
		m, derr := Decode(bytes.Clone(raw))
		if err != nil {
			if derr == nil && len(sender) <= 0xffff && len(room) <= 0xffff {
				t.Fatalf("ComputeID rejected a valid message: %v", err)
			}
			return
		}
		if err7 != nil {
			t.Fatalf("-07 rule failed where -08 succeeded: %v", err7)
		}
		if id[0] != HashSHA256 || id7[0] != HashSHA256 {
			t.Fatalf("hash octet %x/%x", id[0], id7[0])
		}
		if derr == nil {
			if want := longhandID(sender, room, raw, m.Salt[:], true); id != want {
				t.Fatalf("ID %s, longhand %s", id, want)
			}
			if want := longhandID(sender, room, raw, m.Salt[:], false); id7 != want {
				t.Fatalf("-07 ID %s, longhand %s", id7, want)
			}
		}
	})
}
