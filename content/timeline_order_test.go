package content

import (
	"math/rand/v2"
	"testing"
)

// genRoom builds n envelopes of mixed traffic in hub order: texts, replies,
// mentions, reactions (single and several), edits and deletes (some by
// people not allowed to make them), reaction changes, unlikes and receipts.
func genRoom(t testing.TB, rng *rand.Rand, n int) []Envelope {
	r := newTLRoom(t, TimelineOptions{})
	users := []string{alice, bob, carol, mod}
	type msg struct {
		id     MessageID
		sender string
	}
	var heads, reactions []msg
	var envs []Envelope
	pick := func(xs []msg) msg { return xs[rng.IntN(len(xs))] }
	for len(envs) < n {
		u := users[rng.IntN(len(users))]
		k := rng.IntN(100)
		var m *Message
		switch {
		case len(heads) == 0 || k < 30:
			m = tlText("text " + string(rune('a'+rng.IntN(26))))
			if rng.IntN(5) == 0 {
				m = tlText("hey [@Alice](" + alice + ")")
			}
			if rng.IntN(4) == 0 {
				m.TopicID = []byte("t1")
			}
		case k < 40:
			m = tlReply(pick(heads).id, "reply")
		case k < 55:
			m = tlReact(pick(heads).id, []string{"👍", "❤", "🎉"}[rng.IntN(3)])
			if rng.IntN(4) == 0 {
				m = tlReacts(pick(heads).id, "🥳", "🤞")
			}
		case k < 68:
			h := pick(heads)
			if rng.IntN(5) != 0 {
				u = h.sender
			}
			m = tlEdit(h.id, "edited by "+u)
			if rng.IntN(3) == 0 { // moves between topics (or out of one)
				m.TopicID = [][]byte{nil, []byte("t1"), []byte("t2")}[rng.IntN(3)]
			}
			if rng.IntN(6) == 0 {
				m = tlText("mention [@Alice](" + alice + ")")
				m.Replaces = &h.id
			}
		case k < 76:
			h := pick(heads)
			if rng.IntN(3) != 0 {
				u = h.sender
			}
			m = tlDelete(h.id)
		case k < 84 && len(reactions) > 0:
			rx := pick(reactions)
			if rng.IntN(4) != 0 {
				u = rx.sender
			}
			var target MessageID
			target[0] = 1
			if rng.IntN(2) == 0 {
				m = tlUnlike(rx.id, target)
				m.InReplyTo = nil
			} else {
				m = tlChangeReaction(rx.id, target, "😮")
				m.InReplyTo = nil
			}
		default:
			var es []StatusEntry
			for range 1 + rng.IntN(3) {
				es = append(es, StatusEntry{ID: pick(heads).id, Status: Status(rng.IntN(3))})
			}
			m = tlReceipt(t, es...)
		}
		e := r.env(u, m)
		envs = append(envs, e)
		switch {
		case m.Replaces == nil && m.InReplyTo != nil && isReactionBody(&m.Body):
			reactions = append(reactions, msg{e.ID, u})
		case m.Replaces == nil && !IsStatusUpdate(m):
			heads = append(heads, msg{e.ID, u})
		}
	}
	return envs
}

// Whatever order the envelopes arrive in (targets after the reactions,
// edits, deletes and receipts that name them), the state is the one
// in-order execution gives.
func TestTimelineArrivalOrderDoesNotMatter(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 7))
		envs := genRoom(t, rng, 80)
		opts := TimelineOptions{LocalUser: alice, InitialRoles: map[string]MemberRole{mod: RoleModerator}}
		ref := NewTimeline(opts)
		for _, e := range envs {
			ref.Apply(e)
		}
		want := dumpTimeline(ref)
		if ref.HeldCount() != 0 {
			t.Fatalf("seed %d: in-order run holds %d items", seed, ref.HeldCount())
		}
		for perm := range 5 {
			shuffled := append([]Envelope(nil), envs...)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			tl := NewTimeline(opts)
			for _, e := range shuffled {
				tl.Apply(e)
			}
			if got := dumpTimeline(tl); got != want {
				t.Fatalf("seed %d perm %d: state differs\n--- in order\n%s\n--- shuffled\n%s", seed, perm, want, got)
			}
		}
	}
}

func TestTimelineHoldsUntilTargetArrives(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	orig := r.env(alice, tlText("hello"))
	react := r.env(bob, tlReact(orig.ID, "👍"))
	edit := r.env(alice, tlEdit(orig.ID, "hello!"))
	unlike := r.env(bob, tlUnlike(react.ID, orig.ID))
	rcpt := r.env(carol, tlReceipt(t, StatusEntry{ID: orig.ID, Status: StatusRead}))
	for _, e := range []Envelope{unlike, edit, react, rcpt} {
		if out, err := r.tl.Apply(e); err != nil || out != Held {
			t.Fatalf("seq %d: %d %v, want held", e.Seq, out, err)
		}
	}
	if r.tl.HeldCount() != 4 || r.tl.Len() != 0 {
		t.Fatalf("held %d, len %d", r.tl.HeldCount(), r.tl.Len())
	}
	v0 := r.tl.Version()
	if _, err := r.tl.Apply(orig); err != nil {
		t.Fatal(err)
	}
	if r.tl.Version() == v0 {
		t.Fatal("Version did not change")
	}
	it := r.tl.At(0)
	if r.tl.HeldCount() != 0 || string(it.Body.Content) != "hello!" || it.Reactions != 1 {
		t.Fatalf("after release: held %d, %+v", r.tl.HeldCount(), it)
	}
	if gs := r.tl.Reactions(orig.ID); len(gs) != 0 {
		t.Fatalf("unlike lost: %+v", gs)
	}
	if rs := r.tl.Receipts(orig.ID); len(rs) != 1 || rs[0].Status != StatusRead {
		t.Fatalf("receipts = %+v", rs)
	}
}

func TestTimelineHoldingAreaIsBounded(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{MaxHeld: 2})
	var ids [3]MessageID
	for i := range ids {
		ids[i][0], ids[i][1] = 1, byte(i+1)
		if out, _ := r.tl.Apply(r.env(bob, tlReact(ids[i], "👍"))); out != Held {
			t.Fatalf("reaction %d not held", i)
		}
	}
	refs := r.tl.Refused()
	if r.tl.HeldCount() != 2 || len(refs) != 1 || refs[0].Reason != RefuseHeldTooLong || refs[0].Target != ids[0] {
		t.Fatalf("held %d refused %+v", r.tl.HeldCount(), refs)
	}
}
