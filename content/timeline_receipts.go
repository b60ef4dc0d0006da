package content

// Receipts (draft-mahy-mimi-message-status-01): each member's latest status
// per message. A later report wins by hub order, so a report that arrives
// late (held, or backfilled) cannot undo a newer one.

import "sort"

func isStatusReport(m *Message) bool { return IsStatusUpdate(m) }

// applyReceipt records the report (so its ID is known) and folds each entry
// into the message it names, holding entries whose message has not arrived.
func (t *Timeline) applyReceipt(env *Envelope) (Outcome, error) {
	rep, err := env.Msg.StatusReport()
	if err != nil {
		return Refused, t.refuse(refusal(env, MessageID{}, RefuseBadReport, "%v", err))
	}
	_, r := t.newRecord(env, recReceipt)
	held, dropped := 0, 0
	for _, e := range rep {
		if t.statusForbidden(e.Status) {
			dropped++
			continue
		}
		hr := &heldReceipt{seq: env.Seq, member: r.sender, status: uint8(e.Status), report: env.ID}
		if ri, ok := t.ids.find(&t.recs, e.ID); ok {
			t.foldReceipt(hr, ri)
			continue
		}
		t.park(&heldItem{target: e.ID, receipt: hr})
		held++
	}
	if dropped > 0 {
		t.refuse(refusal(env, MessageID{}, RefuseForbiddenStatus, "%d of %d statuses not recorded: the room forbids sharing them", dropped, len(rep)))
	}
	if held > 0 && held == len(rep)-dropped {
		return Held, nil
	}
	return Applied, nil // entries whose message is missing wait in the holding area
}

// statusForbidden: delivery notifications or read receipts the room's
// StatusNotificationPolicy forbids.
func (t *Timeline) statusForbidden(s Status) bool {
	p := &t.opts.Policy
	return (s == StatusDelivered && p.DeliveryNotifications == PolicyForbidden) ||
		(s == StatusRead && p.ReadReceipts == PolicyForbidden)
}

// applyReceiptEntry runs a held entry once id arrived.
func (t *Timeline) applyReceiptEntry(hr *heldReceipt, id MessageID) {
	if ri, ok := t.ids.find(&t.recs, id); ok {
		t.foldReceipt(hr, ri)
		t.changed()
	}
}

// foldReceipt stores the status for the message that record ri belongs to.
// Slots are sorted by member, so an update is a binary search.
func (t *Timeline) foldReceipt(hr *heldReceipt, ri uint32) {
	h := t.recs.at(t.recs.at(ri).owner)
	x := h.extra()
	rs := x.receipts
	k := sort.Search(len(rs), func(k int) bool { return rs[k].member >= hr.member })
	if k < len(rs) && rs[k].member == hr.member {
		if hr.seq > rs[k].seq {
			rs[k].seq, rs[k].status = hr.seq, hr.status
		}
		return
	}
	rs = append(rs, receiptSlot{})
	copy(rs[k+1:], rs[k:])
	rs[k] = receiptSlot{seq: hr.seq, member: hr.member, status: hr.status}
	x.receipts = rs
}

// ReceiptState is one member's latest status for a message.
type ReceiptState struct {
	Member string
	Status Status
	Seq    uint64 // the report that set it
}

// Receipts returns each member's latest status for message id (any
// version's ID), ordered by member.
func (v View) Receipts(id MessageID) []ReceiptState {
	t := v.t
	ri, ok := t.ids.find(&t.recs, id)
	if !ok {
		return nil
	}
	h := t.recs.at(t.recs.at(ri).owner)
	if h.x == nil || len(h.x.receipts) == 0 {
		return nil
	}
	out := make([]ReceiptState, len(h.x.receipts))
	for i, s := range h.x.receipts {
		out[i] = ReceiptState{Member: t.names.str(s.member), Status: Status(s.status), Seq: s.seq}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Member < out[b].Member })
	return out
}

// ReceiptCount counts the members whose latest status for id is s.
func (v View) ReceiptCount(id MessageID, s Status) int {
	t := v.t
	ri, ok := t.ids.find(&t.recs, id)
	if !ok {
		return 0
	}
	h := t.recs.at(t.recs.at(ri).owner)
	n := 0
	if h.x != nil {
		for _, r := range h.x.receipts {
			if Status(r.status) == s {
				n++
			}
		}
	}
	return n
}

func (t *Timeline) Receipts(id MessageID) []ReceiptState {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.view().Receipts(id)
}
