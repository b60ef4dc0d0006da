package mls

import (
	"bytes"
	"testing"
)

type passiveVector struct {
	CipherSuite  uint16 `json:"cipher_suite"`
	ExternalPSKs []struct {
		ID  hexBytes `json:"psk_id"`
		PSK hexBytes `json:"psk"`
	} `json:"external_psks"`
	KeyPackage     hexBytes `json:"key_package"`
	SignaturePriv  hexBytes `json:"signature_priv"`
	EncryptionPriv hexBytes `json:"encryption_priv"`
	InitPriv       hexBytes `json:"init_priv"`
	Welcome        hexBytes `json:"welcome"`
	RatchetTree    hexBytes `json:"ratchet_tree"`
	InitialEA      hexBytes `json:"initial_epoch_authenticator"`
	Epochs         []struct {
		Proposals []hexBytes `json:"proposals"`
		Commit    hexBytes   `json:"commit"`
		EA        hexBytes   `json:"epoch_authenticator"`
	} `json:"epochs"`
}

func runPassive(t *testing.T, file string) {
	var vs []passiveVector
	loadVectors(t, file, &vs)
	c := newTally(t)
	for i, v := range vs {
		s := c.suite(v.CipherSuite)
		if s == nil {
			continue
		}
		c.checked++
		m, err := ParseMessage(v.KeyPackage)
		if err != nil || m.KeyPackage == nil {
			t.Fatalf("%d: key package: %v", i, err)
		}
		kp := m.KeyPackage
		pub, err := s.signaturePublicKey(v.SignaturePriv)
		if err != nil || !bytes.Equal(pub, kp.LeafNode.SignatureKey) {
			t.Errorf("%d: signature_priv does not match the key package", i)
		}
		if p, _ := s.hpkePublicFromPrivate(v.EncryptionPriv); !bytes.Equal(p, kp.LeafNode.EncryptionKey) {
			t.Errorf("%d: encryption_priv does not match the key package", i)
		}
		if p, _ := s.hpkePublicFromPrivate(v.InitPriv); !bytes.Equal(p, kp.InitKey) {
			t.Errorf("%d: init_priv does not match the key package", i)
		}
		id := &Identity{CipherSuite: kp.CipherSuite, Credential: kp.LeafNode.Credential,
			SignaturePriv: v.SignaturePriv, SignaturePub: kp.LeafNode.SignatureKey}
		kpb := &KeyPackageBundle{KeyPackage: v.KeyPackage, InitPriv: v.InitPriv, EncryptionPriv: v.EncryptionPriv, Identity: id}
		opts := JoinOptions{RatchetTree: v.RatchetTree, ExternalPSKs: map[string][]byte{}}
		for _, p := range v.ExternalPSKs {
			opts.ExternalPSKs[string(p.ID)] = p.PSK
		}
		g, err := JoinFromWelcome(v.Welcome, kpb, opts)
		if err != nil {
			t.Errorf("%d: join: %v", i, err)
			continue
		}
		eqHex(t, "initial epoch authenticator", g.EpochAuthenticator(), v.InitialEA)
		for e, ep := range v.Epochs {
			for _, p := range ep.Proposals {
				if _, err := g.Process(p); err != nil {
					t.Fatalf("%d epoch %d: proposal: %v", i, e, err)
				}
			}
			if _, err := g.Process(ep.Commit); err != nil {
				t.Fatalf("%d epoch %d: commit: %v", i, e, err)
			}
			if !bytes.Equal(g.EpochAuthenticator(), ep.EA) {
				t.Fatalf("%d epoch %d: epoch authenticator mismatch", i, e)
			}
		}
	}
}

func TestVectorPassiveClientWelcome(t *testing.T) { runPassive(t, "passive-client-welcome.json") }
func TestVectorPassiveClientHandlingCommit(t *testing.T) {
	runPassive(t, "passive-client-handling-commit.json")
}
func TestVectorPassiveClientRandom(t *testing.T) { runPassive(t, "passive-client-random.json") }
