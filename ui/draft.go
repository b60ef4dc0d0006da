package ui

import "mimichat/content"

// roomDraft is what the composer held for a room while another room was
// on screen: the text, and the reply or edit it was writing. Message IDs
// belong to one room; a reply or edit carried to another room sent there
// a reply to (or an edit of) a message it does not hold.
type roomDraft struct {
	text    string
	replyTo content.MessageID
	replyTx string
	editing content.MessageID
	editIt  content.Item
}

// swapDraft keeps the composer's draft with from and gives the composer
// to's, as weechat, gomuks and Element keep one input per room. The
// completion list closes (it was for from's members).
func (m *Model) swapDraft(from, to *room) {
	if from == to {
		m.comp.comp = completion{}
		return
	}
	if from != nil {
		c := &m.comp
		from.draft = roomDraft{text: c.value(), replyTo: c.replyTo, replyTx: c.replyTx, editing: c.editing, editIt: c.editIt}
	}
	m.comp.reset()
	if to == nil {
		return
	}
	d := to.draft
	to.draft = roomDraft{}
	if d.text != "" {
		m.comp.setValue(d.text)
	}
	m.comp.replyTo, m.comp.replyTx = d.replyTo, d.replyTx
	m.comp.editing, m.comp.editIt = d.editing, d.editIt
}

// editGone reports whether the message with ID id, being edited, was
// deleted or expired since the edit began (one still in the outbox is not
// in the timeline yet, and not gone).
func (r *room) editGone(id content.MessageID) bool {
	gone := false
	r.tl.Read(func(v content.View) {
		if it, ok := v.Get(id); ok {
			gone = it.Deleted || it.Expired
		}
	})
	return gone
}
