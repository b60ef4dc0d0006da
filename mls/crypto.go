package mls

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/hpke"
	"crypto/rand"
	"errors"
	"fmt"
)

// Labelled helpers of RFC 9420 §5: every derivation is bound to "MLS 1.0 " + label.

// ErrSignature means a signature did not verify.
var ErrSignature = errors.New("mls: signature does not verify")

// ErrDecrypt means an AEAD or HPKE ciphertext did not open.
var ErrDecrypt = errors.New("mls: decryption failed")

const labelPrefix = "MLS 1.0 "

func (s *suite) extract(salt, ikm []byte) []byte {
	if salt == nil {
		salt = make([]byte, s.hashSize())
	}
	prk, err := hkdf.Extract(s.newHash, ikm, salt)
	if err != nil {
		panic(err) // HMAC extract cannot fail
	}
	return prk
}

func (s *suite) expand(prk []byte, info []byte, n int) []byte {
	out, err := hkdf.Expand(s.newHash, prk, string(info), n)
	if err != nil {
		panic(err) // n is bounded by callers to 255*Nh
	}
	return out
}

// expandWithLabel is ExpandWithLabel(Secret, Label, Context, Length).
func (s *suite) expandWithLabel(secret []byte, label string, context []byte, n int) []byte {
	var w writer
	w.u16(uint16(n))
	w.opaque([]byte(labelPrefix + label))
	w.opaque(context)
	return s.expand(secret, w.b, n)
}

// deriveSecret is DeriveSecret(Secret, Label).
func (s *suite) deriveSecret(secret []byte, label string) []byte {
	return s.expandWithLabel(secret, label, nil, s.hashSize())
}

// deriveTreeSecret is DeriveTreeSecret(Secret, Label, Generation, Length).
func (s *suite) deriveTreeSecret(secret []byte, label string, gen uint32, n int) []byte {
	var w writer
	w.u32(gen)
	return s.expandWithLabel(secret, label, w.b, n)
}

// refHash is RefHash(Label, Value).
func (s *suite) refHash(label string, value []byte) []byte {
	var w writer
	w.opaque([]byte(label))
	w.opaque(value)
	return s.hash(w.b)
}

func (s *suite) mac(key, data []byte) []byte {
	m := hmac.New(s.newHash, key)
	m.Write(data)
	return m.Sum(nil)
}

func signContent(label string, content []byte) []byte {
	var w writer
	w.opaque([]byte(labelPrefix + label))
	w.opaque(content)
	return w.b
}

// SignaturePrivateKey is a signature key in the vector encoding: the Ed25519
// seed or private key, or the big-endian ECDSA scalar.
func (s *suite) sign(priv []byte, msg []byte) ([]byte, error) {
	switch s.sig {
	case sigEd25519:
		var k ed25519.PrivateKey
		switch len(priv) {
		case ed25519.SeedSize:
			k = ed25519.NewKeyFromSeed(priv)
		case ed25519.PrivateKeySize:
			k = ed25519.PrivateKey(priv)
		default:
			return nil, fmt.Errorf("mls: ed25519 private key of %d bytes", len(priv))
		}
		return ed25519.Sign(k, msg), nil
	default:
		k, err := s.ecdsaKey(priv)
		if err != nil {
			return nil, err
		}
		return ecdsa.SignASN1(rand.Reader, k, s.hash(msg))
	}
}

func (s *suite) verify(pub, msg, sig []byte) bool {
	switch s.sig {
	case sigEd25519:
		if len(pub) != ed25519.PublicKeySize {
			return false
		}
		return ed25519.Verify(ed25519.PublicKey(pub), msg, sig)
	default:
		k, err := s.ecdsaPublicKey(pub)
		if err != nil {
			return false
		}
		return ecdsa.VerifyASN1(k, s.hash(msg), sig)
	}
}

// signWithLabel is SignWithLabel(SignatureKey, Label, Content).
func (s *suite) signWithLabel(priv []byte, label string, content []byte) ([]byte, error) {
	return s.sign(priv, signContent(label, content))
}

// verifyWithLabel is VerifyWithLabel(VerificationKey, Label, Content, Signature).
func (s *suite) verifyWithLabel(pub []byte, label string, content, sig []byte) error {
	if !s.verify(pub, signContent(label, content), sig) {
		return fmt.Errorf("%w (%s)", ErrSignature, label)
	}
	return nil
}

// signaturePublicKey derives the public key encoding from a private key.
func (s *suite) signaturePublicKey(priv []byte) ([]byte, error) {
	switch s.sig {
	case sigEd25519:
		if len(priv) == ed25519.SeedSize {
			return ed25519.NewKeyFromSeed(priv).Public().(ed25519.PublicKey), nil
		}
		if len(priv) == ed25519.PrivateKeySize {
			return ed25519.PrivateKey(priv).Public().(ed25519.PublicKey), nil
		}
		return nil, fmt.Errorf("mls: ed25519 private key of %d bytes", len(priv))
	default:
		k, err := s.ecdsaKey(priv)
		if err != nil {
			return nil, err
		}
		return k.PublicKey.Bytes()
	}
}

// generateSignatureKey returns a fresh (private, public) pair.
func (s *suite) generateSignatureKey() (priv, pub []byte, err error) {
	switch s.sig {
	case sigEd25519:
		seed := make([]byte, ed25519.SeedSize)
		rand.Read(seed)
		return seed, ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey), nil
	default:
		k, err := ecdsa.GenerateKey(s.curve, rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		priv, err := k.Bytes()
		if err != nil {
			return nil, nil, err
		}
		pub, err := k.PublicKey.Bytes()
		return priv, pub, err
	}
}

func encryptContext(label string, context []byte) []byte {
	var w writer
	w.opaque([]byte(labelPrefix + label))
	w.opaque(context)
	return w.b
}

// encryptWithLabel is EncryptWithLabel: HPKE SealBase with the labelled info.
func (s *suite) encryptWithLabel(pub []byte, label string, context, plaintext []byte) (kemOutput, ct []byte, err error) {
	pk, err := s.kem.NewPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("mls: HPKE public key: %w", err)
	}
	enc, sender, err := hpke.NewSender(pk, s.kdf, s.aead, encryptContext(label, context))
	if err != nil {
		return nil, nil, fmt.Errorf("mls: HPKE setup: %w", err)
	}
	ct, err = sender.Seal(nil, plaintext)
	return enc, ct, err
}

// decryptWithLabel is DecryptWithLabel: HPKE OpenBase with the labelled info.
func (s *suite) decryptWithLabel(priv []byte, label string, context, kemOutput, ct []byte) ([]byte, error) {
	sk, err := s.hpkePrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("mls: HPKE private key: %w", err)
	}
	r, err := hpke.NewRecipient(kemOutput, sk, s.kdf, s.aead, encryptContext(label, context))
	if err != nil {
		return nil, fmt.Errorf("%w: HPKE setup (%s): %v", ErrDecrypt, label, err)
	}
	pt, err := r.Open(nil, ct)
	if err != nil {
		return nil, fmt.Errorf("%w: HPKE open (%s)", ErrDecrypt, label)
	}
	return pt, nil
}

// deriveKeyPair is KEM.DeriveKeyPair, returning serialized (private, public) keys.
func (s *suite) deriveKeyPair(ikm []byte) (priv, pub []byte, err error) {
	sk, err := s.kem.DeriveKeyPair(ikm)
	if err != nil {
		return nil, nil, err
	}
	priv, err = sk.Bytes()
	if err != nil {
		return nil, nil, err
	}
	return priv, sk.PublicKey().Bytes(), nil
}

// hpkePublicFromPrivate returns the public key of a serialized HPKE private key.
func (s *suite) hpkePublicFromPrivate(priv []byte) ([]byte, error) {
	sk, err := s.hpkePrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return sk.PublicKey().Bytes(), nil
}

func (s *suite) generateHPKEKey() (priv, pub []byte, err error) {
	ikm := make([]byte, s.hashSize())
	rand.Read(ikm)
	return s.deriveKeyPair(ikm)
}

func (s *suite) aeadFor(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func (s *suite) seal(key, nonce, aad, pt []byte) ([]byte, error) {
	a, err := s.aeadFor(key)
	if err != nil {
		return nil, err
	}
	return a.Seal(nil, nonce, pt, aad), nil
}

func (s *suite) open(key, nonce, aad, ct []byte) ([]byte, error) {
	a, err := s.aeadFor(key)
	if err != nil {
		return nil, err
	}
	pt, err := a.Open(nil, nonce, ct, aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// ecdsaKey parses a big-endian scalar, restoring leading zeros some encoders drop.
func (s *suite) ecdsaKey(priv []byte) (*ecdsa.PrivateKey, error) {
	size := (s.curve.Params().BitSize + 7) / 8
	if len(priv) < size {
		priv = append(make([]byte, size-len(priv)), priv...)
	}
	k, err := ecdsa.ParseRawPrivateKey(s.curve, priv)
	if err != nil {
		return nil, fmt.Errorf("mls: ecdsa private key: %w", err)
	}
	return k, nil
}

// hpkePrivateKey parses a serialized HPKE private key, restoring leading
// zeros of NIST-curve scalars that some encoders drop.
func (s *suite) hpkePrivateKey(priv []byte) (hpke.PrivateKey, error) {
	if s.curve != nil {
		size := (s.curve.Params().BitSize + 7) / 8
		if len(priv) < size {
			priv = append(make([]byte, size-len(priv)), priv...)
		}
	}
	return s.kem.NewPrivateKey(priv)
}

// ecdsaPublicKey parses a SEC1 point: uncompressed as RFC 9420 peers send, or
// compressed, as ts-mls 1.6.4 writes its signature keys.
func (s *suite) ecdsaPublicKey(pub []byte) (*ecdsa.PublicKey, error) {
	size := (s.curve.Params().BitSize + 7) / 8
	if len(pub) == 1+size && (pub[0] == 2 || pub[0] == 3) {
		x, y := elliptic.UnmarshalCompressed(s.curve, pub)
		if x == nil {
			return nil, fmt.Errorf("mls: invalid compressed ECDSA point")
		}
		// Re-encode uncompressed so the key goes through the one parser that
		// checks the point (the big.Int fields are deprecated since Go 1.26).
		point := make([]byte, 1+2*size)
		point[0] = 4
		x.FillBytes(point[1 : 1+size])
		y.FillBytes(point[1+size:])
		pub = point
	}
	return ecdsa.ParseUncompressedPublicKey(s.curve, pub)
}
