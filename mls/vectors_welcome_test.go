package mls

import "testing"

func TestVectorWelcome(t *testing.T) {
	var vs []struct {
		CipherSuite uint16   `json:"cipher_suite"`
		InitPriv    hexBytes `json:"init_priv"`
		SignerPub   hexBytes `json:"signer_pub"`
		KeyPackage  hexBytes `json:"key_package"`
		Welcome     hexBytes `json:"welcome"`
	}
	loadVectors(t, "welcome.json", &vs)
	c := newTally(t)
	for i, v := range vs {
		s := c.suite(v.CipherSuite)
		if s == nil {
			continue
		}
		c.checked++
		km, err := ParseMessage(v.KeyPackage)
		if err != nil || km.KeyPackage == nil {
			t.Fatalf("%d: %v", i, err)
		}
		wm, err := ParseMessage(v.Welcome)
		if err != nil || wm.Welcome == nil {
			t.Fatalf("%d: %v", i, err)
		}
		ref := km.KeyPackage.ref(s)
		var egs *EncryptedGroupSecrets
		for j := range wm.Welcome.Secrets {
			if string(wm.Welcome.Secrets[j].NewMember) == string(ref) {
				egs = &wm.Welcome.Secrets[j]
			}
		}
		if egs == nil {
			t.Fatalf("%d: no entry for the key package", i)
		}
		pt, err := s.decryptWithLabel(v.InitPriv, "Welcome", wm.Welcome.EncryptedGroupInfo, egs.Secrets.KEMOutput, egs.Secrets.Ciphertext)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		var gs GroupSecrets
		if err := decodeAll(pt, "group_secrets", gs.decode); err != nil {
			t.Fatal(err)
		}
		key, nonce := s.welcomeKeyNonce(s.welcomeSecret(gs.JoinerSecret, nil))
		gib, err := s.open(key, nonce, nil, wm.Welcome.EncryptedGroupInfo)
		if err != nil {
			t.Fatalf("%d: group info: %v", i, err)
		}
		var gi GroupInfo
		if err := decodeAll(gib, "group_info", gi.decode); err != nil {
			t.Fatal(err)
		}
		if err := s.verifyWithLabel(v.SignerPub, "GroupInfoTBS", gi.tbs(), gi.Signature); err != nil {
			t.Errorf("%d: %v", i, err)
		}
		ep := s.epochFromJoiner(gs.JoinerSecret, nil, gi.GroupContext.bytes())
		if err := s.verifyConfirmationTag(ep.ConfirmationKey, gi.GroupContext.ConfirmedTranscriptHash, gi.ConfirmationTag); err != nil {
			t.Errorf("%d: %v", i, err)
		}
	}
}
