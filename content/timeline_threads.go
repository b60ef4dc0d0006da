package content

// Replies and topics. A reply names one specific version; a parent that has
// not arrived is legitimate (it may predate the local user's join) and is
// linked if it arrives later. Loops can only appear at such a late link
// (an honest ID is a hash, so a new message cannot be named before it
// exists), so that is the only place the chain is walked.

import (
	"bytes"
	"sort"
)

// linkParent binds reply i to the version its inReplyTo names.
func (t *Timeline) linkParent(i uint32, r *record, irt *MessageID) {
	if irt == nil {
		return
	}
	if p, ok := t.resolve(irt); ok {
		r.parent = p + 1
		return
	}
	r.flags |= fUnknownParent
	t.unknownParent[i] = *irt
	t.waitingReply[*irt] = append(t.waitingReply[*irt], i)
}

// replyArrived links the replies that were waiting for id (record i).
func (t *Timeline) replyArrived(i uint32, id MessageID) {
	ws, ok := t.waitingReply[id]
	if !ok {
		return
	}
	delete(t.waitingReply, id)
	for _, w := range ws {
		r := t.recs.at(w)
		r.parent = i + 1
		r.flags &^= fUnknownParent
		delete(t.unknownParent, w)
		t.markLoop(w)
	}
}

// markLoop walks the inReplyTo chain from head w; if it comes back to w,
// every head on the cycle is flagged.
func (t *Timeline) markLoop(w uint32) {
	cur := w
	for steps := uint32(0); steps <= t.recs.n; steps++ {
		r := t.recs.at(cur)
		if r.parent == 0 {
			return
		}
		cur = t.recs.at(r.parent - 1).owner
		if cur == w {
			for c := w; ; {
				cr := t.recs.at(c)
				cr.flags |= fLoop
				c = t.recs.at(cr.parent - 1).owner
				if c == w {
					return
				}
			}
		}
		if t.recs.at(cur).flags&fLoop != 0 {
			return // joins a known cycle without being on it
		}
	}
}

// thread is the ordered membership of one topicId: by hub timestamp, ties
// broken by the lexically lower message ID (content-08 §5.11).
type thread struct {
	members []uint32
}

func (t *Timeline) threadLess(a, b uint32) bool {
	ra, rb := t.recs.at(a), t.recs.at(b)
	if ra.hubTime != rb.hubTime {
		return ra.hubTime < rb.hubTime
	}
	return bytes.Compare(ra.id[:], rb.id[:]) < 0
}

func (t *Timeline) threadAdd(topic, i uint32) {
	th := t.threads[topic]
	if th == nil {
		th = &thread{}
		t.threads[topic] = th
	}
	n := len(th.members)
	if n == 0 || t.threadLess(th.members[n-1], i) {
		th.members = append(th.members, i)
		return
	}
	k := sort.Search(n, func(k int) bool { return t.threadLess(i, th.members[k]) })
	th.members = append(th.members, 0)
	copy(th.members[k+1:], th.members[k:])
	th.members[k] = i
}

func (t *Timeline) threadRemove(topic, i uint32) {
	th := t.threads[topic]
	if th == nil {
		return
	}
	for k, m := range th.members {
		if m == i {
			th.members = append(th.members[:k], th.members[k+1:]...)
			break
		}
	}
	if len(th.members) == 0 {
		delete(t.threads, topic)
	}
}

// threadMove moves head i from topic from to topic to (an authorized topic
// edit, or one taken back by a late delete).
func (t *Timeline) threadMove(i, from, to uint32) {
	if from != 0 {
		t.threadRemove(from, i)
	}
	if to != 0 {
		t.threadAdd(to, i)
	}
}

// topicBefore is the topic in force just before seq: that of the latest
// version (not a delete) ordered before it. The head keeps its original
// topic; each edit record keeps its own.
func (t *Timeline) topicBefore(hi uint32, seq uint64) uint32 {
	h := t.recs.at(hi)
	if h.x != nil {
		for k := len(h.x.versions) - 1; k >= 0; k-- {
			if v := t.recs.at(h.x.versions[k]); v.seq < seq && v.kind == recEdit {
				return v.topic
			}
		}
	}
	return h.topic
}

// currentTopic is the topic of the newest version: the thread the message
// is listed in.
func (t *Timeline) currentTopic(hi uint32) uint32 { return t.topicBefore(hi, ^uint64(0)) }
