package mls

import (
	"testing"
)

func TestVectorTreeMath(t *testing.T) {
	var vs []struct {
		NLeaves uint32    `json:"n_leaves"`
		NNodes  uint32    `json:"n_nodes"`
		Root    uint32    `json:"root"`
		Left    []*uint32 `json:"left"`
		Right   []*uint32 `json:"right"`
		Parent  []*uint32 `json:"parent"`
		Sibling []*uint32 `json:"sibling"`
	}
	loadVectors(t, "tree-math.json", &vs)
	c := newTally(t)
	opt := func(ok bool, v uint32) *uint32 {
		if !ok {
			return nil
		}
		return &v
	}
	eq := func(i int, what string, got, want *uint32) {
		if (got == nil) != (want == nil) || (got != nil && *got != *want) {
			t.Errorf("%s[%d] mismatch", what, i)
		}
	}
	for _, v := range vs {
		c.checked++
		if nodeWidth(v.NLeaves) != v.NNodes || root(v.NLeaves) != v.Root {
			t.Errorf("n=%d: width/root mismatch", v.NLeaves)
		}
		r := root(v.NLeaves)
		for i := uint32(0); i < v.NNodes; i++ {
			eq(int(i), "left", opt(!isLeaf(i), left(i)), v.Left[i])
			eq(int(i), "right", opt(!isLeaf(i), right(i)), v.Right[i])
			eq(int(i), "parent", opt(i != r, parentOf(i)), v.Parent[i])
			eq(int(i), "sibling", opt(i != r, siblingOf(i)), v.Sibling[i])
		}
	}
}

func TestVectorDeserialization(t *testing.T) {
	var vs []struct {
		Header hexBytes `json:"vlbytes_header"`
		Length int      `json:"length"`
	}
	loadVectors(t, "deserialization.json", &vs)
	c := newTally(t)
	for _, v := range vs {
		c.checked++
		r := newReader(v.Header)
		if n := r.varint("header"); n != v.Length || r.done("header") != nil {
			t.Errorf("header %x: got %d err %v, want %d", v.Header, n, r.err, v.Length)
		}
		var w writer
		w.varint(v.Length)
		eqHex(t, "re-encoded header", w.b, v.Header)
	}
}

func TestVectorCryptoBasics(t *testing.T) {
	var vs []struct {
		CipherSuite uint16 `json:"cipher_suite"`
		RefHash     struct {
			Label string   `json:"label"`
			Value hexBytes `json:"value"`
			Out   hexBytes `json:"out"`
		} `json:"ref_hash"`
		ExpandWithLabel struct {
			Secret  hexBytes `json:"secret"`
			Label   string   `json:"label"`
			Context hexBytes `json:"context"`
			Length  int      `json:"length"`
			Out     hexBytes `json:"out"`
		} `json:"expand_with_label"`
		DeriveSecret struct {
			Secret hexBytes `json:"secret"`
			Label  string   `json:"label"`
			Out    hexBytes `json:"out"`
		} `json:"derive_secret"`
		DeriveTreeSecret struct {
			Secret     hexBytes `json:"secret"`
			Label      string   `json:"label"`
			Generation uint32   `json:"generation"`
			Length     int      `json:"length"`
			Out        hexBytes `json:"out"`
		} `json:"derive_tree_secret"`
		SignWithLabel struct {
			Priv      hexBytes `json:"priv"`
			Pub       hexBytes `json:"pub"`
			Content   hexBytes `json:"content"`
			Label     string   `json:"label"`
			Signature hexBytes `json:"signature"`
		} `json:"sign_with_label"`
		EncryptWithLabel struct {
			Priv       hexBytes `json:"priv"`
			Pub        hexBytes `json:"pub"`
			Label      string   `json:"label"`
			Context    hexBytes `json:"context"`
			Plaintext  hexBytes `json:"plaintext"`
			KEMOutput  hexBytes `json:"kem_output"`
			Ciphertext hexBytes `json:"ciphertext"`
		} `json:"encrypt_with_label"`
	}
	loadVectors(t, "crypto-basics.json", &vs)
	c := newTally(t)
	for _, v := range vs {
		s := c.suite(v.CipherSuite)
		if s == nil {
			continue
		}
		c.checked++
		eqHex(t, "ref_hash", s.refHash(v.RefHash.Label, v.RefHash.Value), v.RefHash.Out)
		e := v.ExpandWithLabel
		eqHex(t, "expand_with_label", s.expandWithLabel(e.Secret, e.Label, e.Context, e.Length), e.Out)
		eqHex(t, "derive_secret", s.deriveSecret(v.DeriveSecret.Secret, v.DeriveSecret.Label), v.DeriveSecret.Out)
		d := v.DeriveTreeSecret
		eqHex(t, "derive_tree_secret", s.deriveTreeSecret(d.Secret, d.Label, d.Generation, d.Length), d.Out)
		sg := v.SignWithLabel
		if err := s.verifyWithLabel(sg.Pub, sg.Label, sg.Content, sg.Signature); err != nil {
			t.Errorf("suite %d: vector signature: %v", v.CipherSuite, err)
		}
		sig, err := s.signWithLabel(sg.Priv, sg.Label, sg.Content)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.verifyWithLabel(sg.Pub, sg.Label, sg.Content, sig); err != nil {
			t.Errorf("suite %d: own signature: %v", v.CipherSuite, err)
		}
		if pub, _ := s.signaturePublicKey(sg.Priv); string(pub) != string(sg.Pub) {
			t.Errorf("suite %d: signature public key derivation mismatch", v.CipherSuite)
		}
		if s.verifyWithLabel(sg.Pub, sg.Label+"x", sg.Content, sg.Signature) == nil {
			t.Errorf("suite %d: signature verified under the wrong label", v.CipherSuite)
		}
		en := v.EncryptWithLabel
		pt, err := s.decryptWithLabel(en.Priv, en.Label, en.Context, en.KEMOutput, en.Ciphertext)
		if err != nil {
			t.Fatalf("suite %d: decrypt: %v", v.CipherSuite, err)
		}
		eqHex(t, "decrypt_with_label", pt, en.Plaintext)
		kem, ct, err := s.encryptWithLabel(en.Pub, en.Label, en.Context, en.Plaintext)
		if err != nil {
			t.Fatal(err)
		}
		pt, err = s.decryptWithLabel(en.Priv, en.Label, en.Context, kem, ct)
		if err != nil {
			t.Fatalf("suite %d: decrypt own: %v", v.CipherSuite, err)
		}
		eqHex(t, "round trip", pt, en.Plaintext)
	}
}
