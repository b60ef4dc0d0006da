package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/render"
)

type opMsg struct {
	what string
	err  error
}

// send sends the composer's text (or runs its /command).
func (m *Model) send() tea.Cmd {
	text := strings.TrimRight(m.comp.value(), " \n")
	r := m.current()
	if text == "" {
		return nil
	}
	if strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//") {
		m.comp.reset()
		m.comp.remember(text)
		return m.runCommand(text)
	}
	if r == nil { // the text stays in the composer, to send once a room is open
		m.setNotice("no room to send to: /join ROOM-URI first")
		return nil
	}
	if r.removed != "" {
		m.setRefusal(r.removed)
		return nil
	}
	if !m.comp.editing.IsZero() && r.editGone(m.comp.editing) {
		// the edit would go nowhere (the timeline ignores an edit of a
		// deleted message) and the text with it: keep it to send anew
		m.comp.editing, m.comp.editIt = content.MessageID{}, content.Item{}
		m.setRefusal("the message you were editing is gone (deleted or expired): your text stays, enter sends it as a new message")
		return nil
	}
	text = strings.TrimPrefix(text, "/")
	md := render.ReplaceShortcodes(text)
	b := m.builder(r)
	var opts []content.Option
	topic := r.thread
	if r.thread != "" && !r.threadOf.IsZero() && topic != "" {
		if _, ok := r.tl.Thread(topic); !ok {
			opts = append(opts, content.InReplyTo(r.threadOf))
		}
	}
	if topic != "" {
		opts = append(opts, content.InTopic([]byte(topic)))
	}
	var msg *content.Message
	var err error
	switch {
	case !m.comp.editing.IsZero():
		it := m.comp.editIt
		prev := &content.Message{TopicID: []byte(it.Topic)}
		if !it.ReplyTo.IsZero() {
			rt := it.ReplyTo
			prev.InReplyTo = &rt
		}
		msg, err = b.Edit(it.ID, prev, content.MarkdownPart(md))
	case !m.comp.replyTo.IsZero():
		msg, err = b.Reply(m.comp.replyTo, content.MarkdownPart(md), opts...)
	default:
		msg, err = b.Markdown(md, opts...)
	}
	if err != nil {
		m.setNotice("cannot send: " + err.Error())
		return nil
	}
	m.comp.reset()
	m.comp.remember(text)
	_ = m.s.Typing(r.id, false)
	delete(m.typingSent, r.id)
	r.bottom, r.skip, r.sel = -1, 0, -1
	return m.sendMsg(r, msg)
}
