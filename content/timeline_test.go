package content

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTimelineEditKeepsVersions(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	first := r.send(alice, tlText("helo"))
	reply := r.send(bob, tlReply(first, "hi"))
	react := r.send(carol, tlReact(first, "👍"))
	e1 := r.send(alice, tlEdit(first, "hello"))
	e2 := r.send(alice, tlEdit(first, "hello!"))
	// A reply and a reaction to the middle version.
	reply2 := r.send(bob, tlReply(e1, "typo fixed"))
	r.send(carol, tlReact(e1, "🎉"))

	if n := r.tl.Len(); n != 3 {
		t.Fatalf("Len = %d, want 3 (edits and reactions fold into their target)", n)
	}
	it := r.tl.At(0)
	if string(it.Body.Content) != "hello!" || !it.Edited || it.Versions != 3 || it.ID != first || it.Current != e2 {
		t.Fatalf("row 0 = %+v", it)
	}
	vs := r.tl.Versions(e1) // any version's ID finds the message
	want := []string{"helo", "hello", "hello!"}
	if len(vs) != 3 {
		t.Fatalf("versions = %d", len(vs))
	}
	for i, v := range vs {
		if string(v.Body.Content) != want[i] || v.By != alice {
			t.Fatalf("version %d = %q by %s, want %q", i, v.Body.Content, v.By, want[i])
		}
	}
	for _, id := range []MessageID{first, e1, e2} {
		if i, ok := r.tl.Index(id); !ok || i != 0 {
			t.Fatalf("Index(%s) = %d, %v", id, i, ok)
		}
	}
	// Replies stay bound to the version they named.
	p := r.tl.Parent(reply)
	if p.State != ParentKnown || p.ID != first || p.Text != "helo" || !p.Stale || p.Author != alice {
		t.Fatalf("parent of first reply = %+v", p)
	}
	p = r.tl.Parent(reply2)
	if p.ID != e1 || p.Text != "hello" || !p.Stale {
		t.Fatalf("parent of second reply = %+v", p)
	}
	gs := r.tl.Reactions(first)
	if len(gs) != 2 || gs[0].Key != "👍" || !gs[0].Who[0].Stale || gs[0].Who[0].Reaction != react ||
		gs[1].Key != "🎉" || !gs[1].Who[0].Stale {
		t.Fatalf("reactions = %+v", gs)
	}
}

func TestTimelineDeleteLeavesTombstone(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	first := r.send(alice, tlText("secret"))
	r.send(alice, tlEdit(first, "secret v2"))
	reply := r.send(bob, tlReply(first, "what?"))
	r.send(alice, tlDelete(first))
	it := r.tl.At(0)
	if !it.Deleted || it.DeletedBy != alice || it.Body.Cardinality != NullPart || len(it.Body.Content) != 0 {
		t.Fatalf("tombstone = %+v", it)
	}
	for _, v := range r.tl.Versions(first) {
		if len(v.Body.Content) != 0 {
			t.Fatalf("version %s keeps content %q after delete", v.ID, v.Body.Content)
		}
	}
	if p := r.tl.Parent(reply); p.State != ParentDeleted || p.Text != "" {
		t.Fatalf("parent of reply to deleted = %+v", p)
	}
	r.refused(alice, tlEdit(first, "back from the dead"), RefuseAfterDelete)
	r.refused(alice, tlDelete(first), RefuseAfterDelete)
	if r.tl.Len() != 2 {
		t.Fatalf("Len = %d", r.tl.Len())
	}
}

func TestTimelineReactions(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	msg := r.send(alice, tlText("party?"))
	rb := r.send(bob, tlReact(msg, "👍"))
	rc := r.send(carol, tlReact(msg, "👍"))
	r.send(alice, tlReacts(msg, "❤", "🥳", "🤞")) // vector 13 shape: three reactions in one message
	r.send(bob, tlChangeReaction(rb, msg, "❤"))
	r.send(carol, tlUnlike(rc, msg))
	r.send(mod, tlReact(msg, "+1"))    // not one emoji: shown as a reply
	r.send(carol, tlReact(msg, "1️⃣")) // keycap sequence is one emoji

	gs := r.tl.Reactions(msg)
	type g struct {
		key     string
		asReply bool
		who     []string
	}
	want := []g{
		{"❤", false, []string{alice, bob}},
		{"🥳", false, []string{alice}},
		{"🤞", false, []string{alice}},
		{"+1", true, []string{mod}},
		{"1️⃣", false, []string{carol}},
	}
	if len(gs) != len(want) {
		t.Fatalf("groups = %+v", gs)
	}
	for i, w := range want {
		if gs[i].Key != w.key || gs[i].AsReply != w.asReply || len(gs[i].Who) != len(w.who) {
			t.Fatalf("group %d = %+v, want %+v", i, gs[i], w)
		}
		for j, u := range w.who {
			if gs[i].Who[j].User != u || gs[i].Who[j].Stale {
				t.Fatalf("group %d reactor %d = %+v, want %s", i, j, gs[i].Who[j], u)
			}
		}
	}
	// Unlike then change is refused: the reaction is gone.
	r.refused(carol, tlChangeReaction(rc, msg, "😀"), RefuseAfterDelete)
	if r.tl.At(0).Reactions != 5 {
		t.Fatalf("reaction messages = %d", r.tl.At(0).Reactions)
	}
}

func TestIsSingleEmoji(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"👍", true}, {"❤", true}, {"❤️", true}, {"👩🏽‍⚕️", true}, {"🇫🇷", true}, {"1️⃣", true}, {"©", true},
		{"", false}, {"a", false}, {"+1", false}, {"👍👍", false}, {"ok", false}, {"1", false}, {" ", false},
	} {
		if got := IsSingleEmoji(c.s); got != c.want {
			t.Errorf("IsSingleEmoji(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestTimelineReplies(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	var unknown MessageID
	unknown[0], unknown[1] = 1, 0xaa
	orphan := r.send(bob, tlReply(unknown, "replying to history"))
	if p := r.tl.Parent(orphan); p.State != ParentUnknown || p.ID != unknown {
		t.Fatalf("orphan parent = %+v", p)
	}
	root := r.send(alice, tlText(strings.Repeat("long text ", 20)))
	child := r.send(bob, tlReply(root, "child"))
	p := r.tl.Parent(child)
	if p.State != ParentKnown || p.Author != alice || len([]rune(p.Text)) > PreviewRunes || p.Loop {
		t.Fatalf("parent = %+v", p)
	}
	if p := r.tl.Parent(root); p.State != ParentNone {
		t.Fatalf("root parent = %+v", p)
	}
	if it := r.tl.At(2); it.ReplyTo != root {
		t.Fatalf("ReplyTo = %s", it.ReplyTo)
	}
}

// A parent that arrives after its reply is linked; a forged pair of IDs
// that name each other is flagged as a loop.
func TestTimelineReplyLateParentAndLoop(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	var idA, idB MessageID
	idA[0], idA[1] = 1, 0xa
	idB[0], idB[1] = 1, 0xb
	ea := r.env(alice, tlReply(idB, "A answers B"))
	ea.ID = idA
	eb := r.env(bob, tlReply(idA, "B answers A"))
	eb.ID = idB
	ec := r.env(carol, tlReply(idA, "C answers A"))
	for _, e := range []Envelope{ea, ec} {
		if _, err := r.tl.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	if p := r.tl.Parent(idA); p.State != ParentUnknown {
		t.Fatalf("before B: %+v", p)
	}
	if _, err := r.tl.Apply(eb); err != nil {
		t.Fatal(err)
	}
	pa, pb, pc := r.tl.Parent(idA), r.tl.Parent(idB), r.tl.Parent(ec.ID)
	if pa.State != ParentKnown || pa.ID != idB || !pa.Loop || !pb.Loop || pb.ID != idA {
		t.Fatalf("loop not detected: A %+v, B %+v", pa, pb)
	}
	if pc.Loop || pc.State != ParentKnown {
		t.Fatalf("C is not on the cycle: %+v", pc)
	}
}

func TestTimelineThreads(t *testing.T) {
	r := newTLRoom(t, TimelineOptions{})
	topic := []byte("Foo 118")
	mk := func(s string) *Message { m := tlText(s); m.TopicID = topic; return m }
	// Two messages with the same hub time, applied in reverse ID order, and
	// one earlier message arriving last.
	e1 := r.envAt(10, alice, mk("a"))
	e2 := r.envAt(11, bob, mk("b"))
	e2.HubTime = e1.HubTime
	e0 := r.envAt(5, carol, mk("first"))
	lo, hi := e1, e2
	if string(lo.ID[:]) > string(hi.ID[:]) {
		lo, hi = hi, lo
	}
	for _, e := range []Envelope{hi, lo, e0} {
		if _, err := r.tl.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	info, ok := r.tl.Thread("Foo 118")
	if !ok || info.Count != 3 || info.Replies != 2 || info.First != e0.ID {
		t.Fatalf("thread = %+v %v", info, ok)
	}
	r.tl.Read(func(v View) {
		got := []MessageID{v.ThreadAt("Foo 118", 0).ID, v.ThreadAt("Foo 118", 1).ID, v.ThreadAt("Foo 118", 2).ID}
		if got[0] != e0.ID || got[1] != lo.ID || got[2] != hi.ID {
			t.Fatalf("thread order wrong")
		}
		// The main list is in hub order (seq), whatever the arrival order.
		if v.At(0).ID != e0.ID || v.At(1).ID != e1.ID || v.At(2).ID != e2.ID {
			t.Fatalf("visible order wrong")
		}
		if len(v.Topics()) != 1 {
			t.Fatalf("topics = %v", v.Topics())
		}
	})
	// An authorized edit may move a message to another topic.
	r.seq = 20
	mv := tlEdit(e0.ID, "first")
	mv.TopicID = []byte("other")
	r.send(carol, mv)
	if info, _ := r.tl.Thread("Foo 118"); info.Count != 2 || info.First != lo.ID {
		t.Fatalf("after move = %+v", info)
	}
	if info, ok := r.tl.Thread("other"); !ok || info.Count != 1 {
		t.Fatalf("new topic = %+v", info)
	}
}

// The official -08 examples, in order: original, reply, reaction, edit of
// the reply, unlike, delete of the reply.
func TestTimelineOfficialVectors(t *testing.T) {
	dir := "../../shared/vectors/mimi-content"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("vectors not available: %v", err)
	}
	load := func(name, sender string, seq uint64) Envelope {
		raw, err := os.ReadFile(filepath.Join(dir, name+".cbor"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		id, err := ComputeID(sender, "mimi://example.com/r/engineering_team", raw)
		if err != nil {
			t.Fatal(err)
		}
		return Envelope{Seq: seq, HubTime: int64(seq), Sender: sender, ID: id, Raw: raw, Msg: m}
	}
	const (
		va = "mimi://example.com/u/alice-smith"
		vb = "mimi://example.com/u/bob-jones"
		vc = "mimi://example.com/u/cathy-washington"
	)
	tl := NewTimeline(TimelineOptions{LocalUser: va})
	envs := []Envelope{load("01-original", va, 1), load("02-reply", vb, 2), load("03-reaction", vc, 3),
		load("06-edit", vb, 4), load("08-unlike", vc, 5), load("07-delete", vb, 6)}
	for i, e := range envs {
		if out, err := tl.Apply(e); err != nil || out != Applied {
			t.Fatalf("vector %d: %d %v", i, out, err)
		}
	}
	if tl.Len() != 2 {
		t.Fatalf("Len = %d", tl.Len())
	}
	orig, reply := tl.At(0), tl.At(1)
	if orig.Sender != va || orig.Deleted || reply.ReplyTo != envs[0].ID || !reply.Deleted || !reply.Edited || reply.Versions != 3 {
		t.Fatalf("rows: %+v / %+v", orig, reply)
	}
	if gs := tl.Reactions(envs[0].ID); len(gs) != 0 {
		t.Fatalf("reactions after unlike = %+v", gs)
	}
	if tl.At(0).Reactions != 1 {
		t.Fatalf("the withdrawn reaction is still recorded")
	}
}
