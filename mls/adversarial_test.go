package mls

import (
	"bytes"
	"errors"
	"testing"
)

// twoMembers returns alice (leaf 0) and bob (leaf 1) in one group, plus carol's
// key package for add tests.
func twoMembers(t *testing.T, public bool) (*Group, *Group) {
	t.Helper()
	cs := X25519_AES128GCM_SHA256_Ed25519
	alice, _ := NewIdentity(cs, []byte("alice"))
	ga, err := NewGroup(alice, []byte("adversarial"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ga.PublicHandshake = public
	bob := newMember(t, cs, "bob")
	res, err := ga.Commit(CommitOptions{Add: [][]byte{bob.KeyPackage}})
	if err != nil {
		t.Fatal(err)
	}
	ga.MergePendingCommit()
	gb, err := JoinFromWelcome(res.Welcome, bob, JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gb.PublicHandshake = public
	return ga, gb
}

// forgeCommit signs and MACs a commit from g carrying exactly list, skipping
// the sender-side validation, so receivers' checks can be exercised.
func forgeCommit(t *testing.T, g *Group, list []ProposalOrRef, withPath bool) []byte {
	t.Helper()
	commit := &Commit{Proposals: list}
	if withPath {
		tree := g.tree.clone()
		res, err := tree.createUpdatePath(g.s, g.me, g.id.SignaturePriv, g.ctx.GroupID, nil, func([]byte) []byte { return nil })
		if err != nil {
			t.Fatal(err)
		}
		commit.Path = res.path
	}
	ac := g.frame(ContentCommit, nil)
	ac.Content.Commit = commit
	ac.WireFormat = WirePublicMessage
	ac.Auth.ConfirmationTag = make([]byte, g.s.hashSize())
	if err := g.s.signFramed(ac, g.id.SignaturePriv, g.contextBytes()); err != nil {
		t.Fatal(err)
	}
	msg, err := g.protect(ac, true)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestRejectTamperedMessages(t *testing.T) {
	ga, gb := twoMembers(t, true)
	prop, err := ga.ProposeUpdate()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := ParseMessage(prop)

	// Flipped signature, membership tag recomputed: the signature check must catch it.
	bad := *m.Public
	bad.Auth.Signature = append([]byte{}, bad.Auth.Signature...)
	bad.Auth.Signature[0] ^= 1
	ac := &AuthenticatedContent{WireFormat: WirePublicMessage, Content: bad.Content, Auth: bad.Auth}
	bad.MembershipTag = ga.s.membershipTag(ga.ep.MembershipKey, ac, ga.contextBytes())
	if _, err := gb.Process((&Message{WireFormat: WirePublicMessage, Public: &bad}).Bytes()); !errors.Is(err, ErrSignature) {
		t.Errorf("tampered signature: %v, want ErrSignature", err)
	}
	// Flipped membership tag.
	bad = *m.Public
	bad.MembershipTag = append([]byte{}, bad.MembershipTag...)
	bad.MembershipTag[3] ^= 0x80
	if _, err := gb.Process((&Message{WireFormat: WirePublicMessage, Public: &bad}).Bytes()); !errors.Is(err, ErrMembershipTag) {
		t.Errorf("tampered membership tag: %v, want ErrMembershipTag", err)
	}
	// Changed content under the same signature.
	bad = *m.Public
	bad.Content.AuthenticatedData = []byte("x")
	if _, err := gb.Process((&Message{WireFormat: WirePublicMessage, Public: &bad}).Bytes()); !errors.Is(err, ErrMembershipTag) {
		t.Errorf("tampered content: %v, want ErrMembershipTag", err)
	}
	// Wrong group.
	bad = *m.Public
	bad.Content.GroupID = []byte("other")
	if _, err := gb.Process((&Message{WireFormat: WirePublicMessage, Public: &bad}).Bytes()); !errors.Is(err, ErrWrongGroup) {
		t.Errorf("wrong group: %v, want ErrWrongGroup", err)
	}
	// The untouched proposal still verifies.
	if _, err := gb.Process(prop); err != nil {
		t.Fatal(err)
	}
}

func TestRejectPrivateMessageAttacks(t *testing.T) {
	ga, gb := twoMembers(t, false)
	m1, _ := ga.Encrypt([]byte("one"), nil)
	m2, _ := ga.Encrypt([]byte("two"), nil)
	m3, _ := ga.Encrypt([]byte("three"), nil)
	// Out of order inside the window works.
	for _, m := range [][]byte{m3, m1, m2} {
		if _, err := gb.Process(m); err != nil {
			t.Fatalf("out-of-order delivery: %v", err)
		}
	}
	// Replays are refused.
	if _, err := gb.Process(m2); !errors.Is(err, ErrGenerationReused) {
		t.Errorf("replay: %v, want ErrGenerationReused", err)
	}
	// Tampered ciphertext and sender data.
	m4, _ := ga.Encrypt([]byte("four"), nil)
	pm, _ := ParseMessage(m4)
	c := *pm.Private
	c.Ciphertext = append([]byte{}, c.Ciphertext...)
	c.Ciphertext[len(c.Ciphertext)-1] ^= 1
	if _, err := gb.Process((&Message{WireFormat: WirePrivateMessage, Private: &c}).Bytes()); !errors.Is(err, ErrSenderData) && !errors.Is(err, ErrDecrypt) {
		t.Errorf("tampered ciphertext: %v", err)
	}
	c = *pm.Private
	c.EncryptedSenderData = append([]byte{}, c.EncryptedSenderData...)
	c.EncryptedSenderData[0] ^= 1
	if _, err := gb.Process((&Message{WireFormat: WirePrivateMessage, Private: &c}).Bytes()); !errors.Is(err, ErrSenderData) {
		t.Errorf("tampered sender data: %v, want ErrSenderData", err)
	}
	// A generation far beyond the window is refused.
	for i := 0; i < maxForwardGenerations+5; i++ {
		ga.st.next(ga.me, false)
	}
	far, _ := ga.Encrypt([]byte("far"), nil)
	if _, err := gb.Process(far); !errors.Is(err, ErrGenerationTooFar) {
		t.Errorf("far generation: %v, want ErrGenerationTooFar", err)
	}
	// A message from an old epoch, when no past epoch is kept.
	res, _ := ga.Commit(CommitOptions{ForcePath: true})
	ga.MergePendingCommit()
	gb.PastEpochs = 0
	if _, err := gb.Process(res.Commit); err != nil {
		t.Fatal(err)
	}
	if _, err := gb.Process(m4); !errors.Is(err, ErrWrongEpoch) || !errors.Is(err, ErrEpochExpired) {
		t.Errorf("old epoch: %v, want ErrWrongEpoch and ErrEpochExpired", err)
	}
}

func TestRejectMalformed(t *testing.T) {
	ga, _ := twoMembers(t, false)
	msg, _ := ga.Encrypt([]byte("hello"), nil)
	cases := []struct {
		name  string
		input []byte
		want  error
	}{
		{"empty", nil, ErrTruncated},
		{"truncated", msg[:len(msg)-3], ErrTruncated},
		{"trailing", append(append([]byte{}, msg...), 0), ErrTrailingBytes},
		{"version", append([]byte{0, 2}, msg[2:]...), ErrBadValue},
		{"wire format", append([]byte{0, 1, 0, 9}, msg[4:]...), ErrBadValue},
		{"varint prefix 11", []byte{0, 1, 0, 2, 0xc0, 0, 0, 0}, ErrVarintPrefix},
		{"varint not minimal", []byte{0, 1, 0, 2, 0x40, 0x01, 0xaa}, ErrVarintMinimal},
	}
	for _, tc := range cases {
		_, err := ParseMessage(tc.input)
		var de *DecodeError
		if !errors.Is(err, tc.want) || !errors.As(err, &de) || de.Field == "" {
			t.Errorf("%s: %v, want %v inside a DecodeError", tc.name, err, tc.want)
		}
	}
	if _, err := parseRatchetTree([]byte{0x02, 0x00, 0x00}); err == nil {
		t.Error("all-blank tree accepted")
	}
	if _, err := ParseKeyPackage(msg, X25519_AES128GCM_SHA256_Ed25519); !errors.Is(err, ErrInvalidKeyPackage) {
		t.Errorf("private message as key package: %v", err)
	}
}

func TestRejectInvalidTrees(t *testing.T) {
	ga, gb := twoMembers(t, true)
	res, _ := gb.Commit(CommitOptions{ForcePath: true})
	gb.MergePendingCommit()
	ga.Process(res.Commit)
	s := ga.s
	tree := ga.tree.clone()
	if err := tree.validate(s, ga.ctx.GroupID, nil); err != nil {
		t.Fatalf("valid tree rejected: %v", err)
	}
	// Broken parent hash on the root.
	r := root(tree.leaves())
	p := *tree.node(r).Parent
	p.ParentHash = []byte("bogus")
	bad := tree.clone()
	bad.setNode(r, &Node{Parent: &p})
	var te *TreeError
	if err := bad.validate(s, ga.ctx.GroupID, nil); !errors.As(err, &te) || !errors.Is(err, ErrInvalidTree) {
		t.Errorf("broken parent hash: %v, want TreeError", err)
	}
	// Leaf signed for another group.
	if err := tree.validate(s, []byte("other group"), nil); !errors.Is(err, ErrInvalidTree) {
		t.Errorf("wrong group id: %v", err)
	}
	// Duplicate encryption key between two leaves.
	l := *tree.leaf(1)
	l.EncryptionKey = tree.leaf(0).EncryptionKey
	bad = tree.clone()
	bad.setNode(2, &Node{Leaf: &l})
	if err := bad.validate(s, ga.ctx.GroupID, nil); !errors.Is(err, ErrInvalidTree) {
		t.Errorf("duplicate key: %v", err)
	}
	// An out-of-band tree that does not match the Welcome's tree hash.
	ga.RatchetTreeInWelcome = false
	carol := newMember(t, ga.CipherSuite(), "carol")
	res, err := ga.Commit(CommitOptions{Add: [][]byte{carol.KeyPackage}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := JoinFromWelcome(res.Welcome, carol, JoinOptions{RatchetTree: tree.bytes()}); !errors.Is(err, ErrInvalidTree) {
		t.Errorf("mismatched tree: %v, want ErrInvalidTree", err)
	}
	if _, err := JoinFromWelcome(res.Welcome, carol, JoinOptions{}); !errors.Is(err, ErrWelcome) {
		t.Errorf("missing tree: %v, want ErrWelcome", err)
	}
	ga.MergePendingCommit()
	if _, err := JoinFromWelcome(res.Welcome, carol, JoinOptions{RatchetTree: ga.RatchetTree()}); err != nil {
		t.Errorf("out-of-band tree: %v", err)
	}
}

func TestRejectInvalidProposalLists(t *testing.T) {
	ga, gb := twoMembers(t, true)
	cs := ga.CipherSuite()
	kpMsg := newMember(t, cs, "carol").KeyPackage
	kpm, _ := ParseMessage(kpMsg)
	kp := kpm.KeyPackage
	other := newMember(t, P256_AES128GCM_SHA256_P256, "dave").KeyPackage
	otherKP, _ := ParseMessage(other)
	inline := func(p *Proposal) ProposalOrRef { return ProposalOrRef{Proposal: p} }
	remove := func(l uint32) ProposalOrRef { return inline(&Proposal{Type: ProposalRemove, Removed: l}) }
	add := func(k *KeyPackage) ProposalOrRef { return inline(&Proposal{Type: ProposalAdd, KeyPackage: k}) }
	gce := inline(&Proposal{Type: ProposalGroupContextExtensions})
	cases := []struct {
		name string
		list []ProposalOrRef
		path bool
	}{
		{"unknown reference", []ProposalOrRef{{Reference: bytes.Repeat([]byte{7}, 32)}}, true},
		{"remove twice", []ProposalOrRef{remove(0), remove(0)}, true},
		{"remove blank leaf", []ProposalOrRef{remove(5)}, true},
		{"committer removes itself", []ProposalOrRef{remove(1)}, true},
		{"remove without path", []ProposalOrRef{remove(0)}, false},
		{"empty without path", nil, false},
		{"duplicate add", []ProposalOrRef{add(kp), add(kp)}, false},
		{"add of another suite", []ProposalOrRef{add(otherKP.KeyPackage)}, false},
		{"two group context extensions", []ProposalOrRef{gce, gce}, true},
		{"external init from a member", []ProposalOrRef{inline(&Proposal{Type: ProposalExternalInit, KEMOutput: []byte{1}})}, true},
		{"reinit with others", []ProposalOrRef{inline(&Proposal{Type: ProposalReInit, ReInit: &ReInit{Version: mls10, CipherSuite: cs}}), add(kp)}, false},
		{"short psk nonce", []ProposalOrRef{inline(&Proposal{Type: ProposalPSK, PSK: &PreSharedKeyID{Type: pskExternal, ID: []byte("x"), Nonce: []byte{1}}})}, false},
	}
	for _, tc := range cases {
		msg := forgeCommit(t, gb, tc.list, tc.path)
		epoch := ga.Epoch()
		_, err := ga.Process(msg)
		if !errors.Is(err, ErrInvalidProposal) {
			t.Errorf("%s: %v, want ErrInvalidProposal", tc.name, err)
		}
		if ga.Epoch() != epoch {
			t.Fatalf("%s: epoch advanced on a rejected commit", tc.name)
		}
	}
	reinit := inline(&Proposal{Type: ProposalReInit, ReInit: &ReInit{Version: mls10, CipherSuite: cs}})
	if _, err := ga.Process(forgeCommit(t, gb, []ProposalOrRef{reinit}, false)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("reinit commit: %v, want ErrUnsupported", err)
	}
	// A commit with a wrong confirmation tag is refused too, after all list checks pass.
	if _, err := ga.Process(forgeCommit(t, gb, []ProposalOrRef{add(kp)}, false)); !errors.Is(err, ErrConfirmationTag) {
		t.Errorf("bad confirmation tag: %v, want ErrConfirmationTag", err)
	}
	// The group still works afterwards.
	res, err := gb.Commit(CommitOptions{Add: [][]byte{kpMsg}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ga.Process(res.Commit); err != nil {
		t.Fatal(err)
	}
}

func TestUnsupportedSuite(t *testing.T) {
	if _, err := NewIdentity(CipherSuite(3), []byte("x")); !errors.Is(err, ErrUnsupportedCipherSuite) {
		t.Errorf("suite 3: %v", err)
	}
	if CipherSuite(4).Supported() || !X25519_AES128GCM_SHA256_Ed25519.Supported() {
		t.Error("Supported() wrong")
	}
}
