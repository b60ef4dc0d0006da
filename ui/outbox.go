package ui

// The user's messages on their way to the outbox: Update only queues them
// (session.SendQueued computes the ID and returns at once) and shows them
// as pending; the durable write happens on the session's writer goroutine,
// and a tea.Cmd waits for it to report a failure.

import (
	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/session"
)

// storedMsg reports an outbox write that failed (a successful one shows as
// the session's OutboxEvent).
type storedMsg struct {
	room string
	id   content.MessageID
	err  error
	// retry: the write was session.Retry's; the row is in the outbox
	retry bool
}

// waitStored waits, off the event loop, for q's write.
func waitStored(q *session.Queued) tea.Cmd {
	return func() tea.Msg {
		if _, err := q.Wait(); err != nil {
			return storedMsg{room: q.Item.Room, id: q.Item.ID, err: err}
		}
		return nil
	}
}

// sendMsg queues msg for the outbox and shows it at once as pending.
func (m *Model) sendMsg(r *room, msg *content.Message) tea.Cmd {
	q, err := m.s.SendQueued(r.id, msg)
	if err != nil {
		m.setNotice("cannot send: " + err.Error())
		return nil
	}
	m.onOutbox(q.Item)
	return waitStored(q)
}

// sendReport sends a status report (receipts) to room r.
func (m *Model) sendReport(r *room, rep content.StatusReport) tea.Cmd {
	body, err := content.StatusBody(rep)
	if err != nil {
		return nil
	}
	msg, err := m.builder(r).Message(body)
	if err != nil {
		return nil
	}
	q, err := m.s.SendQueued(r.id, msg)
	if err != nil {
		return nil
	}
	return waitStored(q)
}

// onStored marks a message whose outbox write failed: its row says so and
// /retry queues it again; a message without a row (a receipt, reaction,
// edit) gets a notice.
func (m *Model) onStored(msg storedMsg) {
	if msg.err == nil {
		return
	}
	if r, ok := m.byID[msg.room]; ok {
		for _, p := range r.pending {
			if p.item.ID == msg.id {
				p.item.State, p.item.Err = session.Failed, "not saved: "+msg.err.Error()
				p.unsaved = !msg.retry
				r.pendingVer++
				return
			}
		}
	}
	m.setNotice("cannot send: " + msg.err.Error())
}

// retryFailed puts room r's failed messages back on their way: a message
// the relay refused goes back to Pending in the outbox (session.Retry, in a
// tea.Cmd: it writes the store), one that was never written is queued again.
func (m *Model) retryFailed(r *room) tea.Cmd {
	var cmds []tea.Cmd
	var inOutbox []content.MessageID
	n := 0
	for _, p := range r.pending {
		if p.item.State != session.Failed {
			continue
		}
		if p.unsaved {
			q, err := m.s.SendRawQueued(r.id, p.item.Raw)
			if err != nil {
				continue
			}
			p.unsaved = false
			cmds = append(cmds, waitStored(q))
		} else {
			inOutbox = append(inOutbox, p.item.ID)
		}
		p.item.State, p.item.Err = session.Pending, ""
		r.pendingVer++
		n++
	}
	if len(inOutbox) > 0 {
		s, room := m.s, r.id
		cmds = append(cmds, func() tea.Msg {
			for _, id := range inOutbox {
				if err := s.Retry(id); err != nil {
					return storedMsg{room: room, id: id, err: err, retry: true}
				}
			}
			return nil
		})
	}
	m.setNotice("retrying " + itoa(n) + " message(s)")
	return tea.Batch(cmds...)
}
