package mls

import (
	"crypto/ecdsa"
	"crypto/rand"
	"testing"
)

// ts-mls writes compressed SEC1 signature keys; a signature made with the
// key must verify whichever encoding the peer published.
func TestECDSACompressedPublicKey(t *testing.T) {
	for _, cs := range []CipherSuite{P256_AES128GCM_SHA256_P256} {
		s, err := lookupSuite(cs)
		if err != nil {
			t.Fatal(err)
		}
		priv, err := ecdsa.GenerateKey(s.curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := priv.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		uncompressed, err := priv.PublicKey.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		size := (s.curve.Params().BitSize + 7) / 8
		compressed := append([]byte{2 + uncompressed[len(uncompressed)-1]&1}, uncompressed[1:1+size]...)
		sig, err := s.sign(raw, []byte("content"))
		if err != nil {
			t.Fatal(err)
		}
		for name, pub := range map[string][]byte{"uncompressed": uncompressed, "compressed": compressed} {
			if !s.verify(pub, []byte("content"), sig) {
				t.Errorf("%v %s: signature does not verify", cs, name)
			}
			if s.verify(pub, []byte("other"), sig) {
				t.Errorf("%v %s: signature verifies over other content", cs, name)
			}
		}
		bad := append([]byte(nil), compressed...)
		bad[len(bad)-1] ^= 1
		if _, err := s.ecdsaPublicKey(bad); err == nil {
			// Some x coordinates are on the curve after a flip; check that the
			// parsed key is at least different from the original.
			if k, _ := s.ecdsaPublicKey(bad); k.Equal(&priv.PublicKey) {
				t.Errorf("%v: a changed compressed point parsed to the same key", cs)
			}
		}
	}
}
