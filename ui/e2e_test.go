package ui

import (
	"strings"
	"sync"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/session"
)

// inbox collects what a headless peer receives, decoded.
type inbox struct {
	mu   sync.Mutex
	msgs []received
	ch   chan struct{}
}

type received struct {
	e   session.Entry
	msg *content.Message
}

func collect(s *session.Session) *inbox {
	in := &inbox{ch: make(chan struct{}, 1)}
	go func() {
		for ev := range s.Events() {
			es, ok := ev.(session.EntriesEvent)
			if !ok {
				continue
			}
			in.mu.Lock()
			for _, e := range es.Entries {
				if !e.IsMessage() {
					continue
				}
				if m, err := content.Decode(e.Raw); err == nil {
					in.msgs = append(in.msgs, received{e, m})
				}
			}
			in.mu.Unlock()
			select {
			case in.ch <- struct{}{}:
			default:
			}
		}
	}()
	return in
}

// wait returns the first message from sender that satisfies cond.
func (in *inbox) wait(t *testing.T, what, sender string, cond func(received) bool) received {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		in.mu.Lock()
		for _, r := range in.msgs {
			if r.e.Sender == sender && cond(r) {
				in.mu.Unlock()
				return r
			}
		}
		in.mu.Unlock()
		select {
		case <-in.ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			in.mu.Lock()
			for _, r := range in.msgs {
				irt := ""
				if r.msg.InReplyTo != nil {
					irt = r.msg.InReplyTo.String()[:8]
				}
				t.Logf("got from %s: %s disp=%v irt=%s %q", r.e.Sender, r.e.ID.String()[:8], r.msg.Body.Disposition, irt, r.msg.Body.Content)
			}
			in.mu.Unlock()
			t.Fatalf("peer did not receive %s", what)
		}
	}
}

// TestEndToEnd: a real relay, the TUI model in a Bubble Tea program and a
// headless peer. The user sends, replies, reacts, edits, deletes and knocks
// from the keyboard and the peer receives each; the peer does the same and
// the screen shows each.
func TestEndToEnd(t *testing.T) {
	rl := startRelay(t)
	you := rl.session("you")
	peer := rl.session("peer")
	in := collect(peer)
	room := openRoom(t, peer, "lobby", "Lobby", you)
	tm, _, scr := startUI(t, you, 120, 40, Options{Room: room})
	scr.waitText(t, "Lobby", "you joined")
	me := you.User()

	// the user sends
	tm.Type("hello from the ui")
	key(tm, "enter")
	first := in.wait(t, "the user's message", me, func(r received) bool {
		return strings.Contains(content.PlainText(r.msg), "hello from the ui")
	})

	// the peer sends; the screen shows it
	pb := peer.Builder(room)
	pm, _ := pb.Markdown("hi back **there**")
	pItem, err := peer.Send(room, pm)
	if err != nil {
		t.Fatal(err)
	}
	scr.waitText(t, "hi back there")

	// the user replies to the peer's message (the newest row)
	key(tm, "alt+s")
	tm.Type("r")
	tm.Type("a reply")
	key(tm, "enter")
	in.wait(t, "the reply", me, func(r received) bool {
		return r.msg.InReplyTo != nil && *r.msg.InReplyTo == pItem.ID && strings.Contains(content.PlainText(r.msg), "a reply")
	})
	scr.waitText(t, "↩ peer: hi back there")

	// the user reacts to the peer's message: select it (one up from the reply)
	key(tm, "alt+s")
	key(tm, "up")
	tm.Type("+")
	tm.Type("fire")
	scr.waitText(t, ":fire:")
	key(tm, "enter")
	in.wait(t, "the reaction", me, func(r received) bool {
		return r.msg.Body.Disposition == content.Reaction && r.msg.InReplyTo != nil && *r.msg.InReplyTo == pItem.ID &&
			string(r.msg.Body.Content) == "🔥"
	})
	key(tm, "esc")

	// the user edits the last message: Up in the empty composer
	key(tm, "up")
	scr.waitText(t, "Editing your message")
	tm.Type(" (edited by the ui)")
	key(tm, "enter")
	reply := in.wait(t, "the reply", me, func(r received) bool {
		return strings.Contains(content.PlainText(r.msg), "a reply") && r.msg.Replaces == nil
	})
	in.wait(t, "the edit", me, func(r received) bool {
		return r.msg.Replaces != nil && *r.msg.Replaces == reply.e.ID && strings.Contains(content.PlainText(r.msg), "(edited by the ui)")
	})
	scr.waitText(t, "a reply (edited by the ui)", "(edited)")

	// the user deletes their first message: select it and confirm
	key(tm, "alt+s")
	for i := 0; i < 10; i++ {
		key(tm, "up")
	}
	tm.Type("d")
	scr.waitText(t, "Delete this message?")
	tm.Type("y")
	in.wait(t, "the delete", me, func(r received) bool {
		return r.msg.Replaces != nil && *r.msg.Replaces == first.e.ID && r.msg.Body.Cardinality == content.NullPart
	})
	scr.waitText(t, "message deleted")
	key(tm, "esc")

	// the user knocks
	tm.Type("/knock")
	key(tm, "enter")
	in.wait(t, "the knock", me, func(r received) bool { return content.IsKnock(r.msg) })

	// now the peer: reply, react, edit, delete, knock; the screen shows each
	r1, _ := pb.Reply(reply.e.ID, content.MarkdownPart("peer answers the reply"))
	r1Item, _ := peer.Send(room, r1)
	scr.waitText(t, "↩ you: a reply", "peer answers the reply")
	rx, _ := pb.Reaction(reply.e.ID, "👍")
	peer.Send(room, rx)
	scr.waitText(t, "👍 1")
	ed, _ := pb.Edit(r1Item.ID, r1, content.MarkdownPart("peer answers, edited"))
	peer.Send(room, ed)
	scr.waitText(t, "peer answers, edited")
	del, _ := pb.Delete(pItem.ID, pm)
	peer.Send(room, del)
	scr.waitFor(t, "the peer's message deleted", func(s string) bool {
		return !strings.Contains(s, "hi back there\n") && strings.Count(s, "message deleted") >= 2
	})
	kn, _ := pb.Knock("peer")
	peer.Send(room, kn)
	scr.waitText(t, "peer knocked")

	// the peer saw delivery (and read) receipts for its messages
	in.wait(t, "a receipt", me, func(r received) bool { return content.IsStatusUpdate(r.msg) })
}
