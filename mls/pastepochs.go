package mls

import "fmt"

// Past-epoch secrets: a hub orders messages, so an application message sent
// in epoch e can arrive after the commit that starts e+1 (sent concurrently).
// A member keeps, for the last PastEpochs epochs, what decrypting and
// verifying such a message needs: the sender-data secret, the application
// ratchets (secret tree), the GroupContext its signatures cover and the tree
// holding the senders' signature keys. Older epochs are dropped (forward
// secrecy); handshake ratchets of past epochs are dropped too, and each
// message key is deleted once used, as in the current epoch.

// pastEpoch is what is kept of one past epoch.
type pastEpoch struct {
	epoch            uint64
	ctx              []byte // serialized GroupContext of that epoch
	senderDataSecret []byte
	st               *secretTree
	// The senders' signature keys: those of tree's leaves, except where
	// override has an entry (empty: blank). A live epoch keeps its own tree
	// (shared copy-on-write, so nearly free); a loaded one is the current
	// tree plus the leaves that differed, so Save stays O(changes) per epoch.
	tree     *ratchetTree
	override map[uint32][]byte
	leaves   uint32
}

// signatureKey is leaf i's signature key in that epoch, nil when blank.
func (p *pastEpoch) signatureKey(i uint32) []byte {
	if i >= p.leaves {
		return nil
	}
	if k, ok := p.override[i]; ok {
		if len(k) == 0 {
			return nil
		}
		return k
	}
	if l := p.tree.leaf(i); l != nil {
		return l.SignatureKey
	}
	return nil
}

// diffAgainst lists the leaves whose signature key differs from cur's (empty: blank then).
func (p *pastEpoch) diffAgainst(cur *ratchetTree) map[uint32][]byte {
	out := map[uint32][]byte{}
	for i := uint32(0); i < max(p.leaves, cur.leaves()); i++ {
		var now []byte
		if l := cur.leaf(i); l != nil {
			now = l.SignatureKey
		}
		if then := p.signatureKey(i); string(then) != string(now) || (then == nil) != (now == nil) {
			out[i] = append([]byte{}, then...)
		}
	}
	return out
}

// rememberPast returns g's past epochs plus g's current one, trimmed to keep.
// The current secret tree is shared, not copied: until the new epoch is
// merged, both see the same ratchets.
func (g *Group) rememberPast(keep int) []*pastEpoch {
	if keep <= 0 {
		return nil
	}
	past := append([]*pastEpoch(nil), g.past...)
	if g.st != nil && g.ep != nil {
		past = append(past, &pastEpoch{epoch: g.ctx.Epoch, ctx: g.ctx.bytes(), tree: g.tree, leaves: g.tree.leaves(),
			senderDataSecret: g.ep.SenderDataSecret, st: g.st})
	}
	if len(past) > keep {
		past = past[len(past)-keep:]
	}
	return past
}

// dropPastHandshake erases the handshake ratchets of past epochs: only
// application messages are accepted from them.
func (g *Group) dropPastHandshake() {
	for _, p := range g.past {
		clear(p.st.handshake)
	}
}

// findPast returns the kept secrets of epoch, or nil.
func (g *Group) findPast(epoch uint64) *pastEpoch {
	for _, p := range g.past {
		if p.epoch == epoch {
			return p
		}
	}
	return nil
}

// processPast decrypts and verifies an application PrivateMessage of a past epoch.
func (g *Group) processPast(pm *PrivateMessage) (*Received, error) {
	p := g.findPast(pm.Epoch)
	if p == nil {
		return nil, fmt.Errorf("%w: %w: message epoch %d, group epoch %d keeps %d past epochs",
			ErrWrongEpoch, ErrEpochExpired, pm.Epoch, g.ctx.Epoch, len(g.past))
	}
	if pm.ContentType != ContentApplication {
		return nil, fmt.Errorf("%w: a proposal or commit of past epoch %d", ErrWrongEpoch, pm.Epoch)
	}
	ac, err := g.s.decryptPrivate(pm, p.st, p.senderDataSecret)
	clear(p.st.handshake)
	if err != nil {
		return nil, err
	}
	snd := ac.Content.Sender
	key := p.signatureKey(snd.Index)
	if key == nil {
		return nil, fmt.Errorf("%w: leaf %d in epoch %d", ErrUnknownSender, snd.Index, pm.Epoch)
	}
	if snd.Index == g.me {
		return nil, ErrOwnMessage
	}
	if err := g.s.verifyFramed(ac, key, p.ctx); err != nil {
		return nil, err
	}
	return &Received{ContentType: ContentApplication, Sender: snd, Epoch: pm.Epoch, Data: ac.Content.ApplicationData,
		AuthenticatedData: ac.Content.AuthenticatedData}, nil
}
