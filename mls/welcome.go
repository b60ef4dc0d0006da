package mls

import (
	"errors"
	"fmt"
)

// Welcome creation and joining (RFC 9420 §12.4.3.1), and GroupInfo.

// ErrWelcome is wrapped by failures to join from a Welcome.
var ErrWelcome = errors.New("mls: cannot join from Welcome")

// signedGroupInfo builds this epoch's GroupInfo, signed by this member.
func (g *Group) signedGroupInfo(withTree bool) (*GroupInfo, error) {
	_, extPub, err := g.s.deriveKeyPair(g.ep.ExternalSecret)
	if err != nil {
		return nil, err
	}
	var w writer
	w.opaque(extPub)
	gi := &GroupInfo{GroupContext: g.ctx, Extensions: []Extension{{Type: extExternalPub, Data: w.b}},
		ConfirmationTag: g.s.confirmationTag(g.ep.ConfirmationKey, g.ctx.ConfirmedTranscriptHash), Signer: g.me}
	if withTree {
		gi.Extensions = append(gi.Extensions, Extension{Type: extRatchetTree, Data: g.tree.bytes()})
	}
	gi.Signature, err = g.s.signWithLabel(g.id.SignaturePriv, "GroupInfoTBS", gi.tbs())
	return gi, err
}

// GroupInfo returns a signed MLSMessage(GroupInfo) for external joiners.
func (g *Group) GroupInfo(withTree bool) ([]byte, error) {
	gi, err := g.signedGroupInfo(withTree)
	if err != nil {
		return nil, err
	}
	return (&Message{WireFormat: WireGroupInfo, GroupInfo: gi}).Bytes(), nil
}

// welcome encrypts gi and the group secrets to each joiner of a.
func (g *Group) welcome(gi *GroupInfo, a *applied, pathSecrets map[uint32][]byte, psks []PreSharedKeyID, pskSecret []byte) ([]byte, error) {
	s := g.s
	var giw writer
	gi.encode(&giw)
	key, nonce := s.welcomeKeyNonce(s.welcomeSecret(g.ep.JoinerSecret, pskSecret))
	egi, err := s.seal(key, nonce, nil, giw.b)
	if err != nil {
		return nil, err
	}
	wl := &Welcome{CipherSuite: g.ctx.CipherSuite, EncryptedGroupInfo: egi}
	var committerFDP []uint32
	if pathSecrets != nil {
		committerFDP = a.tree.filteredDirectPath(leafNode(gi.Signer))
	}
	for i, leaf := range a.joiners {
		gs := GroupSecrets{JoinerSecret: g.ep.JoinerSecret, PSKs: psks}
		for _, x := range committerFDP {
			if isInSubtree(leafNode(leaf), x) {
				gs.PathSecret = pathSecrets[x]
				break
			}
		}
		var w writer
		gs.encode(&w)
		kp := a.joinerKPs[i]
		kem, ct, err := s.encryptWithLabel(kp.InitKey, "Welcome", egi, w.b)
		if err != nil {
			return nil, err
		}
		wl.Secrets = append(wl.Secrets, EncryptedGroupSecrets{NewMember: kp.ref(s),
			Secrets: HPKECiphertext{KEMOutput: kem, Ciphertext: ct}})
	}
	return (&Message{WireFormat: WireWelcome, Welcome: wl}).Bytes(), nil
}

// JoinOptions supplies what a Welcome may need besides the key package.
type JoinOptions struct {
	RatchetTree     []byte            // ratchet_tree body when the Welcome lacks the extension
	ExternalPSKs    map[string][]byte // external PSKs by id
	IgnoreLifetimes bool
}

// JoinFromWelcome joins a group with the key package bundle the Welcome was made for.
func JoinFromWelcome(welcome []byte, kpb *KeyPackageBundle, opts JoinOptions) (*Group, error) {
	m, err := ParseMessage(welcome)
	if err != nil {
		return nil, err
	}
	if m.Welcome == nil {
		return nil, fmt.Errorf("%w: wire format %d", ErrWelcome, m.WireFormat)
	}
	km, err := ParseMessage(kpb.KeyPackage)
	if err != nil || km.KeyPackage == nil {
		return nil, fmt.Errorf("%w: own key package: %v", ErrWelcome, err)
	}
	kp := km.KeyPackage
	wl := m.Welcome
	if wl.CipherSuite != kp.CipherSuite {
		return nil, fmt.Errorf("%w: cipher suite %s, key package has %s", ErrWelcome, wl.CipherSuite, kp.CipherSuite)
	}
	s, err := lookupSuite(wl.CipherSuite)
	if err != nil {
		return nil, err
	}
	ref := kp.ref(s)
	var egs *EncryptedGroupSecrets
	for i := range wl.Secrets {
		if string(wl.Secrets[i].NewMember) == string(ref) {
			egs = &wl.Secrets[i]
		}
	}
	if egs == nil {
		return nil, fmt.Errorf("%w: no secrets for this key package", ErrWelcome)
	}
	pt, err := s.decryptWithLabel(kpb.InitPriv, "Welcome", wl.EncryptedGroupInfo, egs.Secrets.KEMOutput, egs.Secrets.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: group secrets: %v", ErrWelcome, err)
	}
	var gs GroupSecrets
	if err := decodeAll(pt, "group_secrets", gs.decode); err != nil {
		return nil, err
	}
	g := &Group{s: s, id: kpb.Identity, psks: map[string][]byte{}, RatchetTreeInWelcome: true, IgnoreLifetimes: opts.IgnoreLifetimes,
		PastEpochs: DefaultPastEpochs}
	for id, k := range opts.ExternalPSKs {
		g.psks[id] = k
	}
	var pskSecret []byte
	if len(gs.PSKs) > 0 {
		// Resumption PSKs from other groups are not supported when joining.
		if pskSecret, err = g.pskSecretFor(gs.PSKs); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrWelcome, err)
		}
	}
	key, nonce := s.welcomeKeyNonce(s.welcomeSecret(gs.JoinerSecret, pskSecret))
	gib, err := s.open(key, nonce, nil, wl.EncryptedGroupInfo)
	if err != nil {
		return nil, fmt.Errorf("%w: group info: %v", ErrWelcome, err)
	}
	var gi GroupInfo
	if err := decodeAll(gib, "group_info", gi.decode); err != nil {
		return nil, err
	}
	if gi.GroupContext.CipherSuite != wl.CipherSuite || gi.GroupContext.Version != mls10 {
		return nil, fmt.Errorf("%w: group info suite or version mismatch", ErrWelcome)
	}
	tree, err := treeFromGroupInfo(s, &gi, opts.RatchetTree)
	if err != nil {
		return nil, err
	}
	// Find our leaf by its exact leaf node.
	mine := kp.LeafNode.bytes()
	found := false
	for i := uint32(0); i < tree.leaves(); i++ {
		if l := tree.leaf(i); l != nil && string(l.bytes()) == string(mine) {
			g.me, found = i, true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: own leaf not in the tree", ErrWelcome)
	}
	g.tree = tree
	g.ctx = gi.GroupContext
	g.keys = privateKeys{leafNode(g.me): kpb.EncryptionPriv}
	if gs.PathSecret != nil {
		fdp := tree.filteredDirectPath(leafNode(gi.Signer))
		i := 0
		for ; i < len(fdp) && !isInSubtree(leafNode(g.me), fdp[i]); i++ {
		}
		if i == len(fdp) {
			return nil, fmt.Errorf("%w: path secret but no common ancestor with the signer", ErrWelcome)
		}
		d, err := tree.derivePathFrom(s, gi.Signer, fdp, i, gs.PathSecret, g.keys)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrWelcome, err)
		}
		g.keys = d.keys
	}
	ctx := g.ctx.bytes()
	g.ep = s.epochFromJoiner(gs.JoinerSecret, pskSecret, ctx)
	if err := s.verifyConfirmationTag(g.ep.ConfirmationKey, g.ctx.ConfirmedTranscriptHash, gi.ConfirmationTag); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWelcome, err)
	}
	g.interim = s.interimTranscriptHash(g.ctx.ConfirmedTranscriptHash, gi.ConfirmationTag)
	g.st = newSecretTree(s, g.ep.EncryptionSecret, tree.leaves())
	g.rememberResumption()
	return g, nil
}

// treeFromGroupInfo takes the tree from the extension or out of band, then
// verifies the GroupInfo signature, the tree hash and the whole tree.
func treeFromGroupInfo(s *suite, gi *GroupInfo, outOfBand []byte) (*ratchetTree, error) {
	data, ok := findExtension(gi.Extensions, extRatchetTree)
	if !ok {
		if outOfBand == nil {
			return nil, fmt.Errorf("%w: no ratchet tree in the GroupInfo and none supplied", ErrWelcome)
		}
		data = outOfBand
	}
	tree, err := parseRatchetTree(data)
	if err != nil {
		return nil, err
	}
	signer := tree.leaf(gi.Signer)
	if signer == nil {
		return nil, fmt.Errorf("%w: GroupInfo signer %d is not a member", ErrWelcome, gi.Signer)
	}
	if err := s.verifyWithLabel(signer.SignatureKey, "GroupInfoTBS", gi.tbs(), gi.Signature); err != nil {
		return nil, fmt.Errorf("%w: GroupInfo: %v", ErrWelcome, err)
	}
	if string(tree.rootHash(s)) != string(gi.GroupContext.TreeHash) {
		return nil, fmt.Errorf("%w: tree hash does not match the group context", ErrInvalidTree)
	}
	if err := tree.validate(s, gi.GroupContext.GroupID, gi.GroupContext.Extensions); err != nil {
		return nil, err
	}
	return tree, nil
}
