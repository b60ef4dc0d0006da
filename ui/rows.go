package ui

import (
	"strings"
	"time"

	"mimichat/content"
	"mimichat/render"
	"mimichat/session"
)

// rowOf describes timeline item it for the renderer. v is the room's view,
// read under its lock for the whole frame.
func (m *Model) rowOf(v content.View, it content.Item, inThread bool) render.Message {
	rm := render.Message{ID: it.ID, Current: it.Current, Sender: it.Sender, Name: m.name(it.Sender),
		Time: time.UnixMilli(it.HubTime), Languages: m.opt.Languages, InThread: inThread, People: m.people}
	switch it.Kind {
	case content.ItemEvent:
		rm.Kind = render.RowEvent
		rm.Text = m.eventText(it.Event)
		return rm
	case content.ItemKnock:
		rm.Kind = render.RowKnock
		return rm
	}
	if it.Expired {
		rm.Kind = render.RowHidden // expiring messages vanish on time
		return rm
	}
	if m.offerRow(&rm, it) {
		return rm
	}
	rm.Edited, rm.Deleted, rm.Expired, rm.Mention = it.Edited, it.Deleted, it.Expired, it.Mention
	if it.Deleted && it.DeletedBy != "" && it.DeletedBy != it.Sender {
		rm.DeletedBy = m.name(it.DeletedBy)
	}
	if !it.Deleted && !it.Expired {
		body := it.Body
		rm.Body = &body
		m.inlineImages(&rm, it.Current, &body)
	}
	if !it.ReplyTo.IsZero() {
		p := v.Parent(it.ID)
		q := &render.Quote{Author: m.name(p.Author), Text: p.Text}
		switch p.State {
		case content.ParentDeleted:
			q.State = render.QuoteDeleted
		case content.ParentExpired:
			q.State = render.QuoteExpired
		case content.ParentUnknown:
			q.State = render.QuoteUnknown
		}
		if p.State != content.ParentNone {
			rm.Quote = q
		}
	}
	if it.Reactions > 0 && !it.Deleted {
		for _, g := range v.Reactions(it.ID) {
			ch := render.Chip{Key: g.Key, Count: len(g.Who)}
			for _, w := range g.Who {
				if w.User == m.me {
					ch.Mine = true
				}
			}
			rm.Reactions = append(rm.Reactions, ch)
		}
	}
	if at, ok := v.ExpiresAt(it.ID); ok && !it.Deleted && !it.Expired {
		rm.ExpiresIn = time.UnixMilli(at).Sub(m.now())
		if rm.ExpiresIn <= 0 {
			rm.ExpiresIn = time.Millisecond
		}
	}
	if it.Sender == m.me && !it.Deleted && !it.Expired {
		rm.Delivery = render.DeliverySent
		if n := v.ReceiptCount(it.ID, content.StatusRead); n > 0 {
			rm.Delivery, rm.ReadBy = render.DeliveryRead, n
		} else if v.ReceiptCount(it.ID, content.StatusDelivered) > 0 {
			rm.Delivery = render.DeliveryDelivered
		}
	}
	return rm
}

// pendingRow describes one of the user's unacknowledged messages.
func (m *Model) pendingRow(v content.View, p *pendingMsg) render.Message {
	rm := render.Message{ID: p.item.ID, Current: p.item.ID, Sender: m.me, Name: m.name(m.me),
		Time: p.item.Created.Local(), Languages: m.opt.Languages, Body: &p.msg.Body, Delivery: render.DeliveryPending, People: m.people}
	switch p.item.State {
	case session.Failed:
		rm.Delivery, rm.Err = render.DeliveryFailed, p.item.Err
	case session.Acked:
		rm.Delivery = render.DeliverySent
	}
	if p.msg.InReplyTo != nil {
		rm.Quote = &render.Quote{State: render.QuoteUnknown}
		if it, ok := v.Get(*p.msg.InReplyTo); ok {
			switch {
			case it.Deleted:
				rm.Quote.State = render.QuoteDeleted
			case it.Expired:
				rm.Quote.State = render.QuoteExpired
			default:
				rm.Quote = &render.Quote{State: render.QuoteKnown, Author: m.name(it.Sender), Text: previewOf(&it.Body, m.opt.Languages)}
			}
		}
	}
	return rm
}

// reasonSuffix is ": reason" for a kick or ban that gave one.
func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

func (m *Model) eventText(ev content.RoomEvent) string {
	actor, target := m.name(ev.Actor), m.name(ev.Target)
	switch ev.Kind {
	case content.EventJoin:
		if ev.Role == content.RoleOwner {
			return target + " created the room" // only the creator joins as owner
		}
		return target + " joined"
	case content.EventLeave:
		return target + " left"
	case content.EventInvite:
		return actor + " invited " + target
	case content.EventKick:
		return actor + " removed " + target + reasonSuffix(ev.Text)
	case content.EventBan:
		return actor + " banned " + target + reasonSuffix(ev.Text)
	case content.EventUnban:
		return actor + " unbanned " + target
	case content.EventRoleChange:
		return actor + " made " + target + " " + ev.Role.String()
	case content.EventRoomName:
		return actor + " renamed the room to " + ev.Text
	case content.EventRoomTopic:
		return actor + " set the topic: " + ev.Text
	case content.EventRoomAvatar:
		return actor + " changed the room picture"
	case content.EventReadReceipts:
		if ev.Text == content.ReceiptsOff {
			return actor + " turned read receipts off"
		}
		return actor + " turned read receipts on"
	case content.EventUndecryptable:
		if why, ok := strings.CutPrefix(ev.Text, "refused: "); ok {
			return "⚠ refused a message from " + actor + ": " + why
		}
		return "⚠ cannot decrypt a message from " + actor + ": " + ev.Text
	case content.EventSecurityNotice:
		return "🔒 " + actor + " " + ev.Text
	}
	return actor + " changed the room"
}
