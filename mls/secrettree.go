package mls

import (
	"errors"
	"fmt"
)

// Secret tree and hash ratchets of RFC 9420 §9.

// Ratchet errors.
var (
	ErrGenerationReused = errors.New("mls: generation already consumed (replay)")
	ErrGenerationTooFar = errors.New("mls: generation beyond the out-of-order window")
	ErrUnknownLeaf      = errors.New("mls: leaf index outside the tree")
)

// maxForwardGenerations bounds how far ahead a sender's generation may jump,
// and maxKeptGenerations how many skipped keys are kept for late messages.
const (
	maxForwardGenerations = 1024
	maxKeptGenerations    = 64
)

// keyNonce is one generation's AEAD key and nonce.
type keyNonce struct {
	Key, Nonce []byte
}

// hashRatchet is one sender's handshake or application ratchet.
type hashRatchet struct {
	Secret  []byte              // secret for generation Next
	Next    uint32              // next generation not yet derived
	Skipped map[uint32]keyNonce // derived but unused, for out-of-order delivery
}

// secretTree derives per-sender ratchets lazily from encryption_secret.
type secretTree struct {
	s           *suite
	leaves      uint32
	nodes       map[uint32][]byte // unconsumed tree node secrets
	handshake   map[uint32]*hashRatchet
	application map[uint32]*hashRatchet
}

func newSecretTree(s *suite, encryptionSecret []byte, leaves uint32) *secretTree {
	return &secretTree{
		s:           s,
		leaves:      leaves,
		nodes:       map[uint32][]byte{root(leaves): encryptionSecret},
		handshake:   map[uint32]*hashRatchet{},
		application: map[uint32]*hashRatchet{},
	}
}

// leafSecret walks down from the nearest stored ancestor, erasing consumed secrets.
func (t *secretTree) leafSecret(leaf uint32) ([]byte, error) {
	if leaf >= t.leaves {
		return nil, fmt.Errorf("%w: %d of %d", ErrUnknownLeaf, leaf, t.leaves)
	}
	x := leafNode(leaf)
	path := append([]uint32{x}, directPath(x, t.leaves)...)
	top := -1
	for i, n := range path {
		if _, ok := t.nodes[n]; ok {
			top = i
			break
		}
	}
	if top < 0 {
		return nil, fmt.Errorf("mls: secret tree for leaf %d already consumed", leaf)
	}
	for i := top; i > 0; i-- {
		n := path[i]
		sec := t.nodes[n]
		delete(t.nodes, n)
		t.nodes[left(n)] = t.s.expandWithLabel(sec, "tree", []byte("left"), t.s.hashSize())
		t.nodes[right(n)] = t.s.expandWithLabel(sec, "tree", []byte("right"), t.s.hashSize())
	}
	sec := t.nodes[x]
	delete(t.nodes, x)
	return sec, nil
}

// ratchets derives leaf's two ratchets on first use. The application
// ratchet marks it: a past epoch's handshake ratchets are erased.
func (t *secretTree) ratchets(leaf uint32) error {
	if _, ok := t.application[leaf]; ok {
		return nil
	}
	sec, err := t.leafSecret(leaf)
	if err != nil {
		return err
	}
	hs := t.s.hashSize()
	t.handshake[leaf] = &hashRatchet{Secret: t.s.expandWithLabel(sec, "handshake", nil, hs)}
	t.application[leaf] = &hashRatchet{Secret: t.s.expandWithLabel(sec, "application", nil, hs)}
	return nil
}

func (t *secretTree) ratchet(leaf uint32, handshake bool) (*hashRatchet, error) {
	if err := t.ratchets(leaf); err != nil {
		return nil, err
	}
	if handshake {
		r, ok := t.handshake[leaf]
		if !ok {
			return nil, fmt.Errorf("%w: handshake ratchet of leaf %d erased", ErrEpochExpired, leaf)
		}
		return r, nil
	}
	return t.application[leaf], nil
}

// step derives generation r.Next's key and nonce and advances the ratchet.
func (r *hashRatchet) step(s *suite) keyNonce {
	kn := keyNonce{
		Key:   s.deriveTreeSecret(r.Secret, "key", r.Next, s.keySize),
		Nonce: s.deriveTreeSecret(r.Secret, "nonce", r.Next, s.nonceSize()),
	}
	r.Secret = s.deriveTreeSecret(r.Secret, "secret", r.Next, s.hashSize())
	r.Next++
	return kn
}

// next returns the key for sending at the next generation.
func (t *secretTree) next(leaf uint32, handshake bool) (uint32, keyNonce, error) {
	r, err := t.ratchet(leaf, handshake)
	if err != nil {
		return 0, keyNonce{}, err
	}
	gen := r.Next
	return gen, r.step(t.s), nil
}

// get returns the key for receiving generation gen, once only.
func (t *secretTree) get(leaf uint32, handshake bool, gen uint32) (keyNonce, error) {
	r, err := t.ratchet(leaf, handshake)
	if err != nil {
		return keyNonce{}, err
	}
	if gen < r.Next {
		kn, ok := r.Skipped[gen]
		if !ok {
			return keyNonce{}, fmt.Errorf("%w: leaf %d generation %d", ErrGenerationReused, leaf, gen)
		}
		delete(r.Skipped, gen)
		return kn, nil
	}
	if gen-r.Next > maxForwardGenerations {
		return keyNonce{}, fmt.Errorf("%w: leaf %d generation %d, next %d", ErrGenerationTooFar, leaf, gen, r.Next)
	}
	for r.Next < gen {
		g := r.Next
		kn := r.step(t.s)
		if r.Skipped == nil {
			r.Skipped = map[uint32]keyNonce{}
		}
		r.Skipped[g] = kn
		if len(r.Skipped) > maxKeptGenerations {
			delete(r.Skipped, oldestGeneration(r.Skipped))
		}
	}
	return r.step(t.s), nil
}

func oldestGeneration(m map[uint32]keyNonce) uint32 {
	first := true
	var min uint32
	for g := range m {
		if first || g < min {
			min, first = g, false
		}
	}
	return min
}

// senderDataKeyNonce derives the sender-data key and nonce from a ciphertext sample.
func (s *suite) senderDataKeyNonce(senderDataSecret, ciphertext []byte) (key, nonce []byte) {
	sample := ciphertext
	if len(sample) > s.hashSize() {
		sample = sample[:s.hashSize()]
	}
	return s.expandWithLabel(senderDataSecret, "key", sample, s.keySize),
		s.expandWithLabel(senderDataSecret, "nonce", sample, s.nonceSize())
}
