package content

// The holding area: a reaction, edit, delete, unlike or receipt entry whose
// target has not arrived is kept here (bounded, oldest evicted first) and
// executed when its target arrives. Released items run in hub order and are
// authorized at their own sequence number, so the result is the one in-order
// execution would have given.

import "sort"

type heldItem struct {
	target  MessageID
	env     Envelope     // a held message (reaction or replacement)
	receipt *heldReceipt // or one entry of a status report
	done    bool
}

type heldReceipt struct {
	seq    uint64
	member uint32
	status uint8
	report MessageID
}

func (h *heldItem) seq() uint64 {
	if h.receipt != nil {
		return h.receipt.seq
	}
	return h.env.Seq
}

type heldArea struct {
	byTarget map[MessageID][]*heldItem
	fifo     []*heldItem // arrival order, for eviction; may hold done items
	live     int
	arrivals []MessageID // IDs that arrived and may release items
}

// arrived notes that id now exists; drainReleased runs what waited for it.
func (h *heldArea) arrived(id MessageID) {
	if _, ok := h.byTarget[id]; ok {
		h.arrivals = append(h.arrivals, id)
	}
}

// hold parks env until target arrives.
func (t *Timeline) hold(env *Envelope, target MessageID) (Outcome, error) {
	t.park(&heldItem{target: target, env: *env})
	return Held, nil
}

func (t *Timeline) park(it *heldItem) {
	h := &t.held
	h.byTarget[it.target] = append(h.byTarget[it.target], it)
	h.fifo = append(h.fifo, it)
	h.live++
	for h.live > t.opts.MaxHeld {
		t.evictOldest()
	}
	t.changed()
}

func (t *Timeline) evictOldest() {
	h := &t.held
	for len(h.fifo) > 0 {
		it := h.fifo[0]
		h.fifo[0] = nil
		h.fifo = h.fifo[1:]
		if it.done {
			continue
		}
		it.done = true
		h.live--
		list := h.byTarget[it.target]
		for k, x := range list {
			if x == it {
				list = append(list[:k], list[k+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(h.byTarget, it.target)
		} else {
			h.byTarget[it.target] = list
		}
		r := Refusal{Seq: it.seq(), Target: it.target, Reason: RefuseHeldTooLong,
			Detail: "holding area full: target never arrived"}
		if it.receipt != nil {
			r.ID, r.Sender = it.receipt.report, t.names.str(it.receipt.member)
		} else {
			r.ID, r.Sender = it.env.ID, it.env.Sender
		}
		t.refuse(r)
		return
	}
}

// drainReleased executes held items whose targets arrived, including items
// released by those in turn.
func (t *Timeline) drainReleased() {
	h := &t.held
	for len(h.arrivals) > 0 {
		id := h.arrivals[0]
		h.arrivals = h.arrivals[1:]
		items := h.byTarget[id]
		delete(h.byTarget, id)
		sort.SliceStable(items, func(a, b int) bool { return items[a].seq() < items[b].seq() })
		for _, it := range items {
			if it.done {
				continue
			}
			it.done = true
			h.live--
			if it.receipt != nil {
				t.applyReceiptEntry(it.receipt, id)
				continue
			}
			env := it.env
			t.applyLocked(&env)
		}
	}
	if len(h.fifo) > 2*h.live+64 { // drop done items so fifo stays O(live)
		keep := h.fifo[:0]
		for _, it := range h.fifo {
			if !it.done {
				keep = append(keep, it)
			}
		}
		clear(h.fifo[len(keep):])
		h.fifo = keep
	}
}

// HeldCount returns how many items wait for a target.
func (t *Timeline) HeldCount() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.held.live
}
