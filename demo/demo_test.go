package demo

import (
	"context"
	"testing"
	"time"

	"mimichat/content"
	"mimichat/history"
	"mimichat/proto"
	"mimichat/session"
)

// TestDemoShowsEverything: the demo's peers, history and live script
// together produce every kind of message and event the client shows, and
// they answer the user's messages with receipts.
func TestDemoShowsEverything(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, err := Start(ctx, Options{Dir: t.TempDir(), Pace: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s, err := session.Open(d.User)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Start()
	if err := s.WaitOnline(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Join(ctx, s); err != nil {
		t.Fatal(err)
	}
	m, _ := s.Builder(d.Rooms[0]).Markdown("hello demo, is anyone there?")
	mine, err := s.Send(d.Rooms[0], m)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"markdown", "reply", "reaction", "changed reaction", "unlike", "edit", "delete", "thread",
		"knock", "expiring", "attachment", "call link", "chooseOne", "mention", "receipt for mine", "typing",
		"join", "leave", "answer to mine", "history offer"}
	seen := map[string]bool{}
	deadline := time.After(45 * time.Second)
	for len(seen) < len(want) {
		select {
		case <-deadline:
			var missing []string
			for _, w := range want {
				if !seen[w] {
					missing = append(missing, w)
				}
			}
			t.Fatalf("the demo never showed: %v", missing)
		case ev := <-s.Events():
			switch ev := ev.(type) {
			case session.SignalEvent:
				if ev.Kind == proto.SignalTyping && ev.Value == "start" {
					seen["typing"] = true
				}
			case session.EntriesEvent:
				for _, e := range ev.Entries {
					switch e.Kind {
					case proto.KindJoin:
						seen["join"] = true
					case proto.KindLeave:
						seen["leave"] = true
					}
					if !e.IsMessage() || e.Sender == s.User() {
						continue
					}
					msg, err := content.Decode(e.Raw)
					if err != nil {
						t.Fatalf("demo message does not decode: %v", err)
					}
					classify(msg, s.User(), mine.ID, seen)
				}
			}
		}
	}
}

func classify(m *content.Message, me string, mine content.MessageID, seen map[string]bool) {
	reaction := m.Body.Disposition == content.Reaction
	switch {
	case content.IsStatusUpdate(m):
		if rep, err := m.StatusReport(); err == nil {
			for _, e := range rep {
				if e.ID == mine {
					seen["receipt for mine"] = true
				}
			}
		}
	case reaction && m.Replaces != nil && m.Body.Cardinality == content.NullPart:
		seen["unlike"] = true
	case reaction && m.Replaces != nil:
		seen["changed reaction"] = true
	case reaction:
		seen["reaction"] = true
		if m.InReplyTo != nil && *m.InReplyTo == mine {
			seen["answer to mine"] = true
		}
	case m.Replaces != nil && m.Body.Cardinality == content.NullPart:
		seen["delete"] = true
	case m.Replaces != nil:
		seen["edit"] = true
	case content.IsKnock(m):
		seen["knock"] = true
	case m.Body.External != nil && m.Body.Disposition == content.Session:
		seen["call link"] = true
	case m.Body.External != nil:
		seen["attachment"] = true
	case m.Body.Cardinality == content.Multi && m.Body.Semantics == content.ChooseOne:
		seen["chooseOne"] = true
	default:
		seen["markdown"] = true
	}
	if m.InReplyTo != nil && !reaction {
		seen["reply"] = true
		if *m.InReplyTo == mine {
			seen["answer to mine"] = true
		}
	}
	if len(m.TopicID) > 0 {
		seen["thread"] = true
	}
	if m.Expires != nil {
		seen["expiring"] = true
	}
	if content.Mentions(&m.Body, me) {
		seen["mention"] = true
	}
	if o, ok := history.OfferOf(m); ok && o.For == me {
		seen["history offer"] = true
	}
}
