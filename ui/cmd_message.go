package ui

// Commands on the selected message: reply, react, edit, delete, thread,
// copy, jump to the replied message, versions and receipts.

import (
	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/proto"
	"mimichat/render"
)

var messageCommands = []*command{
	{name: keys.Reply, args: "[text]", help: "reply to the selected message", target: targetMessage, run: runReply},
	{name: keys.React, args: "[emoji]", help: "react to the selected message (picker without an emoji)", target: targetMessage, run: runReact},
	{name: "unreact", help: "remove your reaction from the selected message", target: targetMessage,
		run: func(m *Model, c *call) tea.Cmd { return m.unreact(c.r, c.it) }},
	{name: keys.Edit, help: "edit the selected message (or your last one)", target: targetRoom, run: runEdit},
	{name: keys.Delete, help: "delete the selected message", target: targetMessage, may: deleteMessage, run: runDelete},
	{name: keys.OpenThread, help: "open the selected message's thread (or start one)", target: targetMessage,
		run: func(m *Model, c *call) tea.Cmd {
			m.openThread(c.r, c.it)
			return m.comp.focus()
		}},
	{name: keys.Copy, help: "copy the selected message's text (OSC 52)", target: targetMessage,
		run: func(m *Model, c *call) tea.Cmd {
			text := bodyText(&c.it.Body, m.opt.Languages)
			switch {
			case c.it.Deleted || c.it.Expired:
				m.setNotice("nothing to copy: the message is gone")
				return nil
			case text == "":
				m.setNotice("nothing to copy: the message has no text")
				return nil
			}
			m.setNotice("copied")
			return tea.SetClipboard(text)
		}},
	{name: keys.JumpParent, help: "select the message the selected one replies to", target: targetMessage, run: runJumpParent},
	{name: keys.Versions, help: "show the selected message's version history", target: targetMessage,
		run: func(m *Model, c *call) tea.Cmd { m.openVersions(c.r, c.it); return nil }},
	{name: keys.Receipts, help: "show who received and read the selected message", target: targetMessage,
		run: func(m *Model, c *call) tea.Cmd { m.openReceipts(c.r, c.it); return nil }},
}

// deleteMessage: anyone may delete their own message; another person's
// only a moderator or owner (content.DefaultRoomPolicy: CanDeleteOtherMessage).
// Receivers' timelines refuse any other delete, so sending it would do
// nothing visible: refuse it here, with the reason.
var deleteMessage = &capability{who: "others' messages: moderators and owners", min: proto.RoleMember,
	refuse: func(m *Model, c *call) string {
		if c.it.Sender == m.me {
			return ""
		}
		if m.myRole(c.r).Rank() >= proto.RoleModerator.Rank() {
			return ""
		}
		return "you cannot delete " + m.name(c.it.Sender) + "'s message: only moderators and owners can"
	}}

func runReply(m *Model, c *call) tea.Cmd {
	if c.arg != "" {
		msg, err := m.builder(c.r).Reply(c.it.Current, content.MarkdownPart(render.ReplaceShortcodes(c.arg)))
		if err != nil {
			m.setNotice(err.Error())
			return nil
		}
		return m.sendMsg(c.r, msg)
	}
	m.comp.reset()
	m.comp.replyTo = c.it.Current
	m.comp.replyTx = "Replying to " + m.name(c.it.Sender) + ": " + previewOf(&c.it.Body, m.opt.Languages)
	return m.focusAndKeep()
}

func runReact(m *Model, c *call) tea.Cmd {
	if c.arg != "" {
		e := c.arg
		if v, ok := render.EmojiByCode(c.arg); ok {
			e = v
		}
		return m.react(c.r, c.it, e)
	}
	m.openReactPicker(c.it)
	return nil
}

func runEdit(m *Model, _ *call) tea.Cmd {
	if it, ok := m.selectedOrNone(); ok {
		if it.Sender != m.me {
			m.setNotice("you can only edit your own messages")
			return nil
		}
		m.startEdit(it)
		return nil
	}
	m.editLast()
	return nil
}

func runDelete(m *Model, c *call) tea.Cmd {
	r, it := c.r, c.it
	q := "Delete this message?"
	if p := previewOf(&it.Body, m.opt.Languages); p != "" {
		q += " “" + render.SanitizeLine(p) + "”"
	}
	m.openConfirm(q, func() tea.Cmd {
		msg, err := m.builder(r).Delete(it.ID, &content.Message{TopicID: []byte(it.Topic)})
		if err != nil {
			m.setNotice(err.Error())
			return nil
		}
		// the message is gone: what the user types next is text, not
		// selection keys (a "t" would open a thread)
		m.focusComposer()
		return tea.Batch(m.sendMsg(r, msg), m.comp.focus())
	})
	return nil
}

func runJumpParent(m *Model, c *call) tea.Cmd {
	r, it := c.r, c.it
	if it.ReplyTo.IsZero() {
		m.setNotice("not a reply")
		return nil
	}
	if i, ok := r.tl.Index(it.ReplyTo); ok {
		r.syncMain()
		k, shown := r.main.row(i)
		if !shown { // the parent lives in a thread: show it there
			m.openThread(r, r.tl.At(i))
		} else {
			m.closeThread()
			r.sel = k
			m.revealSel(r)
		}
		m.focus = keys.Timeline
		m.comp.blur()
		return nil
	}
	m.setNotice("the earlier message is not loaded; scroll up to load more")
	return m.loadOlder(r)
}
