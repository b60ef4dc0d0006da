package mls

import "testing"

func TestVectorSecretTree(t *testing.T) {
	var vs []struct {
		CipherSuite uint16 `json:"cipher_suite"`
		SenderData  struct {
			Secret     hexBytes `json:"sender_data_secret"`
			Ciphertext hexBytes `json:"ciphertext"`
			Key        hexBytes `json:"key"`
			Nonce      hexBytes `json:"nonce"`
		} `json:"sender_data"`
		EncryptionSecret hexBytes `json:"encryption_secret"`
		Leaves           [][]struct {
			Generation       uint32   `json:"generation"`
			HandshakeKey     hexBytes `json:"handshake_key"`
			HandshakeNonce   hexBytes `json:"handshake_nonce"`
			ApplicationKey   hexBytes `json:"application_key"`
			ApplicationNonce hexBytes `json:"application_nonce"`
		} `json:"leaves"`
	}
	loadVectors(t, "secret-tree.json", &vs)
	c := newTally(t)
	for _, v := range vs {
		s := c.suite(v.CipherSuite)
		if s == nil {
			continue
		}
		c.checked++
		key, nonce := s.senderDataKeyNonce(v.SenderData.Secret, v.SenderData.Ciphertext)
		eqHex(t, "sender data key", key, v.SenderData.Key)
		eqHex(t, "sender data nonce", nonce, v.SenderData.Nonce)
		st := newSecretTree(s, v.EncryptionSecret, uint32(len(v.Leaves)))
		for i, gens := range v.Leaves {
			for _, g := range gens {
				hs, err := st.get(uint32(i), true, g.Generation)
				if err != nil {
					t.Fatalf("leaf %d gen %d: %v", i, g.Generation, err)
				}
				app, err := st.get(uint32(i), false, g.Generation)
				if err != nil {
					t.Fatalf("leaf %d gen %d: %v", i, g.Generation, err)
				}
				eqHex(t, "handshake key", hs.Key, g.HandshakeKey)
				eqHex(t, "handshake nonce", hs.Nonce, g.HandshakeNonce)
				eqHex(t, "application key", app.Key, g.ApplicationKey)
				eqHex(t, "application nonce", app.Nonce, g.ApplicationNonce)
			}
		}
	}
}

func TestVectorPSKSecret(t *testing.T) {
	var vs []struct {
		CipherSuite uint16 `json:"cipher_suite"`
		PSKs        []struct {
			ID    hexBytes `json:"psk_id"`
			PSK   hexBytes `json:"psk"`
			Nonce hexBytes `json:"psk_nonce"`
		} `json:"psks"`
		PSKSecret hexBytes `json:"psk_secret"`
	}
	loadVectors(t, "psk_secret.json", &vs)
	c := newTally(t)
	for _, v := range vs {
		s := c.suite(v.CipherSuite)
		if s == nil {
			continue
		}
		c.checked++
		var ids []PreSharedKeyID
		var keys [][]byte
		for _, p := range v.PSKs {
			ids = append(ids, PreSharedKeyID{Type: pskExternal, ID: p.ID, Nonce: p.Nonce})
			keys = append(keys, p.PSK)
		}
		eqHex(t, "psk_secret", s.pskSecret(ids, keys), v.PSKSecret)
	}
}

func TestVectorKeySchedule(t *testing.T) {
	var vs []struct {
		CipherSuite       uint16   `json:"cipher_suite"`
		GroupID           hexBytes `json:"group_id"`
		InitialInitSecret hexBytes `json:"initial_init_secret"`
		Epochs            []struct {
			TreeHash                hexBytes `json:"tree_hash"`
			CommitSecret            hexBytes `json:"commit_secret"`
			PSKSecret               hexBytes `json:"psk_secret"`
			ConfirmedTranscriptHash hexBytes `json:"confirmed_transcript_hash"`
			GroupContext            hexBytes `json:"group_context"`
			JoinerSecret            hexBytes `json:"joiner_secret"`
			WelcomeSecret           hexBytes `json:"welcome_secret"`
			InitSecret              hexBytes `json:"init_secret"`
			SenderDataSecret        hexBytes `json:"sender_data_secret"`
			EncryptionSecret        hexBytes `json:"encryption_secret"`
			ExporterSecret          hexBytes `json:"exporter_secret"`
			EpochAuthenticator      hexBytes `json:"epoch_authenticator"`
			ExternalSecret          hexBytes `json:"external_secret"`
			ConfirmationKey         hexBytes `json:"confirmation_key"`
			MembershipKey           hexBytes `json:"membership_key"`
			ResumptionPSK           hexBytes `json:"resumption_psk"`
			ExternalPub             hexBytes `json:"external_pub"`
			Exporter                struct {
				Label   string   `json:"label"`
				Context hexBytes `json:"context"`
				Length  int      `json:"length"`
				Secret  hexBytes `json:"secret"`
			} `json:"exporter"`
		} `json:"epochs"`
	}
	loadVectors(t, "key-schedule.json", &vs)
	c := newTally(t)
	for _, v := range vs {
		s := c.suite(v.CipherSuite)
		if s == nil {
			continue
		}
		c.checked++
		initSecret := []byte(v.InitialInitSecret)
		for i, e := range v.Epochs {
			gc := GroupContext{Version: mls10, CipherSuite: CipherSuite(v.CipherSuite), GroupID: v.GroupID,
				Epoch: uint64(i), TreeHash: e.TreeHash, ConfirmedTranscriptHash: e.ConfirmedTranscriptHash}
			ctx := gc.bytes()
			eqHex(t, "group_context", ctx, e.GroupContext)
			joiner := s.joinerSecret(initSecret, e.CommitSecret, ctx)
			es := s.epochFromJoiner(joiner, e.PSKSecret, ctx)
			eqHex(t, "joiner_secret", es.JoinerSecret, e.JoinerSecret)
			eqHex(t, "welcome_secret", es.WelcomeSecret, e.WelcomeSecret)
			eqHex(t, "welcome_secret (direct)", s.welcomeSecret(joiner, e.PSKSecret), e.WelcomeSecret)
			eqHex(t, "init_secret", es.InitSecret, e.InitSecret)
			eqHex(t, "sender_data_secret", es.SenderDataSecret, e.SenderDataSecret)
			eqHex(t, "encryption_secret", es.EncryptionSecret, e.EncryptionSecret)
			eqHex(t, "exporter_secret", es.ExporterSecret, e.ExporterSecret)
			eqHex(t, "epoch_authenticator", es.EpochAuthenticator, e.EpochAuthenticator)
			eqHex(t, "external_secret", es.ExternalSecret, e.ExternalSecret)
			eqHex(t, "confirmation_key", es.ConfirmationKey, e.ConfirmationKey)
			eqHex(t, "membership_key", es.MembershipKey, e.MembershipKey)
			eqHex(t, "resumption_psk", es.ResumptionPSK, e.ResumptionPSK)
			_, pub, err := s.deriveKeyPair(es.ExternalSecret)
			if err != nil {
				t.Fatal(err)
			}
			eqHex(t, "external_pub", pub, e.ExternalPub)
			x := e.Exporter
			eqHex(t, "exporter", s.exporter(es.ExporterSecret, x.Label, x.Context, x.Length), x.Secret)
			initSecret = es.InitSecret
		}
	}
}
