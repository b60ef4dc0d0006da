package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"mimichat/content"
	"mimichat/session"
)

// sent is one content message a peer sent.
type sent struct {
	id  content.MessageID
	msg *content.Message
}

// peerState is what a peer remembers of its own messages and reactions.
type peerState struct {
	sent      map[string][]sent                    // room → messages (not reactions)
	reactions map[content.MessageID]reactionRecord // target → the peer's reaction
}

type reactionRecord struct {
	id    content.MessageID // first version
	emoji string
}

func (p *peer) state() *peerState {
	if p.st == nil {
		p.st = &peerState{sent: map[string][]sent{}, reactions: map[content.MessageID]reactionRecord{}}
	}
	return p.st
}

// send puts msg in the outbox and waits (briefly) until the hub took it, so
// the script's messages arrive in the order it wrote them.
func (p *peer) send(room string, msg *content.Message) (content.MessageID, error) {
	it, err := p.s.Send(room, msg)
	if err != nil {
		return content.MessageID{}, fmt.Errorf("demo: %s sends: %w", p.name, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		items, err := p.s.Outbox()
		if err != nil {
			break
		}
		done := true
		for _, o := range items {
			if o.ID == it.ID && o.State == session.Pending {
				done = false
			}
		}
		if done {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return it.ID, nil
}

func (p *peer) keep(room string, id content.MessageID, msg *content.Message) {
	p.mu.Lock()
	st := p.state()
	st.sent[room] = append(st.sent[room], sent{id, msg})
	p.mu.Unlock()
}

func (p *peer) last(room string) (sent, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.state().sent[room]
	if len(s) == 0 {
		return sent{}, false
	}
	return s[len(s)-1], true
}

func (p *peer) build(room string) *content.Builder { return p.s.Builder(room) }

func (p *peer) markdown(room, text string) error { return p.markdownOpts(room, text) }

func (p *peer) markdownOpts(room, text string, opts ...content.Option) error {
	msg, err := p.build(room).Markdown(text, opts...)
	if err != nil {
		return err
	}
	id, err := p.send(room, msg)
	if err == nil {
		p.keep(room, id, msg)
	}
	return err
}

// reply answers the newest message to's peer sent in room.
func (p *peer) reply(room string, to *peer, text string) error {
	t, ok := to.last(room)
	if !ok {
		return p.markdown(room, text)
	}
	msg, err := p.build(room).Reply(t.id, content.MarkdownPart(text))
	if err != nil {
		return err
	}
	id, err := p.send(room, msg)
	if err == nil {
		p.keep(room, id, msg)
	}
	return err
}

func (p *peer) reactTo(room string, target content.MessageID, emoji string) error {
	p.mu.Lock()
	prev, had := p.state().reactions[target]
	p.mu.Unlock()
	b := p.build(room)
	var msg *content.Message
	var err error
	if had {
		msg, err = b.ChangeReaction(prev.id, target, emoji)
	} else {
		msg, err = b.Reaction(target, emoji)
	}
	if err != nil {
		return err
	}
	id, err := p.send(room, msg)
	if err != nil {
		return err
	}
	p.mu.Lock()
	if had {
		id = prev.id
	}
	p.state().reactions[target] = reactionRecord{id: id, emoji: emoji}
	p.mu.Unlock()
	return nil
}

// react reacts to the newest message of peer to (a changed reaction when
// it already reacted).
func (p *peer) react(room string, to *peer, emoji string) error {
	t, ok := to.last(room)
	if !ok {
		return nil
	}
	return p.reactTo(room, t.id, emoji)
}

func (p *peer) changeReaction(room string, to *peer, emoji string) error {
	return p.react(room, to, emoji)
}

// unreact withdraws the peer's reaction on to's newest message.
func (p *peer) unreact(room string, to *peer) error {
	t, ok := to.last(room)
	if !ok {
		return nil
	}
	p.mu.Lock()
	prev, had := p.state().reactions[t.id]
	delete(p.state().reactions, t.id)
	p.mu.Unlock()
	if !had {
		return nil
	}
	msg, err := p.build(room).Unlike(prev.id, t.id)
	if err != nil {
		return err
	}
	_, err = p.send(room, msg)
	return err
}

func (p *peer) editLast(room, text string) error {
	t, ok := p.last(room)
	if !ok {
		return nil
	}
	first := t.id
	if t.msg.Replaces != nil {
		first = *t.msg.Replaces
	}
	msg, err := p.build(room).Edit(first, t.msg, content.MarkdownPart(text))
	if err != nil {
		return err
	}
	id, err := p.send(room, msg)
	if err == nil {
		p.mu.Lock()
		s := p.state().sent[room]
		s[len(s)-1] = sent{id, msg}
		p.mu.Unlock()
	}
	return err
}

func (p *peer) deleteLast(room string) error {
	t, ok := p.last(room)
	if !ok {
		return nil
	}
	first := t.id
	if t.msg.Replaces != nil {
		first = *t.msg.Replaces
	}
	msg, err := p.build(room).Delete(first, t.msg)
	if err != nil {
		return err
	}
	_, err = p.send(room, msg)
	p.mu.Lock()
	s := p.state().sent[room]
	p.state().sent[room] = s[:len(s)-1]
	p.mu.Unlock()
	return err
}

func (p *peer) alternatives(room string) error {
	parts := []content.NestedPart{
		content.LanguagePart("en", content.MarkdownPart("Good morning, everyone! ☀️ (chooseOne: you see your language)")),
		content.LanguagePart("fr", content.MarkdownPart("Bonjour à tous ! ☀️ (chooseOne : vous voyez votre langue)")),
		content.LanguagePart("de", content.MarkdownPart("Guten Morgen zusammen! ☀️ (chooseOne: Sie sehen Ihre Sprache)")),
	}
	msg, err := p.build(room).Alternatives(parts)
	if err != nil {
		return err
	}
	id, err := p.send(room, msg)
	if err == nil {
		p.keep(room, id, msg)
	}
	return err
}

// attachment seals a small text file, uploads the ciphertext to the relay's
// blob store and sends the attachment message.
func (p *peer) attachment(room, name, desc string) error {
	plain := []byte(logoArt)
	part, blob, err := content.SealAttachment(nil, plain, content.AttachmentSpec{Filename: name, Description: desc})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if part.URL, err = p.s.Upload(ctx, name, blob); err != nil {
		return err
	}
	msg, err := p.build(room).Attachment("text/plain;charset=utf-8", part)
	if err != nil {
		return err
	}
	id, err := p.send(room, msg)
	if err == nil {
		p.keep(room, id, msg)
	}
	return err
}

func (p *peer) callLink(room, url, desc string) error {
	msg, err := p.build(room).CallLink("", url, desc)
	if err != nil {
		return err
	}
	id, err := p.send(room, msg)
	if err == nil {
		p.keep(room, id, msg)
	}
	return err
}

func (p *peer) knock(room string) error {
	msg, err := p.build(room).Knock(p.name)
	if err != nil {
		return err
	}
	_, err = p.send(room, msg)
	return err
}

// onEntries answers the user (and every booth visitor): delivery and read
// receipts for each of their messages, and a reply or reaction now and then.
func (p *peer) onEntries(ev session.EntriesEvent) {
	var got []content.MessageID
	var texts []string
	knocked := false
	for _, e := range ev.Entries {
		if !e.IsMessage() || p.d.isPeer(e.Sender) {
			continue
		}
		m, err := content.Decode(e.Raw)
		if err != nil || content.IsStatusUpdate(m) {
			continue
		}
		if m.Replaces != nil || m.Body.Disposition.Effective() == content.Reaction {
			continue
		}
		got = append(got, e.ID)
		if content.IsKnock(m) {
			knocked = true
		} else {
			texts = append(texts, content.PlainText(m))
		}
	}
	if len(got) == 0 {
		return
	}
	room := ev.Room
	p.report(room, got, content.StatusDelivered)
	go func() {
		time.Sleep(time.Duration(float64(1500*time.Millisecond) * p.d.pace))
		p.report(room, got, content.StatusRead)
		if p.answers(room) {
			last := got[len(got)-1]
			switch {
			case knocked:
				p.markdown(room, "I'm here! What's up? 👀")
			case len(texts) > 0 && strings.Contains(strings.ToLower(texts[len(texts)-1]), "?"):
				msg, err := p.build(room).Reply(last, content.MarkdownPart("Good question — I think so! 🙂"))
				if err == nil {
					p.send(room, msg)
				}
			default:
				p.reactTo(room, last, "👍")
			}
		}
	}()
}

// answers says whether this peer is the one who answers the user in room:
// the room's owner.
func (p *peer) answers(room string) bool {
	for i, r := range p.d.Rooms {
		if r == room {
			return p.d.peers[i%len(p.d.peers)] == p
		}
	}
	return false
}

func (p *peer) report(room string, ids []content.MessageID, st content.Status) {
	rep := make(content.StatusReport, len(ids))
	for i, id := range ids {
		rep[i] = content.StatusEntry{ID: id, Status: st}
	}
	body, err := content.StatusBody(rep)
	if err != nil {
		return
	}
	msg, err := p.build(room).Message(body)
	if err != nil {
		return
	}
	p.s.Send(room, msg)
}

const logoArt = `  __  __ ___ __  __ ___
 |  \/  |_ _|  \/  |_ _|
 | |\/| || || |\/| || |
 |_|  |_|___|_|  |_|___|  draft 3, blue
`
