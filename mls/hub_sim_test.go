package mls

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// hubSim runs random epochs of a group whose handshakes are all public,
// with a hub view that sees every message first, as the relay would.
type hubSim struct {
	t       *testing.T
	cs      CipherSuite
	rng     *rand.Rand
	hub     *HubGroup
	hubID   *Identity
	members []*simMember
	removed []*simMember
	next    int
	pending []*simMember // members whose SelfRemove is pending this epoch
}

// toHub has the hub accept msg; it must, since every sender is honest.
func (s *hubSim) toHub(msg []byte) *HubMessage {
	s.t.Helper()
	m, err := s.hub.Process(msg)
	if err != nil {
		s.t.Fatalf("hub at epoch %d: %v", s.hub.Epoch(), err)
	}
	return m
}

func (s *hubSim) broadcast(from *simMember, msg []byte) {
	s.t.Helper()
	s.toHub(msg)
	for _, m := range s.members {
		if m != from {
			if _, err := m.g.Process(msg); err != nil {
				s.t.Fatalf("%s at epoch %d: %v", m.name, m.g.Epoch(), err)
			}
		}
	}
}

// afterCommit drops removed members and checks everyone against the hub.
func (s *hubSim) afterCommit(hc *HubCommit) {
	s.t.Helper()
	var stay []*simMember
	for _, m := range s.members {
		if m.g.Active() {
			stay = append(stay, m)
		} else {
			s.removed = append(s.removed, m)
		}
	}
	s.members, s.pending = stay, nil
	if got, want := len(s.hub.Members()), len(s.members); got != want {
		s.t.Fatalf("hub lists %d members, %d active", got, want)
	}
	for _, m := range s.members {
		if m.g.Epoch() != s.hub.Epoch() || !bytes.Equal(m.g.ctx.bytes(), s.hub.GroupContext()) ||
			!bytes.Equal(m.g.EpochAuthenticator(), s.members[0].g.EpochAuthenticator()) {
			s.t.Fatalf("%s (epoch %d) disagrees with the hub (epoch %d)", m.name, m.g.Epoch(), s.hub.Epoch())
		}
	}
	if hc.NewEpoch != s.hub.Epoch() {
		s.t.Fatalf("commit reported epoch %d, hub at %d", hc.NewEpoch, s.hub.Epoch())
	}
}

func (s *hubSim) commit(by *simMember, opts CommitOptions, joiners []*KeyPackageBundle) *HubCommit {
	s.t.Helper()
	// Someone sends a message concurrently; the hub orders it after the commit.
	late := s.pick()
	var lateMsg []byte
	if late != by {
		lateMsg, _ = late.g.Encrypt([]byte("late"), nil)
	}
	res, err := by.g.Commit(opts)
	if err != nil {
		s.t.Fatalf("%s commit at epoch %d: %v", by.name, by.g.Epoch(), err)
	}
	hc := s.toHub(res.Commit).Commit
	if len(hc.OmittedSelfRemoves) != 0 {
		s.t.Fatalf("%s's commit omits the SelfRemoves of %v", by.name, hc.OmittedSelfRemoves)
	}
	if err := s.hub.CheckGroupInfo(res.GroupInfo); err != nil {
		s.t.Fatal(err)
	}
	if err := by.g.MergePendingCommit(); err != nil {
		s.t.Fatal(err)
	}
	for _, m := range s.members {
		if m != by {
			if _, err := m.g.Process(res.Commit); err != nil {
				s.t.Fatalf("%s processing %s's commit: %v", m.name, by.name, err)
			}
		}
	}
	for _, kp := range joiners {
		g, err := JoinFromWelcome(res.Welcome, kp, JoinOptions{})
		if err != nil {
			s.t.Fatal(err)
		}
		g.PublicHandshake = true
		s.members = append(s.members, &simMember{name: string(kp.Identity.Credential.Identity), g: g})
	}
	s.afterCommit(hc)
	if lateMsg != nil {
		s.toHub(lateMsg)
		for _, m := range s.members {
			if m == late || m.g.Epoch() == 0 {
				continue
			}
			_, err := m.g.Process(lateMsg)
			joinedNow := false
			for _, j := range hc.Joined {
				joinedNow = joinedNow || j.Leaf == m.g.LeafIndex()
			}
			if joinedNow && !errors.Is(err, ErrEpochExpired) || !joinedNow && err != nil {
				s.t.Fatalf("%s reading a late message from %s: %v", m.name, late.name, err)
			}
		}
	}
	return hc
}

func (s *hubSim) pick() *simMember { return s.members[s.rng.IntN(len(s.members))] }

func (s *hubSim) pickOther(not *simMember) *simMember {
	for {
		if m := s.pick(); m != not {
			return m
		}
	}
}

func (s *hubSim) newKP() *KeyPackageBundle {
	s.next++
	return newMember(s.t, s.cs, fmt.Sprintf("m%d", s.next))
}

func TestHubRandom(t *testing.T) {
	epochs := 200
	if testing.Short() {
		epochs = 40
	}
	cs := X25519_AES128GCM_SHA256_Ed25519
	s := &hubSim{t: t, cs: cs, rng: rand.New(rand.NewPCG(2026, 12))}
	s.hubID, _ = NewIdentity(cs, []byte("hub"))
	id, _ := NewIdentity(cs, []byte("m0"))
	g, err := NewGroup(id, []byte("hub sim"), []Extension{ExternalSendersExtension([]ExternalSender{
		{SignatureKey: s.hubID.SignaturePub, Credential: s.hubID.Credential}})})
	if err != nil {
		t.Fatal(err)
	}
	g.PublicHandshake = true
	s.members = []*simMember{{name: "m0", g: g}}
	gi, _ := g.GroupInfo(true)
	if s.hub, err = NewHubGroup(gi, nil); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for e := 0; e < epochs; e++ {
		by := s.pick()
		switch op := s.rng.IntN(8); {
		case len(s.members) < 4 || op == 0 && len(s.members) < 12:
			kps := []*KeyPackageBundle{s.newKP(), s.newKP()}[:1+s.rng.IntN(2)]
			var adds [][]byte
			for _, kp := range kps {
				adds = append(adds, kp.KeyPackage)
			}
			counts["add"]++
			s.commit(by, CommitOptions{Add: adds}, kps)
		case op == 1:
			victim := s.pickOther(by)
			counts["remove"]++
			if hc := s.commit(by, CommitOptions{Remove: []uint32{victim.g.LeafIndex()}}, nil); len(hc.Removed) != 1 {
				t.Fatalf("remove commit %+v", hc)
			}
		case op == 2:
			proposer := s.pick()
			msg, err := proposer.g.ProposeUpdate()
			if err != nil {
				t.Fatal(err)
			}
			s.broadcast(proposer, msg)
			counts["update-proposal"]++
			s.commit(s.pickOther(proposer), CommitOptions{}, nil)
		case op == 3 || op == 4:
			// One or two members leave by SelfRemove; a member commits, or a new device joins and commits them.
			leavers := []*simMember{s.pick()}
			if other := s.pickOther(leavers[0]); s.rng.IntN(2) == 0 {
				leavers = append(leavers, other)
			}
			for _, l := range leavers {
				msg, err := l.g.ProposeSelfRemove()
				if err != nil {
					t.Fatal(err)
				}
				s.broadcast(l, msg)
			}
			if op == 3 {
				committer := s.pick()
				for committer == leavers[0] || len(leavers) == 2 && committer == leavers[1] {
					committer = s.pick()
				}
				counts["self-remove"]++
				if hc := s.commit(committer, CommitOptions{}, nil); len(hc.SelfRemoved) != len(leavers) {
					t.Fatalf("commit removed %v, %d left", hc.SelfRemoved, len(leavers))
				}
				continue
			}
			fallthrough
		case op == 5:
			// A new device joins by external commit from the hub's GroupInfo and pending SelfRemoves.
			gi, err := by.g.GroupInfo(s.rng.IntN(2) == 0)
			if err != nil {
				t.Fatal(err)
			}
			var tree []byte
			if _, ok := findExtension(mustGroupInfo(t, gi).Extensions, extRatchetTree); !ok {
				tree = s.hub.RatchetTree()
			}
			s.next++
			nid, _ := NewIdentity(cs, []byte(fmt.Sprintf("m%d", s.next)))
			pending := s.hub.PendingSelfRemoves()
			ng, commit, err := JoinExternal(gi, nid, ExternalJoinOptions{RatchetTree: tree, SelfRemoves: pending})
			if err != nil {
				t.Fatal(err)
			}
			ng.PublicHandshake = true
			hm := s.toHub(commit)
			if !hm.Commit.External || len(hm.Commit.SelfRemoved) != len(pending) {
				t.Fatalf("external commit %+v with %d pending SelfRemoves", hm.Commit, len(pending))
			}
			for _, m := range s.members {
				if _, err := m.g.Process(commit); err != nil {
					t.Fatalf("%s processing an external commit: %v", m.name, err)
				}
			}
			s.members = append(s.members, &simMember{name: fmt.Sprintf("m%d", s.next), g: ng})
			s.afterCommit(hm.Commit)
			counts[fmt.Sprintf("external-join+%d-self-removes", len(pending))]++
		case op == 6:
			victim := s.pickOther(by)
			msg, err := ExternalProposal(cs, s.hub.GroupID(), s.hub.Epoch(), 0, s.hubID.SignaturePriv, RemoveProposal(victim.g.LeafIndex()))
			if err != nil {
				t.Fatal(err)
			}
			s.broadcast(nil, msg)
			counts["hub-remove"]++
			s.commit(by, CommitOptions{}, nil)
		default:
			// Save and reload the member and the hub, then a path commit.
			b, err := by.g.Save()
			if err != nil {
				t.Fatal(err)
			}
			if by.g, err = LoadGroup(b); err != nil {
				t.Fatal(err)
			}
			hb, _ := s.hub.Save()
			if s.hub, err = LoadHubGroup(hb); err != nil {
				t.Fatal(err)
			}
			counts["reload+path"]++
			s.commit(by, CommitOptions{ForcePath: true}, nil)
		}
	}
	for _, m := range s.removed {
		if m.g.Active() {
			t.Fatalf("removed %s still active", m.name)
		}
	}
	t.Logf("hub followed %d epochs, %d members now, %d removed; operations %v", s.hub.Epoch(), len(s.members), len(s.removed), counts)
}

func mustGroupInfo(t *testing.T, b []byte) *GroupInfo {
	t.Helper()
	m, err := ParseMessage(b)
	if err != nil || m.GroupInfo == nil {
		t.Fatalf("group info: %v", err)
	}
	return m.GroupInfo
}
