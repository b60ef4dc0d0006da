package content

// Test helpers: a small room that encodes, decodes and derives the ID of
// every message exactly as a client receiving it from the relay would.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

const (
	tlRoomURI = "mimi://example.com/r/test"
	alice     = "mimi://example.com/u/alice"
	bob       = "mimi://example.com/u/bob"
	carol     = "mimi://example.com/u/carol"
	mod       = "mimi://example.com/u/mod"
)

type tlRoom struct {
	t     testing.TB
	tl    *Timeline
	seq   uint64
	salts uint64
}

func newTLRoom(t testing.TB, opts TimelineOptions) *tlRoom {
	return &tlRoom{t: t, tl: NewTimeline(opts)}
}

// env makes the next envelope in hub order (hub time = 1000 s + seq).
func (r *tlRoom) env(sender string, m *Message) Envelope {
	r.t.Helper()
	r.seq++
	return r.envAt(r.seq, sender, m)
}

func (r *tlRoom) envAt(seq uint64, sender string, m *Message) Envelope {
	r.t.Helper()
	r.salts++
	binary.BigEndian.PutUint64(m.Salt[8:], r.salts)
	raw, err := m.Encode()
	if err != nil {
		r.t.Fatalf("encode: %v", err)
	}
	dm, err := Decode(raw)
	if err != nil {
		r.t.Fatalf("decode: %v", err)
	}
	id, err := ComputeID(sender, tlRoomURI, raw)
	if err != nil {
		r.t.Fatalf("id: %v", err)
	}
	return Envelope{Seq: seq, HubTime: int64(1_000_000 + seq*1000), Sender: sender, ID: id, Raw: raw, Msg: dm}
}

// send applies the next message and fails unless it was applied.
func (r *tlRoom) send(sender string, m *Message) MessageID {
	r.t.Helper()
	e := r.env(sender, m)
	if out, err := r.tl.Apply(e); err != nil || out != Applied {
		r.t.Fatalf("apply seq %d: outcome %d, %v", e.Seq, out, err)
	}
	return e.ID
}

// refused applies the next message and checks it is refused for reason.
func (r *tlRoom) refused(sender string, m *Message, reason RefuseReason) {
	r.t.Helper()
	e := r.env(sender, m)
	out, err := r.tl.Apply(e)
	var re *RefusalError
	if out != Refused || !errors.As(err, &re) || re.Refusal.Reason != reason {
		r.t.Fatalf("seq %d: got outcome %d err %v; want refusal %q", e.Seq, out, err, reason)
	}
}

func (r *tlRoom) event(ev RoomEvent) {
	r.t.Helper()
	r.seq++
	ev.Seq, ev.HubTime = r.seq, int64(1_000_000+r.seq*1000)
	if err := r.tl.ApplyEvent(ev); err != nil {
		r.t.Fatalf("event: %v", err)
	}
}

func tlPart(d Disposition, ct, s string) NestedPart {
	return NestedPart{Disposition: d, Cardinality: Single, ContentType: ct, Content: []byte(s)}
}

func tlText(s string) *Message { return &Message{Body: tlPart(Render, "text/plain;charset=utf-8", s)} }

func tlReply(parent MessageID, s string) *Message {
	m := tlText(s)
	m.InReplyTo = &parent
	return m
}

func tlReact(target MessageID, emoji string) *Message {
	return &Message{InReplyTo: &target, Body: tlPart(Reaction, "text/plain;charset=utf-8", emoji)}
}

func tlReacts(target MessageID, emojis ...string) *Message {
	m := &Message{InReplyTo: &target, Body: NestedPart{Disposition: Reaction, Cardinality: Multi, Semantics: ProcessAll}}
	for _, e := range emojis {
		m.Body.Parts = append(m.Body.Parts, tlPart(Reaction, "text/plain;charset=utf-8", e))
	}
	return m
}

func tlEdit(first MessageID, s string) *Message {
	m := tlText(s)
	m.Replaces = &first
	return m
}

func tlDelete(first MessageID) *Message {
	return &Message{Replaces: &first, Body: NestedPart{Disposition: Render, Cardinality: NullPart}}
}

func tlChangeReaction(first, target MessageID, emoji string) *Message {
	m := tlReact(target, emoji)
	m.Replaces = &first
	return m
}

func tlUnlike(reaction, target MessageID) *Message {
	return &Message{Replaces: &reaction, InReplyTo: &target, Body: NestedPart{Disposition: Reaction, Cardinality: NullPart}}
}

func tlReceipt(t testing.TB, entries ...StatusEntry) *Message {
	b, err := StatusBody(StatusReport(entries))
	if err != nil {
		t.Fatalf("status body: %v", err)
	}
	return &Message{Body: b}
}

// dump renders the whole observable state canonically, so two timelines
// can be compared for "same result".
func dumpTimeline(tl *Timeline) string {
	var b strings.Builder
	tl.Read(func(v View) {
		for i := 0; i < v.Len(); i++ {
			it := v.At(i)
			fmt.Fprintf(&b, "row %d seq=%d kind=%d from=%s id=%.8s cur=%.8s del=%v by=%s exp=%v vers=%d edited=%v body=%q reply=%.8s topic=%q\n",
				i, it.Seq, it.Kind, it.Sender, it.ID, it.Current, it.Deleted, it.DeletedBy, it.Expired, it.Versions, it.Edited, it.Body.Content, it.ReplyTo, it.Topic)
			if it.Kind == ItemEvent {
				continue
			}
			for _, ver := range v.Versions(it.ID) {
				fmt.Fprintf(&b, "  ver %.8s seq=%d by=%s del=%v body=%q\n", ver.ID, ver.Seq, ver.By, ver.Delete, ver.Body.Content)
			}
			for _, g := range v.Reactions(it.ID) {
				fmt.Fprintf(&b, "  react %q asReply=%v:", g.Key, g.AsReply)
				for _, w := range g.Who {
					fmt.Fprintf(&b, " %s/%.8s/%d/%v", w.User, w.Reaction, w.Seq, w.Stale)
				}
				b.WriteString("\n")
			}
			for _, rc := range v.Receipts(it.ID) {
				fmt.Fprintf(&b, "  receipt %s=%s@%d\n", rc.Member, rc.Status, rc.Seq)
			}
			p := v.Parent(it.ID)
			fmt.Fprintf(&b, "  parent %d %.8s %q stale=%v loop=%v\n", p.State, p.ID, p.Text, p.Stale, p.Loop)
		}
		topics := v.Topics()
		sort.Strings(topics)
		for _, tp := range topics {
			info, _ := v.Thread(tp)
			fmt.Fprintf(&b, "topic %q first=%.8s count=%d:", tp, info.First, info.Count)
			for i := range info.Count {
				fmt.Fprintf(&b, " %.8s", v.ThreadAt(tp, i).ID)
			}
			b.WriteString("\n")
		}
		refs := v.Refused()
		sort.Slice(refs, func(i, j int) bool {
			if refs[i].Seq != refs[j].Seq {
				return refs[i].Seq < refs[j].Seq
			}
			return refs[i].Reason < refs[j].Reason
		})
		for _, r := range refs {
			fmt.Fprintf(&b, "refused seq=%d %s\n", r.Seq, r.Reason)
		}
		fmt.Fprintf(&b, "knocks=%d\n", v.Knocks())
	})
	fmt.Fprintf(&b, "held=%d unread=%d mentions=%d\n", tl.HeldCount(), tl.Unread(), tl.Mentions())
	return b.String()
}
