package history

import (
	"bytes"
	"fmt"

	"mimichat/content"
)

// Plan decides, in two passes over a room's hub-ordered log, what an export
// contains: Scan sees every item first (which messages were deleted or have
// expired, which belong to the thread), Filter then rewrites each item:
// deleted or expired content becomes a tombstone and its edit versions are
// left out, so an export never carries content the room already removed.
type Plan struct {
	Now    int64  // ms; absolute expiries before it are expired
	Since  int64  // ms; items before it are left out (0 = from the start)
	Thread []byte // topic ID; only that thread (nil = the whole room)

	deleted  map[content.MessageID]bool
	expired  map[content.MessageID]bool
	inThread map[content.MessageID]bool
	seen     map[content.MessageID]bool
	Report   *Report
}

// NewPlan starts a plan.
func NewPlan(now, since int64, thread []byte) *Plan {
	return &Plan{Now: now, Since: since, Thread: thread, deleted: map[content.MessageID]bool{},
		expired: map[content.MessageID]bool{}, inThread: map[content.MessageID]bool{}, seen: map[content.MessageID]bool{},
		Report: newReport("")}
}

func decoded(it *Item) *content.Message {
	if it.Msg == nil && it.IsMessage() {
		m, err := content.Decode(it.Raw)
		if err != nil {
			return nil
		}
		it.Msg = m
	}
	return it.Msg
}

// isDelete reports a replacement with a NullPart that is not an unlike.
func isDelete(m *content.Message) bool {
	return m.Replaces != nil && m.Body.Cardinality == content.NullPart && m.Body.Disposition != content.Reaction
}

// Scan is pass one.
func (p *Plan) Scan(it *Item) {
	m := decoded(it)
	if m == nil {
		return
	}
	if isDelete(m) {
		p.deleted[*m.Replaces] = true
	}
	if m.Replaces == nil && m.Expires != nil && !m.Expires.Relative && int64(m.Expires.Time)*1000 <= p.Now {
		p.expired[it.ID] = true
	}
	if p.Thread != nil && m.Replaces == nil && bytes.Equal(m.TopicID, p.Thread) {
		p.inThread[it.ID] = true
	}
}

// Filter is pass two: it returns the item to export and whether to keep it.
func (p *Plan) Filter(it Item) (Item, bool) {
	if it.Time < p.Since {
		return it, false
	}
	if it.Event != nil {
		return it, p.Thread == nil
	}
	m := decoded(&it)
	if m == nil {
		p.Report.Drop("undecodable messages in the log", 1)
		return it, false
	}
	if p.Thread != nil && !p.inThread[it.ID] && !p.related(m) {
		return it, false
	}
	if p.Since > 0 {
		for _, ref := range []*content.MessageID{m.Replaces, m.InReplyTo} {
			if ref != nil && !p.seen[*ref] {
				p.Report.Note("references to messages before the export's start", 1)
			}
		}
		p.seen[it.ID] = true
	}
	if m.Replaces == nil {
		switch {
		case p.deleted[it.ID]:
			return Item{Seq: it.Seq, Time: it.Time, Sender: it.Sender, ID: it.ID, Tombstone: Retracted}, true
		case p.expired[it.ID]:
			return Item{Seq: it.Seq, Time: it.Time, Sender: it.Sender, ID: it.ID, Tombstone: Expired}, true
		}
		if status, ok := placeholderStatus(m); ok {
			// An imported tombstone that no delete followed in the cache.
			return Item{Seq: it.Seq, Time: it.Time, Sender: it.Sender, ID: it.ID, Tombstone: status}, true
		}
		return it, true
	}
	if (p.deleted[*m.Replaces] || p.expired[*m.Replaces]) && !isDelete(m) {
		p.Report.Note("edit versions of deleted or expired messages left out", 1)
		return it, false
	}
	return it, true
}

func (p *Plan) related(m *content.Message) bool {
	for _, ref := range []*content.MessageID{m.Replaces, m.InReplyTo} {
		if ref != nil && p.inThread[*ref] {
			return true
		}
	}
	if content.IsStatusUpdate(m) {
		if rep, err := m.StatusReport(); err == nil {
			for _, e := range rep {
				if p.inThread[e.ID] {
					return true
				}
			}
		}
	}
	return false
}

// MembersOf lists the users an export must name as parties: every sender,
// actor and target, in order of first appearance.
func MembersOf(items []Item) []Member {
	seen := map[string]bool{}
	var out []Member
	add := func(u string) {
		if u != "" && !seen[u] {
			seen[u] = true
			out = append(out, Member{URI: u})
		}
	}
	for i := range items {
		add(items[i].Sender)
		if ev := items[i].Event; ev != nil {
			add(ev.Actor)
			add(ev.Target)
		}
	}
	return out
}

// Envelope turns a message item into what content.Timeline applies; a
// tombstone becomes its placeholder.
func (it *Item) Envelope() content.Envelope {
	m := it.Msg
	raw := it.Raw
	if it.Tombstone != NoTombstone {
		m = placeholder(it.Tombstone, it.Time)
		raw, _ = m.Encode()
	}
	return content.Envelope{Seq: it.Seq, HubTime: it.Time, Sender: it.Sender, ID: it.ID, Raw: raw, Msg: m}
}

// Numberer gives items without a hub sequence number the next one, so
// foreign histories apply in file order.
type Numberer struct{ last uint64 }

// Number sets it.Seq if zero.
func (n *Numberer) Number(it *Item) {
	if it.Seq == 0 {
		it.Seq = n.last + 1
	}
	if it.Event != nil {
		it.Event.Seq = it.Seq
	}
	n.last = max(n.last, it.Seq)
}

// ApplyTo feeds items to a timeline; duplicates (already known IDs) and
// other refusals are counted in the report, never fatal: merging an offered
// history into a live room must skip what the room already has.
func ApplyTo(tl *content.Timeline, items []Item, rep *Report) {
	var n Numberer
	for i := range items {
		it := &items[i]
		n.Number(it)
		if it.Event != nil {
			if err := tl.ApplyEvent(*it.Event); err != nil {
				rep.Note("room events the timeline refused", 1)
			}
			continue
		}
		out, err := tl.Apply(it.Envelope())
		if out == content.Refused {
			rep.Note("messages the timeline refused or already had ("+refusalReason(err)+")", 1)
		}
	}
}

func refusalReason(err error) string {
	if re, ok := err.(*content.RefusalError); ok {
		return fmt.Sprint(re.Refusal.Reason)
	}
	if err != nil {
		return err.Error()
	}
	return "refused"
}
