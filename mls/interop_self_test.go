package mls

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// simMember is one client in the self-interop simulation.
type simMember struct {
	name string
	g    *Group
}

// simGroup delivers every message to every member, like a hub fanning out.
type simGroup struct {
	t       *testing.T
	cs      CipherSuite
	rng     *rand.Rand
	members []*simMember
	removed []*simMember
	next    int
}

func (sg *simGroup) broadcast(from *simMember, msg []byte) {
	sg.t.Helper()
	for _, m := range sg.members {
		if m == from {
			continue
		}
		if _, err := m.g.Process(msg); err != nil {
			sg.t.Fatalf("%s processing message from %s at epoch %d: %v", m.name, from.name, m.g.Epoch(), err)
		}
	}
}

// commit has `by` commit opts, delivers it, and admits joiners.
func (sg *simGroup) commit(by *simMember, opts CommitOptions, joiners []*KeyPackageBundle) {
	sg.t.Helper()
	res, err := by.g.Commit(opts)
	if err != nil {
		sg.t.Fatalf("%s commit at epoch %d: %v", by.name, by.g.Epoch(), err)
	}
	if _, err := by.g.Process(res.Commit); err != nil { // the hub echoes the commit back
		sg.t.Fatal(err)
	}
	var stay []*simMember
	for _, m := range sg.members {
		if m != by {
			if _, err := m.g.Process(res.Commit); err != nil {
				sg.t.Fatalf("%s processing commit from %s at epoch %d: %v", m.name, by.name, m.g.Epoch(), err)
			}
		}
		if m.g.Active() {
			stay = append(stay, m)
		} else {
			sg.removed = append(sg.removed, m)
		}
	}
	sg.members = stay
	for _, kp := range joiners {
		g, err := JoinFromWelcome(res.Welcome, kp, JoinOptions{})
		if err != nil {
			sg.t.Fatalf("join: %v", err)
		}
		g.PublicHandshake = sg.rng.IntN(2) == 0
		sg.members = append(sg.members, &simMember{name: string(kp.Identity.Credential.Identity), g: g})
	}
	sg.checkAgreement()
}

func (sg *simGroup) checkAgreement() {
	sg.t.Helper()
	first := sg.members[0].g
	for _, m := range sg.members[1:] {
		if m.g.Epoch() != first.Epoch() || !bytes.Equal(m.g.EpochAuthenticator(), first.EpochAuthenticator()) {
			sg.t.Fatalf("%s disagrees with %s at epoch %d", m.name, sg.members[0].name, first.Epoch())
		}
	}
}

func (sg *simGroup) newKP() *KeyPackageBundle {
	sg.next++
	return newMember(sg.t, sg.cs, fmt.Sprintf("m%d", sg.next))
}

func (sg *simGroup) pick() *simMember { return sg.members[sg.rng.IntN(len(sg.members))] }

// message has one member send; all others decrypt; removed members cannot.
func (sg *simGroup) message() {
	sg.t.Helper()
	from := sg.pick()
	text := fmt.Sprintf("epoch %d from %s %d", from.g.Epoch(), from.name, sg.rng.Uint64())
	msg, err := from.g.Encrypt([]byte(text), nil)
	if err != nil {
		sg.t.Fatal(err)
	}
	for _, m := range sg.members {
		if m == from {
			continue
		}
		r, err := m.g.Process(msg)
		if err != nil || string(r.Data) != text || r.Sender.Index != from.g.LeafIndex() {
			sg.t.Fatalf("%s decrypting %s: %v", m.name, from.name, err)
		}
	}
	for _, m := range sg.removed {
		if _, err := m.g.Process(msg); !errors.Is(err, ErrInactive) {
			sg.t.Fatalf("removed %s processed a message: %v", m.name, err)
		}
	}
	if bytes.Contains(msg, []byte(text)) {
		sg.t.Fatal("plaintext visible in the PrivateMessage")
	}
}

func TestSelfInteropRandom(t *testing.T) {
	for _, tc := range []struct {
		cs     CipherSuite
		epochs int
	}{{X25519_AES128GCM_SHA256_Ed25519, 300}, {P256_AES128GCM_SHA256_P256, 100}} {
		epochs := tc.epochs
		if testing.Short() {
			epochs /= 5
		}
		t.Run(tc.cs.String(), func(t *testing.T) { selfInterop(t, tc.cs, epochs) })
	}
}

func selfInterop(t *testing.T, cs CipherSuite, epochs int) {
	sg := &simGroup{t: t, cs: cs, rng: rand.New(rand.NewPCG(9420, uint64(cs)))}
	id, _ := NewIdentity(cs, []byte("m0"))
	hub, _ := NewIdentity(cs, []byte("hub"))
	g, err := NewGroup(id, []byte("self-interop"), []Extension{ExternalSendersExtension([]ExternalSender{
		{SignatureKey: hub.SignaturePub, Credential: hub.Credential}})})
	if err != nil {
		t.Fatal(err)
	}
	sg.members = []*simMember{{name: "m0", g: g}}
	counts := map[string]int{}
	for e := 0; e < epochs; e++ {
		by := sg.pick()
		switch op := sg.rng.IntN(7); {
		case len(sg.members) < 3 || op == 0 && len(sg.members) < 12:
			kps := []*KeyPackageBundle{sg.newKP()}
			if sg.rng.IntN(3) == 0 {
				kps = append(kps, sg.newKP())
			}
			var adds [][]byte
			for _, kp := range kps {
				adds = append(adds, kp.KeyPackage)
			}
			counts["add"]++
			sg.commit(by, CommitOptions{Add: adds}, kps)
		case op == 1 && len(sg.members) > 3:
			victim := sg.pick()
			for victim == by {
				victim = sg.pick()
			}
			counts["remove"]++
			sg.commit(by, CommitOptions{Remove: []uint32{victim.g.LeafIndex()}}, nil)
		case op == 2:
			// A proposal by reference: someone proposes an update, another commits it.
			proposer := sg.pick()
			msg, err := proposer.g.ProposeUpdate()
			if err != nil {
				t.Fatal(err)
			}
			sg.broadcast(proposer, msg)
			for by == proposer && len(sg.members) > 1 {
				by = sg.pick()
			}
			counts["update-proposal"]++
			sg.commit(by, CommitOptions{}, nil)
		case op == 3 && len(sg.members) < 12:
			// An Add proposal by reference.
			proposer := sg.pick()
			kp := sg.newKP()
			msg, err := proposer.g.ProposeAdd(kp.KeyPackage)
			if err != nil {
				t.Fatal(err)
			}
			sg.broadcast(proposer, msg)
			counts["add-proposal"]++
			sg.commit(by, CommitOptions{}, []*KeyPackageBundle{kp})
		case op == 5 && len(sg.members) < 12 && sg.rng.IntN(2) == 0:
			// A new device joins by itself with an external commit.
			gi, err := by.g.GroupInfo(true)
			if err != nil {
				t.Fatal(err)
			}
			sg.next++
			nid, _ := NewIdentity(cs, []byte(fmt.Sprintf("m%d", sg.next)))
			ng, commit, err := JoinExternal(gi, nid, ExternalJoinOptions{})
			if err != nil {
				t.Fatal(err)
			}
			joiner := &simMember{name: fmt.Sprintf("m%d", sg.next), g: ng}
			sg.broadcast(joiner, commit)
			sg.members = append(sg.members, joiner)
			sg.checkAgreement()
			counts["external-join"]++
		case op == 6 && len(sg.members) > 3 && sg.rng.IntN(2) == 0:
			// The hub, an external sender, proposes a removal; a member commits it.
			victim := sg.pick()
			for victim == by {
				victim = sg.pick()
			}
			msg, err := ExternalProposal(cs, by.g.GroupID(), by.g.Epoch(), 0, hub.SignaturePriv, RemoveProposal(victim.g.LeafIndex()))
			if err != nil {
				t.Fatal(err)
			}
			sg.broadcast(nil, msg)
			counts["hub-remove"]++
			sg.commit(by, CommitOptions{}, nil)
		case op == 4:
			// Save and reload a member, then it commits a full path update.
			b, err := by.g.Save()
			if err != nil {
				t.Fatal(err)
			}
			if by.g, err = LoadGroup(b); err != nil {
				t.Fatal(err)
			}
			counts["reload+path"]++
			sg.commit(by, CommitOptions{ForcePath: true}, nil)
		default:
			counts["path"]++
			sg.commit(by, CommitOptions{ForcePath: true}, nil)
		}
		for i := sg.rng.IntN(3); i >= 0; i-- {
			sg.message()
		}
	}
	t.Logf("%d epochs, final group of %d members, %d removed members checked; operations %v",
		sg.members[0].g.Epoch(), len(sg.members), len(sg.removed), counts)
}
