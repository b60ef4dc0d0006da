package history

// A test room with every message kind, built with the content builders and
// given real -08 IDs, and a snapshot of what a timeline shows of it.

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"mimichat/content"
)

const (
	roomURI = "mimi://example.com/r/history"
	alice   = "mimi://example.com/u/alice"
	bob     = "mimi://example.com/u/bob"
	carol   = "mimi://example.com/u/carol"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type testRoom struct {
	t     testing.TB
	items []Item
	seq   uint64
	salt  uint64
}

func (r *testRoom) builder(sender string) *content.Builder {
	return &content.Builder{Sender: sender, Room: roomURI, Rand: &saltSeq{r}, Now: func() time.Time { return t0 }}
}

type saltSeq struct{ r *testRoom }

func (s *saltSeq) Read(p []byte) (int, error) {
	s.r.salt++
	for i := range p {
		p[i] = byte(s.r.salt >> (8 * (i % 8)))
	}
	return len(p), nil
}

func (r *testRoom) now() int64 { return t0.UnixMilli() + int64(r.seq)*1000 }

// send appends a message and returns its ID.
func (r *testRoom) m(m *content.Message, err error) *content.Message {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
	return m
}

func (r *testRoom) send(sender string, m *content.Message) content.MessageID {
	r.t.Helper()
	raw, err := m.Encode()
	if err != nil {
		r.t.Fatal(err)
	}
	id, err := content.ComputeID(sender, roomURI, raw)
	if err != nil {
		r.t.Fatal(err)
	}
	r.seq++
	dm, _ := content.Decode(raw)
	r.items = append(r.items, Item{Seq: r.seq, Time: r.now(), Sender: sender, ID: id, Raw: raw, Msg: dm, Verified: true})
	return id
}

func (r *testRoom) event(kind content.RoomEventKind, actor, target string, role content.MemberRole, text string) {
	r.seq++
	ev := &content.RoomEvent{Seq: r.seq, HubTime: r.now(), Kind: kind, Actor: actor, Target: target, Role: role, Text: text}
	r.items = append(r.items, Item{Seq: r.seq, Time: r.now(), Sender: actor, Event: ev})
}

// everyKind builds a room with every message kind and room event.
func everyKind(t testing.TB) *testRoom {
	r := &testRoom{t: t}
	a, b, c := r.builder(alice), r.builder(bob), r.builder(carol)
	r.event(content.EventJoin, alice, alice, 0, "")
	r.event(content.EventRoleChange, alice, alice, content.RoleOwner, "")
	r.event(content.EventInvite, alice, bob, 0, "")
	r.event(content.EventJoin, bob, bob, 0, "")
	r.event(content.EventJoin, alice, carol, 0, "")
	r.event(content.EventRoomName, alice, "", 0, "History room")
	r.event(content.EventRoomTopic, alice, "", 0, "all the kinds")
	r.event(content.EventRoomAvatar, alice, "", 0, "https://example.com/a.png")
	hello := r.send(alice, r.m(a.Markdown("Hello **everyone**")))
	r.send(bob, r.m(b.Text("plain text")))
	r.send(carol, r.m(c.HTML("<p>html</p>")))
	reply := r.send(bob, r.m(b.Reply(hello, content.MarkdownPart("a reply"))))
	like := r.send(carol, r.m(c.Reaction(hello, "👍")))
	r.send(carol, r.m(c.ChangeReaction(like, hello, "❤")))
	heart := r.send(bob, r.m(b.Reaction(hello, "😀")))
	r.send(bob, r.m(b.Unlike(heart, hello)))
	r.send(alice, r.m(a.Reactions(reply, []string{"🎉", "✨"})))
	replyMsg := r.items[len(r.items)-5].Msg
	r.send(bob, r.m(b.Edit(reply, replyMsg, content.MarkdownPart("a reply, edited"))))
	gone := r.send(carol, r.m(c.Text("to be deleted")))
	goneMsg := r.items[len(r.items)-1].Msg
	r.send(carol, r.m(c.Edit(gone, goneMsg, content.TextPart("edited before delete"))))
	r.send(carol, r.m(c.Delete(gone, goneMsg)))
	r.send(bob, r.m(b.Knock("Bob")))
	r.send(alice, r.m(a.Attachment("image/png", content.ExternalPart{URL: "https://example.com/f/1", Size: 1234,
		EncAlg: 1, Key: bytes.Repeat([]byte{1}, 16), Nonce: bytes.Repeat([]byte{2}, 12), HashAlg: 1,
		ContentHash: bytes.Repeat([]byte{3}, 32), Filename: "cat.png", Description: "a cat"})))
	r.send(alice, r.m(a.CallLink("text/html", "https://example.com/join/1", "standup")))
	r.send(alice, r.m(a.Alternatives([]content.NestedPart{content.LanguagePart("en", content.MarkdownPart("Hi")),
		content.LanguagePart("fr", content.MarkdownPart("Salut"))})))
	topic := []byte("release-2")
	t1 := r.send(alice, r.m(a.Markdown("thread start", content.InTopic(topic))))
	r.send(bob, r.m(b.Markdown("thread answer", content.InTopic(topic), content.InReplyTo(t1))))
	r.send(alice, r.m(a.Markdown("burn after reading", content.ExpiresAfterRead(time.Minute))))
	r.send(alice, r.m(a.Markdown("vpn down in 10 min", content.ExpiresAt(t0.Add(time.Hour)))))
	rep := content.StatusReport{{ID: hello, Status: content.StatusRead}, {ID: reply, Status: content.StatusDelivered}}
	body, err := content.StatusBody(rep)
	if err != nil {
		t.Fatal(err)
	}
	r.send(carol, r.m(c.Message(body)))
	r.event(content.EventRoleChange, alice, bob, content.RoleModerator, "")
	r.event(content.EventKick, alice, carol, 0, "")
	r.event(content.EventBan, alice, carol, 0, "")
	r.event(content.EventUnban, alice, carol, 0, "")
	r.event(content.EventLeave, bob, bob, 0, "")
	return r
}

// timelineOf applies items to a fresh timeline and expires at now.
func timelineOf(items []Item, now int64) *content.Timeline {
	tl := content.NewTimeline(content.TimelineOptions{LocalUser: alice})
	ApplyTo(tl, append([]Item(nil), items...), newReport(""))
	tl.Expire(now)
	return tl
}

// carries selects what a format is compared on.
type carries struct {
	topics, events, raw, seq, deletedBy, multiSemantics bool
}

var vconCarries = carries{topics: true, events: true, raw: true, seq: true, deletedBy: true, multiSemantics: true}

// snapshot renders what the timeline shows, limited to what c says the
// format carries, one line per row plus its reactions and receipts.
func snapshot(tl *content.Timeline, c carries) string {
	var sb strings.Builder
	tl.Read(func(v content.View) {
		for i := 0; i < v.Len(); i++ {
			it := v.At(i)
			if it.Kind == content.ItemEvent && !c.events {
				continue
			}
			seq := uint64(0)
			if c.seq {
				seq = it.Seq
			}
			fmt.Fprintf(&sb, "%d %v t=%d %s id=%x", seq, it.Kind, it.HubTime, it.Sender, it.ID[:4])
			if it.Kind == content.ItemEvent {
				if !c.seq {
					it.Event.Seq = 0
				}
				fmt.Fprintf(&sb, " %+v\n", it.Event)
				continue
			}
			fmt.Fprintf(&sb, " del=%v exp=%v reply=%x", it.Deleted, it.Expired, it.ReplyTo[:4])
			if c.deletedBy {
				fmt.Fprintf(&sb, " by=%s", it.DeletedBy)
			}
			if !it.Deleted && !it.Expired {
				fmt.Fprintf(&sb, " v=%d cur=%x body=%s", it.Versions, it.Current[:4], partString(&it.Body, c))
			}
			if c.topics {
				fmt.Fprintf(&sb, " topic=%q", it.Topic)
			}
			sb.WriteByte('\n')
			for _, g := range v.Reactions(it.ID) {
				fmt.Fprintf(&sb, "   reaction %s:", g.Key)
				for _, w := range g.Who {
					if !c.seq {
						w.Seq = 0
					}
					fmt.Fprintf(&sb, " %+v", w)
				}
				sb.WriteByte('\n')
			}
			for _, rc := range v.Receipts(it.ID) {
				fmt.Fprintf(&sb, "   receipt %s %s\n", rc.Member, rc.Status)
			}
		}
	})
	return sb.String()
}

func partString(p *content.NestedPart, c carries) string {
	switch p.Cardinality {
	case content.Single:
		return fmt.Sprintf("[%d %q %s %q]", p.Disposition, p.Language, p.ContentType, p.Content)
	case content.External:
		return fmt.Sprintf("[%d %q ext %s %s size=%d %q %q]", p.Disposition, p.Language, p.ContentType, p.External.URL, p.External.Size, p.External.Filename, p.External.Description)
	case content.Multi:
		s := fmt.Sprintf("[%d %q multi", p.Disposition, p.Language)
		if c.multiSemantics {
			s += fmt.Sprint(p.Semantics)
		}
		for i := range p.Parts {
			s += " " + partString(&p.Parts[i], c)
		}
		return s + "]"
	}
	return "[null]"
}
