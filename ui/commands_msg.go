package ui

// Actions on one message (the selection, reactions, threads) and the small
// helpers the commands share.

import (
	"crypto/rand"
	"encoding/hex"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/session"
)

// selected is the message under the selection (or, with none, nothing).
func (m *Model) selected() (*room, content.Item, bool) {
	r := m.current()
	if r == nil {
		return nil, content.Item{}, false
	}
	var it content.Item
	ok := false
	r.tl.Read(func(v content.View) {
		if r.thread != "" && m.focus != keys.Composer {
			n, item, pend := m.threadRows(r, v)
			switch {
			case r.tsel >= 0 && r.tsel < n:
				it, ok = item(r.tsel), true
			case r.tsel >= n && r.tsel < n+len(pend):
				it, ok = m.pendingItem(pend[r.tsel-n])
			}
			return
		}
		r.main.sync(r.tl, v)
		tn := r.main.len()
		pend := r.mainPending()
		switch {
		case r.sel >= 0 && r.sel < tn:
			it, ok = v.At(r.main.visible(r.sel)), true
		case r.sel >= tn && r.sel < tn+len(pend):
			it, ok = m.pendingItem(pend[r.sel-tn])
		}
	})
	return r, it, ok && it.Kind != content.ItemEvent
}

// pendingItem is an outbox message as an item to act on: the outbox is sent
// in order, so a reply, reaction, edit or delete naming it lands after it.
// A failed one cannot be named (it may never be sent).
func (m *Model) pendingItem(p *pendingMsg) (content.Item, bool) {
	it := content.Item{Kind: content.ItemMessage, ID: p.item.ID, Current: p.item.ID, Sender: m.me, Body: p.msg.Body,
		Topic: string(p.msg.TopicID)}
	if p.msg.InReplyTo != nil {
		it.ReplyTo = *p.msg.InReplyTo
	}
	return it, p.item.State != session.Failed
}

func (m *Model) selectedOrNone() (content.Item, bool) {
	_, it, ok := m.selected()
	return it, ok && m.focus != keys.Composer
}

func (m *Model) focusAndKeep() tea.Cmd {
	m.focus = keys.Composer
	return m.comp.focus()
}

// react toggles or changes the user's reaction on it.
func (m *Model) react(r *room, it content.Item, emoji string) tea.Cmd {
	m.usage[emoji]++
	b := m.builder(r)
	var mine *content.Reactor
	var mineKey string
	for _, g := range r.tl.Reactions(it.ID) {
		for _, w := range g.Who {
			if w.User == m.me {
				w := w
				mine, mineKey = &w, g.Key
			}
		}
	}
	var msg *content.Message
	var err error
	switch {
	case mine != nil && mineKey == emoji:
		msg, err = b.Unlike(mine.Reaction, it.Current)
	case mine != nil:
		msg, err = b.ChangeReaction(mine.Reaction, it.Current, emoji)
	default:
		msg, err = b.Reaction(it.Current, emoji)
	}
	if err != nil {
		m.setNotice("react: " + err.Error())
		return nil
	}
	return m.sendMsg(r, msg)
}

func (m *Model) unreact(r *room, it content.Item) tea.Cmd {
	for _, g := range r.tl.Reactions(it.ID) {
		for _, w := range g.Who {
			if w.User == m.me {
				msg, err := m.builder(r).Unlike(w.Reaction, it.Current)
				if err != nil {
					m.setNotice(err.Error())
					return nil
				}
				return m.sendMsg(r, msg)
			}
		}
	}
	m.setNotice("you have not reacted to it")
	return nil
}

// openThread shows it's thread, or starts a new one answering it.
func (m *Model) openThread(r *room, it content.Item) {
	r.tsel = -1 // selecting starts at the newest row (focusTimeline), as in the room
	r.syncMain()
	if t, ok := r.main.anchors[it.ID]; ok {
		r.thread, r.threadOf = t, content.MessageID{} // the thread it roots
	} else if it.Topic != "" {
		r.thread, r.threadOf = it.Topic, content.MessageID{}
	} else {
		var b [8]byte
		_, _ = rand.Read(b[:])
		r.thread, r.threadOf = "t-"+hex.EncodeToString(b[:]), it.Current
	}
	m.comp.reset()
	m.focus = keys.Composer
}

// previewOf is a message's text on one line, as the timeline's reply
// quotes show it: Markdown reduced to its visible text (it was the source,
// so a mention read "[@You](mimi://…)").
func previewOf(body *content.NestedPart, langs []string) string {
	return content.PreviewLine(&content.Message{Body: *body}, content.PreviewRunes, langs...)
}

func firstKey(km *keys.Keymap, ctx keys.Context, a keys.Action) string {
	if ks := km.Keys(ctx, a); len(ks) > 0 {
		return ks[0]
	}
	return "/" + string(a)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
