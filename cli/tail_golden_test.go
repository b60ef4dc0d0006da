package cli

import (
	"bytes"
	"mimichat/internal/golden"
	"path/filepath"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// zeroReader makes salts deterministic, so IDs in the golden files are.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// goldenEntries is a small room log with every kind tail refines.
func goldenEntries(t *testing.T) []session.Entry {
	t.Helper()
	const room, alice, bob = "mimi://example.com/r/lobby", "mimi://example.com/u/alice", "mimi://example.com/u/bob"
	at := func(seq uint64) time.Time { return time.UnixMilli(1763790000000 + int64(seq)*1000).UTC() }
	var es []session.Entry
	op := func(kind proto.Kind, from, target string, role proto.Role, value, reason string) {
		seq := uint64(len(es) + 1)
		es = append(es, session.Entry{Room: room, Seq: seq, Time: at(seq), Sender: from, Kind: kind,
			Target: target, Role: role, Value: value, Reason: reason})
	}
	msg := func(from string, build func(b *content.Builder) (*content.Message, error)) content.MessageID {
		b := &content.Builder{Sender: from, Room: room, Rand: zeroReader{}}
		m, err := build(b)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		id, err := content.ComputeID(from, room, raw)
		if err != nil {
			t.Fatal(err)
		}
		seq := uint64(len(es) + 1)
		es = append(es, session.Entry{Room: room, Seq: seq, Time: at(seq), Sender: from, Kind: proto.KindMessage, ID: id, Raw: raw})
		return id
	}
	op(proto.KindCreate, alice, "", proto.RoleOwner, "", "")
	op(proto.KindName, alice, "", "", "Lobby", "")
	op(proto.KindInvite, alice, bob, proto.RoleMember, "", "")
	op(proto.KindJoin, bob, "", proto.RoleMember, "", "")
	hello := msg(alice, func(b *content.Builder) (*content.Message, error) { return b.Markdown("hello **world**\nsecond line") })
	msg(bob, func(b *content.Builder) (*content.Message, error) { return b.Reply(hello, content.MarkdownPart("hi")) })
	msg(bob, func(b *content.Builder) (*content.Message, error) { return b.Reaction(hello, "👍") })
	msg(alice, func(b *content.Builder) (*content.Message, error) {
		return b.Edit(hello, nil, content.MarkdownPart("hello everyone"))
	})
	msg(alice, func(b *content.Builder) (*content.Message, error) { return b.Delete(hello, nil) })
	msg(bob, func(b *content.Builder) (*content.Message, error) { return b.Knock("bob") })
	op(proto.KindRole, alice, bob, proto.RoleModerator, "", "")
	op(proto.KindKick, alice, bob, "", "", "spam")
	es = append(es, session.Entry{Room: room, Seq: uint64(len(es) + 1), Time: at(13), Sender: bob,
		Kind: proto.KindMessage, Raw: []byte{0x80}}) // undecodable content
	op(proto.KindReceipts, alice, "", "", proto.ReceiptsOff, "")
	return es
}

func TestTailOutputGolden(t *testing.T) {
	es := goldenEntries(t)
	for _, tc := range []struct {
		name string
		json bool
	}{{"tail.golden", false}, {"tail_json.golden", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := &tailPrinter{w: newOutput(&buf), json: tc.json}
			for i := range es {
				if err := p.print(&es[i]); err != nil {
					t.Fatal(err)
				}
			}
			golden.Check(t, filepath.Join("testdata", "client", tc.name), buf.String())
		})
	}
}
