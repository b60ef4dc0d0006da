package mls

import (
	"crypto"
	"crypto/ecdh"
	"crypto/elliptic"
	"crypto/hpke"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
)

// CipherSuite is an RFC 9420 §17.1 cipher suite identifier.
type CipherSuite uint16

// Cipher suites this package implements.
const (
	X25519_AES128GCM_SHA256_Ed25519 CipherSuite = 0x0001
	P256_AES128GCM_SHA256_P256      CipherSuite = 0x0002
	P521_AES256GCM_SHA512_P521      CipherSuite = 0x0005
	P384_AES256GCM_SHA384_P384      CipherSuite = 0x0007
)

// ErrUnsupportedCipherSuite rejects suites whose primitives the standard library lacks (X448, ChaCha20).
var ErrUnsupportedCipherSuite = errors.New("mls: unsupported cipher suite")

// sigScheme names a signature algorithm.
type sigScheme int

const (
	sigEd25519 sigScheme = iota
	sigECDSA
)

// suite holds the primitives of one cipher suite.
type suite struct {
	id      CipherSuite
	newHash func() hash.Hash
	hashID  crypto.Hash
	kem     hpke.KEM
	kdf     hpke.KDF
	aead    hpke.AEAD
	keySize int // AEAD key length
	npk     int // HPKE public key length
	sig     sigScheme
	curve   elliptic.Curve // ECDSA curve
}

var suites = map[CipherSuite]*suite{
	X25519_AES128GCM_SHA256_Ed25519: {id: 1, newHash: sha256.New, hashID: crypto.SHA256, kem: hpke.DHKEM(ecdh.X25519()), kdf: hpke.HKDFSHA256(), aead: hpke.AES128GCM(), keySize: 16, npk: 32, sig: sigEd25519},
	P256_AES128GCM_SHA256_P256:      {id: 2, newHash: sha256.New, hashID: crypto.SHA256, kem: hpke.DHKEM(ecdh.P256()), kdf: hpke.HKDFSHA256(), aead: hpke.AES128GCM(), keySize: 16, npk: 65, sig: sigECDSA, curve: elliptic.P256()},
	P521_AES256GCM_SHA512_P521:      {id: 5, newHash: sha512.New, hashID: crypto.SHA512, kem: hpke.DHKEM(ecdh.P521()), kdf: hpke.HKDFSHA512(), aead: hpke.AES256GCM(), keySize: 32, npk: 133, sig: sigECDSA, curve: elliptic.P521()},
	P384_AES256GCM_SHA384_P384:      {id: 7, newHash: sha512.New384, hashID: crypto.SHA384, kem: hpke.DHKEM(ecdh.P384()), kdf: hpke.HKDFSHA384(), aead: hpke.AES256GCM(), keySize: 32, npk: 97, sig: sigECDSA, curve: elliptic.P384()},
}

// Supported reports whether the package implements cs.
func (cs CipherSuite) Supported() bool { return suites[cs] != nil }

func (cs CipherSuite) String() string { return fmt.Sprintf("0x%04x", uint16(cs)) }

func lookupSuite(cs CipherSuite) (*suite, error) {
	s := suites[cs]
	if s == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedCipherSuite, cs)
	}
	return s, nil
}

// hashSize is Nh, also the KDF extract size.
func (s *suite) hashSize() int { return s.hashID.Size() }

// nonceSize is the AEAD nonce length for every supported suite.
func (s *suite) nonceSize() int { return 12 }

func (s *suite) hash(p []byte) []byte {
	h := s.newHash()
	h.Write(p)
	return h.Sum(nil)
}
