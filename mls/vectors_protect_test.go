package mls

import (
	"bytes"
	"testing"
)

func TestVectorTranscriptHashes(t *testing.T) {
	var vs []struct {
		CipherSuite     uint16   `json:"cipher_suite"`
		ConfirmationKey hexBytes `json:"confirmation_key"`
		AuthContent     hexBytes `json:"authenticated_content"`
		InterimBefore   hexBytes `json:"interim_transcript_hash_before"`
		ConfirmedAfter  hexBytes `json:"confirmed_transcript_hash_after"`
		InterimAfter    hexBytes `json:"interim_transcript_hash_after"`
	}
	loadVectors(t, "transcript-hashes.json", &vs)
	c := newTally(t)
	for _, v := range vs {
		s := c.suite(v.CipherSuite)
		if s == nil {
			continue
		}
		c.checked++
		var ac AuthenticatedContent
		if err := decodeAll(v.AuthContent, "authenticated_content", ac.decode); err != nil {
			t.Fatal(err)
		}
		if ac.Content.ContentType != ContentCommit {
			t.Fatalf("not a commit")
		}
		if err := s.verifyConfirmationTag(v.ConfirmationKey, v.ConfirmedAfter, ac.Auth.ConfirmationTag); err != nil {
			t.Errorf("confirmation tag: %v", err)
		}
		confirmed := s.confirmedTranscriptHash(v.InterimBefore, &ac)
		eqHex(t, "confirmed_transcript_hash_after", confirmed, v.ConfirmedAfter)
		eqHex(t, "interim_transcript_hash_after", s.interimTranscriptHash(confirmed, ac.Auth.ConfirmationTag), v.InterimAfter)
	}
}

func TestVectorMessageProtection(t *testing.T) {
	var vs []struct {
		CipherSuite      uint16   `json:"cipher_suite"`
		GroupID          hexBytes `json:"group_id"`
		Epoch            uint64   `json:"epoch"`
		TreeHash         hexBytes `json:"tree_hash"`
		Confirmed        hexBytes `json:"confirmed_transcript_hash"`
		SignaturePriv    hexBytes `json:"signature_priv"`
		SignaturePub     hexBytes `json:"signature_pub"`
		EncryptionSecret hexBytes `json:"encryption_secret"`
		SenderDataSecret hexBytes `json:"sender_data_secret"`
		MembershipKey    hexBytes `json:"membership_key"`
		Proposal         hexBytes `json:"proposal"`
		ProposalPub      hexBytes `json:"proposal_pub"`
		ProposalPriv     hexBytes `json:"proposal_priv"`
		Commit           hexBytes `json:"commit"`
		CommitPub        hexBytes `json:"commit_pub"`
		CommitPriv       hexBytes `json:"commit_priv"`
		Application      hexBytes `json:"application"`
		ApplicationPriv  hexBytes `json:"application_priv"`
	}
	loadVectors(t, "message-protection.json", &vs)
	c := newTally(t)
	for _, v := range vs {
		s := c.suite(v.CipherSuite)
		if s == nil {
			continue
		}
		c.checked++
		gc := GroupContext{Version: mls10, CipherSuite: CipherSuite(v.CipherSuite), GroupID: v.GroupID, Epoch: v.Epoch,
			TreeHash: v.TreeHash, ConfirmedTranscriptHash: v.Confirmed}
		ctx := gc.bytes()
		body := func(ac *AuthenticatedContent) []byte {
			var w writer
			ac.Content.encodeBody(&w)
			return w.b
		}
		framed := func(ct uint8, raw []byte) *AuthenticatedContent {
			fc := FramedContent{GroupID: v.GroupID, Epoch: v.Epoch, Sender: Sender{Type: SenderMember, Index: 1}, ContentType: ct}
			if err := decodeAll(raw, "content", fc.decodeBody); err != nil {
				t.Fatal(err)
			}
			return &AuthenticatedContent{Content: fc}
		}
		checkPub := func(name string, msg []byte) []byte {
			m, err := ParseMessage(msg)
			if err != nil || m.Public == nil {
				t.Fatalf("%s: %v", name, err)
			}
			ac, err := s.unprotectPublic(m.Public, v.MembershipKey, ctx)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := s.verifyFramed(ac, v.SignaturePub, ctx); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return body(ac)
		}
		checkPriv := func(name string, msg []byte) []byte {
			m, err := ParseMessage(msg)
			if err != nil || m.Private == nil {
				t.Fatalf("%s: %v", name, err)
			}
			ac, err := s.decryptPrivate(m.Private, newSecretTree(s, v.EncryptionSecret, 2), v.SenderDataSecret)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := s.verifyFramed(ac, v.SignaturePub, ctx); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return body(ac)
		}
		cases := []struct {
			name      string
			ct        uint8
			raw       []byte
			pub, priv []byte
		}{
			{"proposal", ContentProposal, v.Proposal, v.ProposalPub, v.ProposalPriv},
			{"commit", ContentCommit, v.Commit, v.CommitPub, v.CommitPriv},
			{"application", ContentApplication, nil, nil, v.ApplicationPriv},
		}
		for _, tc := range cases {
			raw := tc.raw
			if tc.ct == ContentApplication {
				var w writer
				w.opaque(v.Application)
				raw = w.b
			}
			if tc.pub != nil {
				eqHex(t, tc.name+"_pub content", checkPub(tc.name+"_pub", tc.pub), raw)
			}
			eqHex(t, tc.name+"_priv content", checkPriv(tc.name+"_priv", tc.priv), raw)

			// Protect ourselves and unprotect again.
			ac := framed(tc.ct, raw)
			ac.WireFormat = WirePublicMessage
			if tc.ct == ContentCommit {
				ac.Auth.ConfirmationTag = bytes.Repeat([]byte{1}, s.hashSize())
			}
			if err := s.signFramed(ac, v.SignaturePriv, ctx); err != nil {
				t.Fatal(err)
			}
			pm, err := s.protectPublic(ac, v.MembershipKey, ctx)
			if tc.ct == ContentApplication {
				if err == nil {
					t.Errorf("application data protected as PublicMessage")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				msg := (&Message{WireFormat: WirePublicMessage, Public: pm}).Bytes()
				eqHex(t, tc.name+" own pub", checkPub(tc.name+" own pub", msg), raw)
			}
			ac.WireFormat = WirePrivateMessage
			if err := s.signFramed(ac, v.SignaturePriv, ctx); err != nil {
				t.Fatal(err)
			}
			priv, err := s.encryptPrivate(ac, newSecretTree(s, v.EncryptionSecret, 2), v.SenderDataSecret)
			if err != nil {
				t.Fatal(err)
			}
			msg := (&Message{WireFormat: WirePrivateMessage, Private: priv}).Bytes()
			eqHex(t, tc.name+" own priv", checkPriv(tc.name+" own priv", msg), raw)
		}
	}
}
