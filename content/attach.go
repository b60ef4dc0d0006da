package content

// Attachments (§4.5 external content, example §5.9): the file is encrypted
// with a fresh AEAD key before upload, and key, nonce and aad travel in the
// ExternalPart.
//
// What size and contentHash cover: the draft calls contentHash the "hash of
// the content at the target url", so mimichat hashes the CIPHERTEXT (what
// the server stores), and for the same reason sends the ciphertext length
// as size. A receiver can then reject a truncated or swapped download
// before decrypting. Since the draft's "size of content in octets" is not
// explicit, VerifyAndDecrypt also accepts the plaintext length from other
// senders.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IANA AEAD algorithm numbers (RFC 5116 registry) for ExternalPart.EncAlg.
const (
	EncNone      uint16 = 0
	EncAES128GCM uint16 = 1 // MUST implement
	EncAES256GCM uint16 = 2
)

// IANA Named Information hash algorithm IDs for ExternalPart.HashAlg.
const (
	HashAlgNone   uint8 = 0
	HashAlgSHA256 uint8 = 1
	HashAlgSHA384 uint8 = 7
	HashAlgSHA512 uint8 = 8
)

// gcmTagSize is the AES-GCM authentication tag appended to the ciphertext.
const gcmTagSize = 16

// PlaintextSize is the size of the file an external part holds, as its
// owner knows it: Size counts the encrypted download, which for the AEAD
// algorithms here is the plaintext plus a 16-byte tag. Unencrypted parts
// (or a Size too small to hold a tag) are taken as they are.
func PlaintextSize(p *ExternalPart) uint64 {
	if p.EncAlg != 0 && p.Size >= gcmTagSize {
		return p.Size - gcmTagSize
	}
	return p.Size
}

// Attachment failures; every AttachmentError wraps one of these.
var (
	ErrNotExternal        = errors.New("not an external part")
	ErrUnsupportedEncAlg  = errors.New("unsupported encryption algorithm")
	ErrUnsupportedHashAlg = errors.New("unsupported hash algorithm")
	ErrKeyLength          = errors.New("wrong key length")
	ErrNonceLength        = errors.New("wrong nonce length")
	ErrHashMismatch       = errors.New("content hash mismatch")
	ErrSizeMismatch       = errors.New("content size mismatch")
	ErrTooLarge           = errors.New("content larger than allowed")
	ErrDecrypt            = errors.New("decryption failed (wrong key or tampered content)")
	ErrURL                = errors.New("not a downloadable http(s) URL")
	ErrExpired            = errors.New("external content has expired")
)

// AttachmentError names the ExternalPart field that failed and why.
type AttachmentError struct {
	Field  string // e.g. "contentHash", "encAlg"
	Kind   error  // one of the Err* values above
	Detail string
}

func (e *AttachmentError) Error() string {
	s := "content: attachment " + e.Field + ": " + e.Kind.Error()
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *AttachmentError) Unwrap() error { return e.Kind }

func attErr(field string, kind error, format string, a ...any) *AttachmentError {
	return &AttachmentError{Field: field, Kind: kind, Detail: fmt.Sprintf(format, a...)}
}

// AttachmentSpec describes a file to seal.
type AttachmentSpec struct {
	URL         string // where the ciphertext will be (may be filled in later)
	Filename    string // suggested name; directories are stripped (SafeFilename)
	Description string
	Expires     uint32 // seconds since epoch; 0 = never
	EncAlg      uint16 // EncAES128GCM (default when 0) or EncAES256GCM
	AAD         []byte // extra authenticated data; empty by default
}

// SealAttachment encrypts plaintext with a fresh random key and nonce from
// rnd (nil: crypto/rand) and returns the ExternalPart describing it and the
// ciphertext for the caller to upload to part.URL.
func SealAttachment(rnd io.Reader, plaintext []byte, spec AttachmentSpec) (ExternalPart, []byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	alg := spec.EncAlg
	if alg == EncNone {
		alg = EncAES128GCM
	}
	keyLen, ok := aeadKeyLen(alg)
	if !ok {
		return ExternalPart{}, nil, attErr("encAlg", ErrUnsupportedEncAlg, "%d; seal supports 1 and 2", alg)
	}
	key := make([]byte, keyLen)
	nonce := make([]byte, 12)
	if _, err := io.ReadFull(rnd, key); err != nil {
		return ExternalPart{}, nil, fmt.Errorf("content: attachment key: %w", err)
	}
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return ExternalPart{}, nil, fmt.Errorf("content: attachment nonce: %w", err)
	}
	aead, err := newGCM(key)
	if err != nil {
		return ExternalPart{}, nil, err
	}
	ct := aead.Seal(nil, nonce, plaintext, spec.AAD)
	sum := sha256.Sum256(ct)
	name := ""
	if spec.Filename != "" {
		name = SafeFilename(spec.Filename)
	}
	return ExternalPart{
		URL: spec.URL, Expires: spec.Expires, Size: uint64(len(ct)),
		EncAlg: alg, Key: key, Nonce: nonce, AAD: append([]byte{}, spec.AAD...),
		HashAlg: HashAlgSHA256, ContentHash: sum[:],
		Description: spec.Description, Filename: name,
	}, ct, nil
}

// SealAttachmentFrom reads at most maxBytes of plaintext from r and seals it.
// AES-GCM is not a streaming cipher, so the file is held in memory.
func SealAttachmentFrom(rnd io.Reader, r io.Reader, maxBytes int64, spec AttachmentSpec) (ExternalPart, []byte, error) {
	data, err := readLimited(r, maxBytes)
	if err != nil {
		return ExternalPart{}, nil, err
	}
	return SealAttachment(rnd, data, spec)
}

// VerifyAndDecrypt checks the fetched bytes against part (algorithm, key
// and nonce sizes, size, content hash) and returns the plaintext. With
// encAlg 0 the fetched bytes are the content.
func VerifyAndDecrypt(part *ExternalPart, fetched []byte) ([]byte, error) {
	if part == nil {
		return nil, attErr("external", ErrNotExternal, "nil part")
	}
	var aead cipher.AEAD
	if part.EncAlg != EncNone {
		keyLen, ok := aeadKeyLen(part.EncAlg)
		if !ok {
			return nil, attErr("encAlg", ErrUnsupportedEncAlg, "%d; supported: 1 AES-128-GCM, 2 AES-256-GCM", part.EncAlg)
		}
		if len(part.Key) != keyLen {
			return nil, attErr("key", ErrKeyLength, "%d bytes, want %d", len(part.Key), keyLen)
		}
		if len(part.Nonce) != 12 {
			return nil, attErr("nonce", ErrNonceLength, "%d bytes, want 12", len(part.Nonce))
		}
		aead, _ = newGCM(part.Key) // key length checked above
	} else if len(part.Key) != 0 || len(part.Nonce) != 0 {
		return nil, attErr("encAlg", ErrUnsupportedEncAlg, "0 (none) but a key or nonce is present")
	}
	if err := checkHash(part, fetched); err != nil {
		return nil, err
	}
	if aead == nil {
		if part.Size != 0 && part.Size != uint64(len(fetched)) {
			return nil, attErr("size", ErrSizeMismatch, "fetched %d bytes, part says %d", len(fetched), part.Size)
		}
		return append([]byte{}, fetched...), nil
	}
	if n := uint64(len(fetched)); part.Size != 0 && part.Size != n && part.Size+gcmTagSize != n {
		return nil, attErr("size", ErrSizeMismatch, "fetched %d bytes, part says %d", n, part.Size)
	}
	pt, err := aead.Open(nil, part.Nonce, fetched, part.AAD)
	if err != nil {
		return nil, attErr("key", ErrDecrypt, "")
	}
	return pt, nil
}

// ReadAndDecrypt reads the download from r, refusing more than part.Size
// bytes (when known) or maxBytes, then verifies and decrypts it.
func ReadAndDecrypt(part *ExternalPart, r io.Reader, maxBytes int64) ([]byte, error) {
	if part == nil {
		return nil, attErr("external", ErrNotExternal, "nil part")
	}
	limit := maxBytes
	if part.Size != 0 && part.Size+gcmTagSize < uint64(limit) {
		limit = int64(part.Size + gcmTagSize) // plaintext-size senders
	}
	data, err := readLimited(r, limit)
	if err != nil {
		return nil, err
	}
	return VerifyAndDecrypt(part, data)
}

func readLimited(r io.Reader, maxBytes int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("content: attachment read: %w", err)
	}
	if n > maxBytes {
		return nil, attErr("size", ErrTooLarge, "more than %d bytes", maxBytes)
	}
	return buf.Bytes(), nil
}

func checkHash(part *ExternalPart, fetched []byte) error {
	if part.HashAlg == HashAlgNone {
		if len(part.ContentHash) != 0 {
			return attErr("hashAlg", ErrUnsupportedHashAlg, "0 (none) but a contentHash is present")
		}
		return nil
	}
	h, size, ok := namedHash(part.HashAlg)
	if !ok {
		return attErr("hashAlg", ErrUnsupportedHashAlg, "%d; supported: 1-6 sha-256 (truncated), 7 sha-384, 8 sha-512", part.HashAlg)
	}
	if len(part.ContentHash) != size {
		return attErr("contentHash", ErrHashMismatch, "%d bytes, algorithm %d gives %d", len(part.ContentHash), part.HashAlg, size)
	}
	h.Write(fetched)
	if subtle.ConstantTimeCompare(h.Sum(nil)[:size], part.ContentHash) != 1 {
		return attErr("contentHash", ErrHashMismatch, "fetched content does not match")
	}
	return nil
}

// namedHash maps a Named Information ID (RFC 6920 registry) to a hash and
// its (possibly truncated) output length.
func namedHash(id uint8) (hash.Hash, int, bool) {
	switch id {
	case 1, 2, 3, 4, 5, 6: // sha-256 and its 128/120/96/64/32-bit truncations
		return sha256.New(), [...]int{32, 16, 15, 12, 8, 4}[id-1], true
	case HashAlgSHA384:
		return sha512.New384(), 48, true
	case HashAlgSHA512:
		return sha512.New(), 64, true
	}
	return nil, 0, false
}

func aeadKeyLen(alg uint16) (int, bool) {
	switch alg {
	case EncAES128GCM:
		return 16, true
	case EncAES256GCM:
		return 32, true
	}
	return 0, false
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, attErr("key", ErrKeyLength, "%v", err)
	}
	return cipher.NewGCM(block)
}

// DownloadURL checks that part may be fetched now: an absolute http or
// https URL with a host (never file:, data: or a relative path) whose
// expiry, if any, is after now (seconds since the epoch).
func DownloadURL(part *ExternalPart, now int64) (*url.URL, error) {
	if part == nil {
		return nil, attErr("external", ErrNotExternal, "nil part")
	}
	u, err := url.Parse(part.URL)
	if err != nil {
		return nil, attErr("url", ErrURL, "%v", err)
	}
	if s := strings.ToLower(u.Scheme); s != "https" && s != "http" || u.Host == "" {
		return nil, attErr("url", ErrURL, "%q", part.URL)
	}
	if part.Expires != 0 && now >= int64(part.Expires) {
		return nil, attErr("expires", ErrExpired, "expired at %d", part.Expires)
	}
	return u, nil
}

// maxFilenameBytes keeps saved names within common filesystem limits.
const maxFilenameBytes = 200

// SafeFilename turns a sender-suggested filename into one safe to save:
// only the last path element (either separator), no control or bidi
// override characters, no characters Windows forbids, no leading dots or
// trailing dots/spaces, not a reserved device name, at most 200 bytes
// (keeping the extension). An unusable name becomes "attachment".
func SafeFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return -1 // includes bidi overrides such as U+202E
		case strings.ContainsRune(`<>:"|?*`, r):
			return '_'
		}
		return r
	}, name)
	name = strings.TrimFunc(name, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
	if len(name) > maxFilenameBytes {
		ext := filepath.Ext(name)
		if len(ext) > 16 || !utf8.ValidString(ext) {
			ext = ""
		}
		stem := name[:maxFilenameBytes-len(ext)]
		for !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
		name = strings.TrimFunc(stem, unicode.IsSpace) + ext
	}
	if name == "" {
		return "attachment"
	}
	stem, _, _ := strings.Cut(strings.ToUpper(name), ".")
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return "_" + name
	}
	return name
}
