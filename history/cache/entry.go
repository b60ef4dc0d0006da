package cache

import (
	"time"

	"mimichat/content"
	"mimichat/history"
	"mimichat/proto"
	"mimichat/session"
)

// ItemFromEntry converts a cached entry; ok is false for room operations
// the timeline has no counterpart for (history and join policy) and for a
// message this device could not decrypt (it has no bytes to export).
func ItemFromEntry(e *session.Entry) (history.Item, bool) {
	it := history.Item{Seq: e.Seq, Time: e.Time.UnixMilli(), Sender: e.Sender}
	if e.IsMessage() && e.Undecryptable != "" {
		return it, false
	}
	if e.IsMessage() {
		it.ID, it.Raw = e.ID, e.Raw
		return it, true
	}
	ev, ok := e.TimelineEvent()
	if !ok {
		return it, false
	}
	it.Event = &ev
	return it, true
}

// EntryFromItem is the inverse of ItemFromEntry for room (seq given).
func EntryFromItem(room string, seq uint64, it *history.Item) session.Entry {
	e := session.Entry{Room: room, Seq: seq, Time: time.UnixMilli(it.Time).UTC(), Sender: it.Sender}
	if ev := it.Event; ev != nil {
		op, _ := session.OpKind(ev.Kind)
		e.Kind, e.Sender, e.Target, e.Role, e.Value = op, ev.Actor, ev.Target, session.ProtoRole(ev.Role), ev.Text
		if ev.Kind == content.EventJoin && ev.Actor != ev.Target {
			// Joined by another member: the closest hub operation is an invite
			// accepted at once; the timeline shows a join either way.
			e.Kind, e.Sender = proto.KindJoin, ev.Target
		}
		return e
	}
	env := it.Envelope()
	e.Kind, e.ID, e.Raw = proto.KindMessage, it.ID, env.Raw
	return e
}
