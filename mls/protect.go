package mls

import (
	"crypto/hmac"
	"errors"
	"fmt"
)

// Message protection of RFC 9420 §6: signatures, membership tags, transcript
// hashes, and PrivateMessage encryption under the secret tree.

// Protection errors.
var (
	ErrMembershipTag   = errors.New("mls: membership tag does not verify")
	ErrConfirmationTag = errors.New("mls: confirmation tag does not verify")
	ErrPadding         = errors.New("mls: non-zero padding in PrivateMessage")
	ErrSenderData      = errors.New("mls: cannot decrypt sender data")
	ErrWireFormat      = errors.New("mls: content not allowed in this wire format")
)

// paddingBlock rounds PrivateMessage plaintexts up to hide exact lengths.
const paddingBlock = 32

// confirmedTranscriptHash is Hash(interim || ConfirmedTranscriptHashInput).
func (s *suite) confirmedTranscriptHash(interim []byte, ac *AuthenticatedContent) []byte {
	w := writer{b: append([]byte{}, interim...)}
	w.u16(ac.WireFormat)
	ac.Content.encode(&w)
	w.opaque(ac.Auth.Signature)
	return s.hash(w.b)
}

// interimTranscriptHash is Hash(confirmed || InterimTranscriptHashInput).
func (s *suite) interimTranscriptHash(confirmed, confirmationTag []byte) []byte {
	w := writer{b: append([]byte{}, confirmed...)}
	w.opaque(confirmationTag)
	return s.hash(w.b)
}

func (s *suite) confirmationTag(key, confirmed []byte) []byte { return s.mac(key, confirmed) }

func (s *suite) verifyConfirmationTag(key, confirmed, tag []byte) error {
	if !hmac.Equal(s.mac(key, confirmed), tag) {
		return ErrConfirmationTag
	}
	return nil
}

// signFramed signs ac's FramedContentTBS; ctx is the serialized GroupContext.
func (s *suite) signFramed(ac *AuthenticatedContent, priv, ctx []byte) error {
	sig, err := s.signWithLabel(priv, "FramedContentTBS", ac.tbs(ctx))
	ac.Auth.Signature = sig
	return err
}

func (s *suite) verifyFramed(ac *AuthenticatedContent, pub, ctx []byte) error {
	return s.verifyWithLabel(pub, "FramedContentTBS", ac.tbs(ctx), ac.Auth.Signature)
}

// membershipTag is MAC(membership_key, AuthenticatedContentTBM).
func (s *suite) membershipTag(key []byte, ac *AuthenticatedContent, ctx []byte) []byte {
	w := writer{b: ac.tbs(ctx)}
	ac.Auth.encode(&w, ac.Content.ContentType)
	return s.mac(key, w.b)
}

// protectPublic frames signed content as a PublicMessage.
func (s *suite) protectPublic(ac *AuthenticatedContent, membershipKey, ctx []byte) (*PublicMessage, error) {
	if ac.Content.ContentType == ContentApplication {
		return nil, fmt.Errorf("%w: application data must be a PrivateMessage", ErrWireFormat)
	}
	pm := &PublicMessage{Content: ac.Content, Auth: ac.Auth}
	if ac.Content.Sender.Type == SenderMember {
		pm.MembershipTag = s.membershipTag(membershipKey, ac, ctx)
	}
	return pm, nil
}

// unprotectPublic checks the membership tag of member-sent messages; the caller verifies the signature.
func (s *suite) unprotectPublic(pm *PublicMessage, membershipKey, ctx []byte) (*AuthenticatedContent, error) {
	ac := &AuthenticatedContent{WireFormat: WirePublicMessage, Content: pm.Content, Auth: pm.Auth}
	if ac.Content.ContentType == ContentApplication {
		return nil, fmt.Errorf("%w: application data in a PublicMessage", ErrWireFormat)
	}
	if ac.Content.Sender.Type == SenderMember {
		if !hmac.Equal(s.membershipTag(membershipKey, ac, ctx), pm.MembershipTag) {
			return nil, ErrMembershipTag
		}
	}
	return ac, nil
}

func senderDataAAD(groupID []byte, epoch uint64, ct uint8) []byte {
	var w writer
	w.opaque(groupID)
	w.u64(epoch)
	w.u8(ct)
	return w.b
}

func privateContentAAD(groupID []byte, epoch uint64, ct uint8, ad []byte) []byte {
	w := writer{b: senderDataAAD(groupID, epoch, ct)}
	w.opaque(ad)
	return w.b
}

// applyReuseGuard XORs the guard into the first four nonce bytes.
func applyReuseGuard(nonce, guard []byte) []byte {
	n := append([]byte{}, nonce...)
	for i := 0; i < 4; i++ {
		n[i] ^= guard[i]
	}
	return n
}

// encryptPrivate encrypts signed member content as a PrivateMessage.
func (s *suite) encryptPrivate(ac *AuthenticatedContent, st *secretTree, senderDataSecret []byte) (*PrivateMessage, error) {
	c := &ac.Content
	if c.Sender.Type != SenderMember {
		return nil, fmt.Errorf("%w: only members send PrivateMessages", ErrWireFormat)
	}
	gen, kn, err := st.next(c.Sender.Index, c.ContentType != ContentApplication)
	if err != nil {
		return nil, err
	}
	var w writer
	c.encodeBody(&w)
	ac.Auth.encode(&w, c.ContentType)
	pad := (paddingBlock - len(w.b)%paddingBlock) % paddingBlock
	w.raw(make([]byte, pad))
	guard := randomBytes(4)
	aad := privateContentAAD(c.GroupID, c.Epoch, c.ContentType, c.AuthenticatedData)
	ct, err := s.seal(kn.Key, applyReuseGuard(kn.Nonce, guard), aad, w.b)
	if err != nil {
		return nil, err
	}
	var sd writer
	sd.u32(c.Sender.Index)
	sd.u32(gen)
	sd.raw(guard)
	key, nonce := s.senderDataKeyNonce(senderDataSecret, ct)
	esd, err := s.seal(key, nonce, senderDataAAD(c.GroupID, c.Epoch, c.ContentType), sd.b)
	if err != nil {
		return nil, err
	}
	return &PrivateMessage{GroupID: c.GroupID, Epoch: c.Epoch, ContentType: c.ContentType,
		AuthenticatedData: c.AuthenticatedData, EncryptedSenderData: esd, Ciphertext: ct}, nil
}

// decryptPrivate opens a PrivateMessage; the caller checks the leaf and verifies the signature.
func (s *suite) decryptPrivate(pm *PrivateMessage, st *secretTree, senderDataSecret []byte) (*AuthenticatedContent, error) {
	key, nonce := s.senderDataKeyNonce(senderDataSecret, pm.Ciphertext)
	sd, err := s.open(key, nonce, senderDataAAD(pm.GroupID, pm.Epoch, pm.ContentType), pm.EncryptedSenderData)
	if err != nil {
		return nil, ErrSenderData
	}
	r := newReader(sd)
	leaf, gen, guard := r.u32("sender_data.leaf_index"), r.u32("sender_data.generation"), r.take(4, "sender_data.reuse_guard")
	if err := r.done("sender_data"); err != nil {
		return nil, err
	}
	kn, err := st.get(leaf, pm.ContentType != ContentApplication, gen)
	if err != nil {
		return nil, err
	}
	aad := privateContentAAD(pm.GroupID, pm.Epoch, pm.ContentType, pm.AuthenticatedData)
	pt, err := s.open(kn.Key, applyReuseGuard(kn.Nonce, guard), aad, pm.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: PrivateMessage content (leaf %d generation %d)", ErrDecrypt, leaf, gen)
	}
	ac := &AuthenticatedContent{WireFormat: WirePrivateMessage, Content: FramedContent{
		GroupID: pm.GroupID, Epoch: pm.Epoch, Sender: Sender{Type: SenderMember, Index: leaf},
		AuthenticatedData: pm.AuthenticatedData, ContentType: pm.ContentType}}
	cr := newReader(pt)
	ac.Content.decodeBody(cr)
	ac.Auth.decode(cr, pm.ContentType)
	if cr.err != nil {
		return nil, cr.err
	}
	for _, b := range cr.b {
		if b != 0 {
			return nil, ErrPadding
		}
	}
	return ac, nil
}
