package content

// Replacements (edits, deletes, changed reactions, unlikes) and reactions.
// A replacement names the FIRST version of its target (content-08 §5.5);
// it is authorized against the room policy at the replacement's own place
// in hub order, and must not change anything but the body (§9.3).

import (
	"bytes"
	"fmt"
)

// replaceOp is what a message with replaces does.
type replaceOp uint8

const (
	opEdit replaceOp = iota
	opDelete
	opChangeReaction
	opUnlike
)

var opNames = [...]string{"edit", "delete", "reaction change", "unlike"}

func classifyReplace(b *NestedPart) replaceOp {
	switch {
	case b.Cardinality == NullPart && b.Disposition == Reaction:
		return opUnlike
	case b.Cardinality == NullPart:
		return opDelete
	case isReactionBody(b):
		return opChangeReaction
	}
	return opEdit
}

// isReactionBody: a reaction part, or a processAll MultiPart whose parts are
// all reactions (vector 13).
func isReactionBody(b *NestedPart) bool {
	if b.Cardinality == NullPart {
		return false
	}
	if b.Disposition == Reaction {
		return true
	}
	if b.Cardinality != Multi || b.Semantics != ProcessAll {
		return false
	}
	for i := range b.Parts {
		if !isReactionBody(&b.Parts[i]) {
			return false
		}
	}
	return true
}

var kindNames = [...]string{"message", "knock", "reaction", "edit", "delete", "reaction change", "unlike", "status report"}

func (t *Timeline) applyReplace(env *Envelope) (Outcome, error) {
	m := env.Msg
	target := *m.Replaces
	ti, ok := t.resolve(m.Replaces)
	if !ok {
		return t.hold(env, target)
	}
	tr := t.recs.at(ti)
	op := classifyReplace(&m.Body)
	if tr.owner != ti {
		return Refused, t.refuse(refusal(env, target, RefuseNotFirstVersion,
			"%s names a later version; replaces must name the first version %s", opNames[op], t.recs.at(tr.owner).id))
	}
	wantReaction := op == opUnlike || op == opChangeReaction
	isMessage := tr.kind == recMessage || tr.kind == recKnock
	if (wantReaction && tr.kind != recReaction) || (!wantReaction && !isMessage) {
		return Refused, t.refuse(refusal(env, target, RefuseKindMismatch, "%s of a %s", opNames[op], kindNames[tr.kind]))
	}
	if env.Seq <= tr.seq {
		return Refused, t.refuse(refusal(env, target, RefuseBeforeOriginal, "%s at seq %d precedes the original at seq %d", opNames[op], env.Seq, tr.seq))
	}
	if err := t.authorize(env, tr, op); err != nil {
		return Refused, err
	}
	// Checks that do not depend on other replacements come first, so the
	// reason is the same whatever order replacements arrive in.
	if op == opEdit || op == opChangeReaction {
		if err := t.checkFields(env, ti, tr, op); err != nil {
			return Refused, err
		}
	}
	if tr.flags&fDeleted != 0 {
		del := t.recs.at(tr.x.versions[len(tr.x.versions)-1])
		if env.Seq > del.seq {
			return Refused, t.refuse(refusal(env, target, RefuseAfterDelete, "%s of a message %s at seq %d", opNames[op], opNames[classifyDeleted(del)], del.seq))
		}
		if op == opDelete || op == opUnlike {
			// An earlier delete arrived late: it is the one in force, and the
			// later one is refused as in-order execution would have.
			tr.x.versions = tr.x.versions[:len(tr.x.versions)-1]
			tr.flags &^= fDeleted
			t.refuseVersion(del, tr.id, opNames[classifyDeleted(del)], env.Seq)
		}
	}
	kinds := [...]recKind{opEdit: recEdit, opDelete: recDelete, opChangeReaction: recReactionChange, opUnlike: recUnlike}
	vi, vr := t.newRecord(env, kinds[op])
	vr.owner = ti
	if op == opChangeReaction {
		if p, ok := t.resolve(m.InReplyTo); ok {
			vr.parent = p + 1
		} else {
			vr.parent = tr.parent
		}
	}
	wasMention := tr.flags&fMention != 0
	oldTopic := t.currentTopic(ti)
	x := tr.extra()
	switch {
	case op == opDelete || op == opUnlike:
		keep := x.versions[:0]
		for _, v := range x.versions {
			if r := t.recs.at(v); r.seq > env.Seq {
				t.refuseVersion(r, tr.id, opNames[classifyRecord(r)], env.Seq)
			} else {
				keep = append(keep, v)
			}
		}
		x.versions = append(keep, vi)
		tr.flags |= fDeleted
		if op == opDelete {
			tr.flags &^= fMention
			clearBody(tr)
			for _, v := range x.versions {
				clearBody(t.recs.at(v))
			}
			t.uncount(tr)
		}
	default:
		x.versions = insertBySeq(t, x.versions, vi, tr.flags&fDeleted != 0)
		if tr.flags&(fDeleted|fExpired) != 0 {
			clearBody(vr) // a tombstone never shows content again
		}
	}
	if tr.kind == recMessage {
		if nt := t.currentTopic(ti); nt != oldTopic {
			t.threadMove(ti, oldTopic, nt)
		}
	}
	if op == opEdit {
		t.refreshMention(ti, tr, wasMention)
	}
	return Applied, nil
}

// refuseVersion takes back a version that turned out to follow a delete at
// seq delSeq (it arrived before the delete did).
func (t *Timeline) refuseVersion(r *record, target MessageID, what string, delSeq uint64) {
	t.refuse(Refusal{Seq: r.seq, ID: r.id, Sender: t.names.str(r.sender), Target: target, Reason: RefuseAfterDelete,
		Detail: fmt.Sprintf("%s of a message deleted at seq %d", what, delSeq)})
}

func classifyRecord(r *record) replaceOp {
	switch r.kind {
	case recDelete:
		return opDelete
	case recUnlike:
		return opUnlike
	case recReactionChange:
		return opChangeReaction
	}
	return opEdit
}

func classifyDeleted(r *record) replaceOp {
	if r.kind == recUnlike {
		return opUnlike
	}
	return opDelete
}

// insertBySeq inserts v into versions ordered by seq; a trailing delete
// stays last (keepLast).
func insertBySeq(t *Timeline, vs []uint32, v uint32, keepLast bool) []uint32 {
	seq := t.recs.at(v).seq
	end := len(vs)
	if keepLast {
		end--
	}
	i := end
	for i > 0 && t.recs.at(vs[i-1]).seq > seq {
		i--
	}
	vs = append(vs, 0)
	copy(vs[i+1:], vs[i:])
	vs[i] = v
	return vs
}

// authorize applies room-policy-03 message capabilities at env.Seq.
func (t *Timeline) authorize(env *Envelope, tr *record, op replaceOp) error {
	sender, known := t.names.lookup(env.Sender)
	own := known && sender == tr.sender
	var need Capability
	switch op {
	case opEdit:
		if !own {
			return t.refuse(refusal(env, tr.id, RefuseUnauthorized, "only the original sender %s may edit a message; room policy has no capability to edit another user's text", t.names.str(tr.sender)))
		}
		need = CanEditOwnMessage
	case opChangeReaction:
		if !own {
			return t.refuse(refusal(env, tr.id, RefuseUnauthorized, "only %s may change their own reaction", t.names.str(tr.sender)))
		}
		need = CanEditReaction
	case opDelete:
		need = CanDeleteOwnMessage
		if !own {
			need = CanDeleteOtherMessage
		}
	case opUnlike:
		need = CanDeleteOwnReaction
		if !own {
			need = CanDeleteOtherReaction
		}
	}
	caps := t.opts.Policy.Roles[t.opts.Policy.DefaultRole]
	role := t.opts.Policy.DefaultRole
	if known {
		role = t.roleAt(sender, env.Seq)
		caps = t.opts.Policy.Roles[role]
	}
	if !caps.Has(need) {
		return t.refuse(refusal(env, tr.id, RefuseUnauthorized, "%s (role %s) may not %s a message of %s: needs %s",
			env.Sender, role, opNames[op], t.names.str(tr.sender), capName(need)))
	}
	return nil
}

func capName(c Capability) string {
	names := map[Capability]string{CanEditReaction: "canEditReaction", CanDeleteOwnReaction: "canDeleteOwnReaction",
		CanDeleteOtherReaction: "canDeleteOtherReaction", CanEditOwnMessage: "canEditOwnMessage",
		CanDeleteOwnMessage: "canDeleteOwnMessage", CanDeleteOtherMessage: "canDeleteOtherMessage", CanEditOwnTopic: "canEditOwnTopic"}
	return names[c]
}

// checkFields: an edit may change only the body (and the topic, with
// canEditOwnTopic); a changed reaction must stay on the same message.
func (t *Timeline) checkFields(env *Envelope, ti uint32, tr *record, op replaceOp) error {
	m := env.Msg
	if !t.sameRelation(ti, tr, m.InReplyTo, op == opChangeReaction) {
		return t.refuse(refusal(env, tr.id, RefuseChangesFields, "%s changes inReplyTo", opNames[op]))
	}
	if op == opChangeReaction {
		return nil
	}
	// Compare after the room's expiry policy, as the original was stored.
	has, rel, at := t.policyExpiry(m.Expires, tr.hubTime)
	if has != (tr.flags&fHasExpiry != 0) || (has && (rel != (tr.flags&fRelExpiry != 0) || at != tr.expires)) {
		return t.refuse(refusal(env, tr.id, RefuseChangesFields, "edit changes expires"))
	}
	if t.topicOf(m) != t.topicBefore(ti, env.Seq) {
		sender, _ := t.names.lookup(env.Sender)
		if !t.capsAt(sender, env.Seq).Has(CanEditOwnTopic) {
			return t.refuse(refusal(env, tr.id, RefuseChangesFields, "edit changes topicId without canEditOwnTopic"))
		}
	}
	return nil
}

// sameRelation reports whether inReplyTo names the same message as the
// original's inReplyTo (any version of it counts as the same). A changed
// reaction may leave inReplyTo null.
func (t *Timeline) sameRelation(ti uint32, tr *record, irt *MessageID, lenient bool) bool {
	var orig MessageID
	switch {
	case tr.parent != 0:
		orig = t.recs.at(tr.parent - 1).id
	case tr.flags&fUnknownParent != 0:
		orig = t.unknownParent[ti]
	}
	if irt == nil {
		return orig.IsZero() || lenient
	}
	if orig.IsZero() {
		return false
	}
	if *irt == orig {
		return true
	}
	a, okA := t.resolve(irt)
	b, okB := t.resolve(&orig)
	return okA && okB && t.recs.at(a).owner == t.recs.at(b).owner
}

// topicOf returns the interned topic+1 of m (0 = no topic).
func (t *Timeline) topicOf(m *Message) uint32 {
	if len(m.TopicID) == 0 {
		return 0
	}
	return t.strs.ofBytes(m.TopicID) + 1
}

// applyReaction binds a reaction to the version it names.
func (t *Timeline) applyReaction(env *Envelope) (Outcome, error) {
	m := env.Msg
	vi, ok := t.resolve(m.InReplyTo)
	if !ok {
		return t.hold(env, *m.InReplyTo)
	}
	v := t.recs.at(vi)
	hi := v.owner
	h := t.recs.at(hi)
	if h.kind != recMessage && h.kind != recKnock {
		return Refused, t.refuse(refusal(env, *m.InReplyTo, RefuseKindMismatch, "reaction to a %s", kindNames[h.kind]))
	}
	if env.Seq <= v.seq {
		return Refused, t.refuse(refusal(env, *m.InReplyTo, RefuseBeforeOriginal, "reaction at seq %d precedes its target at seq %d", env.Seq, v.seq))
	}
	ri, r := t.newRecord(env, recReaction)
	r.parent = vi + 1
	x := t.recs.at(hi).extra()
	x.reactions = insertBySeq(t, x.reactions, ri, false)
	return Applied, nil
}

// refreshMention recomputes whether head h's current version mentions the
// local user and fixes the counters.
func (t *Timeline) refreshMention(hi uint32, h *record, was bool) {
	now := h.flags&(fDeleted|fExpired) == 0 && t.mentionsLocal(t.recs.at(t.current(hi)))
	if now == was {
		return
	}
	if now {
		h.flags |= fMention
	} else {
		h.flags &^= fMention
	}
	if h.flags&fUnread == 0 {
		return
	}
	if now && h.flags&fMentionUnread == 0 {
		h.flags |= fMentionUnread
		t.mentions++
	} else if !now && h.flags&fMentionUnread != 0 {
		h.flags &^= fMentionUnread
		t.mentions--
	}
}

// mentionsLocal looks for a link to the local user's URI in the text parts
// (Markdown link target, autolink, or HTML href), content-08 §9.6.
func (t *Timeline) mentionsLocal(r *record) bool {
	if t.local == 0 {
		return false
	}
	uri := t.names.str(t.local)
	if r.full != nil {
		found := false
		var walk func(p *NestedPart)
		walk = func(p *NestedPart) {
			if found {
				return
			}
			if p.Cardinality == Single && (mentionIn(p.Content, uri) || t.highlights(p.Content)) {
				found = true
			}
			for i := range p.Parts {
				walk(&p.Parts[i])
			}
		}
		walk(&r.full.Body)
		return found
	}
	return r.card == Single && (mentionIn(r.content, uri) || t.highlights(r.content))
}

// highlights reports whether content holds a highlight word
// (TimelineOptions.Highlight).
func (t *Timeline) highlights(content []byte) bool {
	return t.opts.Highlight != nil && t.opts.Highlight(content)
}

func mentionIn(content []byte, uri string) bool {
	for off := 0; ; {
		i := bytes.Index(content[off:], []byte(uri))
		if i < 0 {
			return false
		}
		i += off
		end := i + len(uri)
		if i > 0 && end < len(content) {
			before, after := content[i-1], content[end]
			if (before == '(' && after == ')') || (before == '<' && after == '>') || ((before == '"' || before == '\'') && after == before) {
				return true
			}
		}
		off = i + 1
	}
}
