package mls

// Key schedule of RFC 9420 §8: one epochSecrets per epoch.

// epochSecrets holds the secrets derived from one epoch_secret.
type epochSecrets struct {
	JoinerSecret       []byte
	WelcomeSecret      []byte
	EpochSecret        []byte
	SenderDataSecret   []byte
	EncryptionSecret   []byte
	ExporterSecret     []byte
	ExternalSecret     []byte
	ConfirmationKey    []byte
	MembershipKey      []byte
	ResumptionPSK      []byte
	EpochAuthenticator []byte
	InitSecret         []byte
}

// joinerSecret derives joiner_secret from the previous init secret and the commit secret.
func (s *suite) joinerSecret(initSecret, commitSecret, groupContext []byte) []byte {
	if commitSecret == nil {
		commitSecret = make([]byte, s.hashSize())
	}
	return s.expandWithLabel(s.extract(initSecret, commitSecret), "joiner", groupContext, s.hashSize())
}

// welcomeSecret derives welcome_secret; a nil pskSecret means no PSKs.
func (s *suite) welcomeSecret(joiner, pskSecret []byte) []byte {
	return s.deriveSecret(s.memberSecret(joiner, pskSecret), "welcome")
}

func (s *suite) memberSecret(joiner, pskSecret []byte) []byte {
	if pskSecret == nil {
		pskSecret = make([]byte, s.hashSize())
	}
	return s.extract(joiner, pskSecret)
}

// epochFromJoiner runs the schedule below joiner_secret.
func (s *suite) epochFromJoiner(joiner, pskSecret, groupContext []byte) *epochSecrets {
	member := s.memberSecret(joiner, pskSecret)
	epoch := s.expandWithLabel(member, "epoch", groupContext, s.hashSize())
	return &epochSecrets{
		JoinerSecret:       joiner,
		WelcomeSecret:      s.deriveSecret(member, "welcome"),
		EpochSecret:        epoch,
		SenderDataSecret:   s.deriveSecret(epoch, "sender data"),
		EncryptionSecret:   s.deriveSecret(epoch, "encryption"),
		ExporterSecret:     s.deriveSecret(epoch, "exporter"),
		ExternalSecret:     s.deriveSecret(epoch, "external"),
		ConfirmationKey:    s.deriveSecret(epoch, "confirm"),
		MembershipKey:      s.deriveSecret(epoch, "membership"),
		ResumptionPSK:      s.deriveSecret(epoch, "resumption"),
		EpochAuthenticator: s.deriveSecret(epoch, "authentication"),
		InitSecret:         s.deriveSecret(epoch, "init"),
	}
}

// exporter is MLS-Exporter(Label, Context, Length).
func (s *suite) exporter(exporterSecret []byte, label string, context []byte, n int) []byte {
	return s.expandWithLabel(s.deriveSecret(exporterSecret, label), "exported", s.hash(context), n)
}

// welcomeKeyNonce derives the key and nonce that protect a Welcome's GroupInfo.
func (s *suite) welcomeKeyNonce(welcomeSecret []byte) (key, nonce []byte) {
	return s.expandWithLabel(welcomeSecret, "key", nil, s.keySize),
		s.expandWithLabel(welcomeSecret, "nonce", nil, s.nonceSize())
}

// PSK types and resumption usages (RFC 9420 §8.4).
const (
	pskExternal   uint8 = 1
	pskResumption uint8 = 2

	resumptionApplication uint8 = 1
	resumptionReinit      uint8 = 2
	resumptionBranch      uint8 = 3
)

// PreSharedKeyID names one PSK and carries its nonce.
type PreSharedKeyID struct {
	Type       uint8
	ID         []byte // external
	Usage      uint8  // resumption
	PSKGroupID []byte
	PSKEpoch   uint64
	Nonce      []byte
}

func (p *PreSharedKeyID) encode(w *writer) {
	w.u8(p.Type)
	switch p.Type {
	case pskExternal:
		w.opaque(p.ID)
	case pskResumption:
		w.u8(p.Usage)
		w.opaque(p.PSKGroupID)
		w.u64(p.PSKEpoch)
	}
	w.opaque(p.Nonce)
}

func (p *PreSharedKeyID) decode(r *reader) {
	p.Type = r.u8("psk_id.psktype")
	switch p.Type {
	case pskExternal:
		p.ID = clone(r.opaque("psk_id.psk_id"))
	case pskResumption:
		p.Usage = r.u8("psk_id.usage")
		if p.Usage < resumptionApplication || p.Usage > resumptionBranch {
			r.fail("psk_id.usage", ErrBadValue)
		}
		p.PSKGroupID = clone(r.opaque("psk_id.psk_group_id"))
		p.PSKEpoch = r.u64("psk_id.psk_epoch")
	default:
		r.fail("psk_id.psktype", ErrBadValue)
	}
	p.Nonce = clone(r.opaque("psk_id.psk_nonce"))
}

// pskSecret combines PSKs into psk_secret (RFC 9420 §8.4); nil with no PSKs.
func (s *suite) pskSecret(ids []PreSharedKeyID, psks [][]byte) []byte {
	secret := make([]byte, s.hashSize())
	for i := range ids {
		var w writer
		ids[i].encode(&w)
		w.u16(uint16(i))
		w.u16(uint16(len(ids)))
		extracted := s.extract(nil, psks[i])
		input := s.expandWithLabel(extracted, "derived psk", w.b, s.hashSize())
		secret = s.extract(input, secret)
	}
	return secret
}
