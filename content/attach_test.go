package content

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"unicode"
)

func sealed(t *testing.T, alg uint16, plaintext []byte, aad []byte) (ExternalPart, []byte) {
	t.Helper()
	part, ct, err := SealAttachment(nil, plaintext, AttachmentSpec{URL: "https://example.com/f", Filename: "../../etc/cat.png",
		Description: "a cat", EncAlg: alg, AAD: aad})
	if err != nil {
		t.Fatal(err)
	}
	return part, ct
}

func TestSealAttachment(t *testing.T) {
	plain := bytes.Repeat([]byte("cat picture "), 1000)
	for _, tc := range []struct {
		alg    uint16
		keyLen int
	}{{0, 16}, {EncAES128GCM, 16}, {EncAES256GCM, 32}} {
		part, ct := sealed(t, tc.alg, plain, []byte("aad"))
		sum := sha256.Sum256(ct)
		switch {
		case part.EncAlg == EncNone || len(part.Key) != tc.keyLen || len(part.Nonce) != 12:
			t.Fatalf("alg %d: encAlg %d key %d nonce %d", tc.alg, part.EncAlg, len(part.Key), len(part.Nonce))
		case part.Size != uint64(len(ct)) || len(ct) != len(plain)+16:
			t.Fatalf("size %d, ciphertext %d, plaintext %d", part.Size, len(ct), len(plain))
		case part.HashAlg != HashAlgSHA256 || !bytes.Equal(part.ContentHash, sum[:]):
			t.Fatal("content hash is not SHA-256 of the ciphertext")
		case part.Filename != "cat.png" || part.Description != "a cat" || part.URL != "https://example.com/f":
			t.Fatalf("metadata %q %q %q", part.Filename, part.Description, part.URL)
		case bytes.Contains(ct, []byte("cat picture")):
			t.Fatal("ciphertext contains plaintext")
		}
		got, err := VerifyAndDecrypt(&part, ct)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("alg %d round trip: %v", tc.alg, err)
		}
		got, err = ReadAndDecrypt(&part, bytes.NewReader(ct), 1<<20)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("alg %d streaming round trip: %v", tc.alg, err)
		}
	}
	a, _ := sealed(t, 0, plain, nil)
	b, _ := sealed(t, 0, plain, nil)
	if bytes.Equal(a.Key, b.Key) || bytes.Equal(a.Nonce, b.Nonce) {
		t.Fatal("key or nonce reused between attachments")
	}
	if _, _, err := SealAttachment(nil, plain, AttachmentSpec{EncAlg: 29}); !errors.Is(err, ErrUnsupportedEncAlg) {
		t.Fatalf("seal with ChaCha20: %v", err)
	}
	if _, _, err := SealAttachment(strings.NewReader("short"), plain, AttachmentSpec{}); err == nil {
		t.Fatal("seal with exhausted randomness succeeded")
	}
	msg, err := (&Builder{}).Attachment("image/png", a, WithDisposition(Inline))
	if err != nil || msg.Body.Disposition != Inline || msg.Body.External.EncAlg != EncAES128GCM {
		t.Fatalf("attachment message: %v", err)
	}
}

func TestVerifyAndDecryptRejects(t *testing.T) {
	plain := []byte("the quarterly numbers")
	part, ct := sealed(t, EncAES128GCM, plain, []byte("ctx"))
	flip := func(b []byte, i int) []byte { c := append([]byte{}, b...); c[i] ^= 1; return c }
	rehash := func(p ExternalPart, data []byte) ExternalPart {
		s := sha256.Sum256(data)
		p.ContentHash = s[:]
		return p
	}
	with := func(f func(p *ExternalPart)) *ExternalPart {
		p := part
		f(&p)
		return &p
	}
	tampered := flip(ct, 3)
	tests := []struct {
		name  string
		part  *ExternalPart
		data  []byte
		kind  error
		field string
	}{
		{"tampered ciphertext", &part, tampered, ErrHashMismatch, "contentHash"},
		{"truncated download", &part, ct[:len(ct)-1], ErrHashMismatch, "contentHash"},
		{"tampered, hash recomputed by attacker", with(func(p *ExternalPart) { *p = rehash(*p, tampered) }), tampered, ErrDecrypt, "key"},
		{"wrong key", with(func(p *ExternalPart) { p.Key = flip(p.Key, 0) }), ct, ErrDecrypt, "key"},
		{"wrong aad", with(func(p *ExternalPart) { p.AAD = []byte("other") }), ct, ErrDecrypt, "key"},
		{"wrong nonce", with(func(p *ExternalPart) { p.Nonce = flip(p.Nonce, 0) }), ct, ErrDecrypt, "key"},
		{"short key", with(func(p *ExternalPart) { p.Key = p.Key[:15] }), ct, ErrKeyLength, "key"},
		{"aes-256 with 16-byte key", with(func(p *ExternalPart) { p.EncAlg = EncAES256GCM }), ct, ErrKeyLength, "key"},
		{"short nonce", with(func(p *ExternalPart) { p.Nonce = p.Nonce[:8] }), ct, ErrNonceLength, "nonce"},
		{"chacha20-poly1305", with(func(p *ExternalPart) { p.EncAlg = 29 }), ct, ErrUnsupportedEncAlg, "encAlg"},
		{"encAlg 0 with a key", with(func(p *ExternalPart) { p.EncAlg = 0 }), ct, ErrUnsupportedEncAlg, "encAlg"},
		{"unknown hash", with(func(p *ExternalPart) { p.HashAlg = 99 }), ct, ErrUnsupportedHashAlg, "hashAlg"},
		{"hash without hashAlg", with(func(p *ExternalPart) { p.HashAlg = 0 }), ct, ErrUnsupportedHashAlg, "hashAlg"},
		{"hash length", with(func(p *ExternalPart) { p.ContentHash = p.ContentHash[:16] }), ct, ErrHashMismatch, "contentHash"},
		{"size mismatch", with(func(p *ExternalPart) { p.Size = 5 }), ct, ErrSizeMismatch, "size"},
		{"nil part", nil, ct, ErrNotExternal, "external"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := VerifyAndDecrypt(tc.part, tc.data)
			var ae *AttachmentError
			if !errors.Is(err, tc.kind) || !errors.As(err, &ae) || ae.Field != tc.field || got != nil {
				t.Fatalf("err = %v (field %v), want %v in %s", err, ae, tc.kind, tc.field)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
}

func TestVerifyAndDecryptAccepts(t *testing.T) {
	plain := []byte("hello")
	part, ct := sealed(t, EncAES128GCM, plain, nil)
	plainSize := part
	plainSize.Size = uint64(len(plain)) // senders that count plaintext octets
	unknownSize := part
	unknownSize.Size = 0
	noHash := part
	noHash.HashAlg, noHash.ContentHash = 0, nil
	truncHash := part
	truncHash.HashAlg, truncHash.ContentHash = 2, part.ContentHash[:16] // sha-256-128
	open := ExternalPart{URL: "https://example.com/x", Size: 5, HashAlg: HashAlgSHA256, ContentHash: sha(plain)}
	for name, p := range map[string]*ExternalPart{"plaintext size": &plainSize, "unknown size": &unknownSize,
		"no hash (AEAD still authenticates)": &noHash, "truncated sha-256": &truncHash} {
		if got, err := VerifyAndDecrypt(p, ct); err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got, err := VerifyAndDecrypt(&open, plain); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("unencrypted: %v", err)
	}
	if _, err := VerifyAndDecrypt(&open, []byte("hellO")); !errors.Is(err, ErrHashMismatch) {
		t.Errorf("unencrypted tampered: %v", err)
	}
}

func sha(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func TestReadAndDecryptLimit(t *testing.T) {
	part, ct := sealed(t, EncAES128GCM, bytes.Repeat([]byte{7}, 1000), nil)
	if _, err := ReadAndDecrypt(&part, bytes.NewReader(ct), 100); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over maxBytes: %v", err)
	}
	small := part
	small.Size = 10
	if _, err := ReadAndDecrypt(&small, bytes.NewReader(ct), 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the announced size: %v", err)
	}
	if _, err := ReadAndDecrypt(nil, bytes.NewReader(ct), 1<<20); !errors.Is(err, ErrNotExternal) {
		t.Fatalf("nil part: %v", err)
	}
	if _, _, err := SealAttachmentFrom(nil, bytes.NewReader(make([]byte, 50)), 49, AttachmentSpec{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("seal over limit: %v", err)
	}
}

func TestSafeFilename(t *testing.T) {
	long := strings.Repeat("é", 150) + ".tar.gz"
	tests := []struct{ in, want string }{
		{"bigfile.mp4", "bigfile.mp4"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\bob\evil.exe`, "evil.exe"},
		{"..", "attachment"},
		{".bashrc", "bashrc"},
		{"", "attachment"},
		{"a\x00b\nc\x1bd.txt", "abcd.txt"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe"},
		{`what?<>:"|*.txt`, "what_______.txt"},
		{"trailing. . ", "trailing"},
		{"CON.txt", "_CON.txt"},
		{"nul", "_nul"},
		{"résumé 2026.pdf", "résumé 2026.pdf"},
		{"\xff\xfe.bin", "bin"},
	}
	for _, tc := range tests {
		if got := SafeFilename(tc.in); got != tc.want {
			t.Errorf("SafeFilename(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	got := SafeFilename(long)
	if len(got) > 200 || !strings.HasSuffix(got, ".gz") || !strings.HasPrefix(got, "éé") {
		t.Errorf("long name cut to %d bytes: %q", len(got), got)
	}
}

// checkSafeFilename is the property FuzzSafeFilename checks.
func checkSafeFilename(t *testing.T, in string) {
	got := SafeFilename(in)
	if got == "" || got == "." || got == ".." || len(got) > 200 || strings.ContainsAny(got, `/\<>:"|?*`) ||
		strings.HasPrefix(got, ".") {
		t.Fatalf("SafeFilename(%q) = %q", in, got)
	}
	for _, r := range got {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar && !strings.ContainsRune(in, r) {
			t.Fatalf("SafeFilename(%q) = %q keeps %U", in, got, r)
		}
	}
}

func FuzzSafeFilename(f *testing.F) {
	for _, s := range []string{"bigfile.mp4", "../../x", `a\b`, "CON", "\u202Eexe.txt", "..", " . ", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(checkSafeFilename)
}

func FuzzVerifyAndDecrypt(f *testing.F) {
	part, ct, err := SealAttachment(nil, []byte("seed plaintext"), AttachmentSpec{AAD: []byte("a")})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(part.EncAlg, part.HashAlg, part.Key, part.Nonce, part.AAD, part.ContentHash, part.Size, ct)
	f.Add(uint16(0), uint8(0), []byte{}, []byte{}, []byte{}, []byte{}, uint64(0), []byte("open"))
	f.Add(uint16(2), uint8(8), make([]byte, 32), make([]byte, 12), []byte{}, make([]byte, 64), uint64(1), []byte{})
	f.Fuzz(func(t *testing.T, enc uint16, hashAlg uint8, key, nonce, aad, sum []byte, size uint64, data []byte) {
		p := &ExternalPart{EncAlg: enc, HashAlg: hashAlg, Key: key, Nonce: nonce, AAD: aad, ContentHash: sum, Size: size}
		pt, err := VerifyAndDecrypt(p, data)
		if err != nil {
			var ae *AttachmentError
			if !errors.As(err, &ae) || pt != nil {
				t.Fatalf("untyped error or partial output: %v", err)
			}
			return
		}
		if enc == EncNone && !bytes.Equal(pt, data) {
			t.Fatal("unencrypted content changed")
		}
		if enc != EncNone && len(pt)+16 != len(data) {
			t.Fatalf("plaintext %d bytes from %d", len(pt), len(data))
		}
	})
}

func BenchmarkSealAttachment1MiB(b *testing.B) {
	plain := make([]byte, 1<<20)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := SealAttachment(nil, plain, AttachmentSpec{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyAndDecrypt1MiB(b *testing.B) {
	part, ct, err := SealAttachment(nil, make([]byte, 1<<20), AttachmentSpec{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(ct)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyAndDecrypt(&part, ct); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDownloadURL(t *testing.T) {
	tests := []struct {
		url     string
		expires uint32
		kind    error
	}{
		{"https://example.com/storage/8ksB4bSrrRE.mp4", 0, nil},
		{"HTTP://example.com/x", 2000, nil},
		{"https://example.com/x", 1000, ErrExpired},
		{"file:///etc/passwd", 0, ErrURL},
		{"data:text/plain,hi", 0, ErrURL},
		{"/relative/path", 0, ErrURL},
		{"https:///nohost", 0, ErrURL},
		{"https://exa mple.com/%zz", 0, ErrURL},
	}
	for _, tc := range tests {
		u, err := DownloadURL(&ExternalPart{URL: tc.url, Expires: tc.expires}, 1000)
		if !errors.Is(err, tc.kind) || (err == nil) != (u != nil) {
			t.Errorf("DownloadURL(%q, expires %d) = %v, %v; want %v", tc.url, tc.expires, u, err, tc.kind)
		}
	}
	if _, err := DownloadURL(nil, 0); !errors.Is(err, ErrNotExternal) {
		t.Errorf("nil part: %v", err)
	}
}
