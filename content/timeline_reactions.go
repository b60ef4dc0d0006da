package content

// Reading the folded state of one message: its reactions, its reply parent
// and its thread. These are computed on demand for the rows on screen (the
// cost is the number of reactions on that message), so applying a message
// stays O(1).

import (
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Reactor is one user's reaction within a group.
type Reactor struct {
	User     string
	Reaction MessageID // the reaction message (first version: what an unlike names)
	Seq      uint64    // hub position of the version in force
	Stale    bool      // it named a version of the message that is no longer current
}

// ReactionGroup is one reaction key and who reacted with it, in hub order.
type ReactionGroup struct {
	Key string // the emoji, or the text of a reaction that is not one emoji
	// AsReply is set when Key is not a single emoji (or the reaction is not
	// text): content-08 §5.3 suggests showing it as a reply "Reaction: Key".
	AsReply bool
	Who     []Reactor
}

// Reactions aggregates the reactions in force on message id (any version's
// ID): changes and unlikes applied, each part of a processAll reaction
// counted separately. Groups are ordered by their first reaction.
func (v View) Reactions(id MessageID) []ReactionGroup {
	t := v.t
	ri, ok := t.ids.find(&t.recs, id)
	if !ok {
		return nil
	}
	hi := t.recs.at(ri).owner
	h := t.recs.at(hi)
	if h.x == nil || len(h.x.reactions) == 0 {
		return nil
	}
	curID := t.recs.at(t.current(hi)).id
	type item struct {
		seq uint64
		r   Reactor
		key string
		raw bool
	}
	var items []item
	for _, rx := range h.x.reactions {
		r := t.recs.at(rx)
		if r.flags&fDeleted != 0 {
			continue // unliked
		}
		cur := t.recs.at(t.current(rx))
		named := cur.parent
		if named == 0 {
			named = r.parent
		}
		who := Reactor{User: t.names.str(r.sender), Reaction: r.id, Seq: cur.seq,
			Stale: named != 0 && t.recs.at(named-1).id != curID}
		b := t.body(cur)
		reactionKeys(&b, func(key string, asReply bool) {
			items = append(items, item{seq: cur.seq, r: who, key: key, raw: asReply})
		})
	}
	// Items are nearly in seq order already (reactions sorted by first seq;
	// a change moves one later), so an insertion sort is cheap.
	for i := 1; i < len(items); i++ {
		for j := i; j > 0 && items[j-1].seq > items[j].seq; j-- {
			items[j-1], items[j] = items[j], items[j-1]
		}
	}
	var groups []ReactionGroup
	for _, it := range items {
		k := -1
		for g := range groups {
			if groups[g].Key == it.key && groups[g].AsReply == it.raw {
				k = g
				break
			}
		}
		if k < 0 {
			groups = append(groups, ReactionGroup{Key: it.key, AsReply: it.raw})
			k = len(groups) - 1
		}
		groups[k].Who = append(groups[k].Who, it.r)
	}
	return groups
}

// reactionKeys calls fn for each reaction in a reaction body.
func reactionKeys(b *NestedPart, fn func(key string, asReply bool)) {
	switch b.Cardinality {
	case Multi:
		for i := range b.Parts {
			reactionKeys(&b.Parts[i], fn)
		}
	case Single:
		if mt, _ := MediaType(b.ContentType); mt == "text/plain" && utf8.Valid(b.Content) {
			s := string(b.Content)
			fn(s, !IsSingleEmoji(s))
			return
		}
		fn("["+b.ContentType+"]", true)
	case External:
		desc := b.ContentType
		if b.External != nil && b.External.Description != "" {
			desc = b.External.Description
		}
		fn("["+desc+"]", true)
	}
}

// IsSingleEmoji reports whether s is exactly one grapheme cluster that is an
// emoji: a pictographic code point, a flag, or a keycap sequence.
func IsSingleEmoji(s string) bool {
	if s == "" || uniseg.GraphemeClusterCount(s) != 1 {
		return false
	}
	first, _ := utf8.DecodeRuneInString(s)
	if isPictographic(first) || (first >= 0x1F1E6 && first <= 0x1F1FF) {
		return true
	}
	for _, r := range s {
		if r == 0xFE0F || r == 0x20E3 { // emoji presentation, keycap
			return true
		}
	}
	return false
}

// isPictographic covers the Unicode blocks that hold Extended_Pictographic
// code points (an approximation without the full property table).
func isPictographic(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF, r >= 0x2600 && r <= 0x27BF, r >= 0x2300 && r <= 0x23FF,
		r >= 0x2B00 && r <= 0x2BFF, r >= 0x2190 && r <= 0x21FF, r >= 0x25A0 && r <= 0x25FF:
		return true
	}
	switch r {
	case 0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D, 0x3297, 0x3299:
		return true
	}
	return false
}

// ParentState says what a reply's parent is.
type ParentState uint8

const (
	ParentNone    ParentState = iota // not a reply
	ParentUnknown                    // names a message not (yet) in the timeline
	ParentKnown
	ParentDeleted // the parent was retracted: hide the quote
	ParentExpired
)

// ParentPreview is what a reply shows about the message it answers.
type ParentPreview struct {
	State  ParentState
	ID     MessageID // the version named
	Author string
	Text   string // one short line; empty unless State is ParentKnown
	Stale  bool   // the named version has since been edited
	Loop   bool   // the inReplyTo chain through this reply cycles
}

// PreviewRunes bounds ParentPreview.Text.
const PreviewRunes = 80

// Parent describes the parent of message id.
func (v View) Parent(id MessageID) ParentPreview {
	t := v.t
	ri, ok := t.ids.find(&t.recs, id)
	if !ok {
		return ParentPreview{}
	}
	hi := t.recs.at(ri).owner
	h := t.recs.at(hi)
	p := ParentPreview{Loop: h.flags&fLoop != 0}
	switch {
	case h.parent != 0:
	case h.flags&fUnknownParent != 0:
		p.State, p.ID = ParentUnknown, t.unknownParent[hi]
		return p
	default:
		return p
	}
	named := t.recs.at(h.parent - 1)
	ph := t.recs.at(named.owner)
	p.ID, p.Author = named.id, t.names.str(named.sender)
	p.Stale = t.recs.at(t.current(named.owner)).id != named.id
	switch {
	case ph.flags&fDeleted != 0:
		p.State = ParentDeleted
	case ph.flags&fExpired != 0:
		p.State = ParentExpired
	default:
		p.State = ParentKnown
		m := Message{Body: t.body(named)}
		p.Text = PreviewLine(&m, PreviewRunes)
	}
	return p
}

// ThreadInfo summarizes one topic.
type ThreadInfo struct {
	Topic   string
	First   MessageID // the earliest message (by hub timestamp, then lower ID)
	Count   int       // messages in the topic, tombstones included
	Replies int       // Count - 1
}

// Thread returns the summary of topic; ok is false for an unknown topic.
func (v View) Thread(topic string) (ThreadInfo, bool) {
	th := v.thread(topic)
	if th == nil {
		return ThreadInfo{}, false
	}
	return ThreadInfo{Topic: topic, First: v.t.recs.at(th.members[0]).id,
		Count: len(th.members), Replies: len(th.members) - 1}, true
}

// ThreadAt returns message i of topic in thread order.
func (v View) ThreadAt(topic string, i int) Item {
	return v.item(v.thread(topic).members[i])
}

func (v View) thread(topic string) *thread {
	k, ok := v.t.strs.lookup(topic)
	if !ok || topic == "" {
		return nil
	}
	return v.t.threads[k+1]
}

// Topics lists the topics present, in no particular order.
func (v View) Topics() []string {
	out := make([]string, 0, len(v.t.threads))
	for k := range v.t.threads {
		out = append(out, v.t.strs.str(k-1))
	}
	return out
}

func (t *Timeline) Reactions(id MessageID) []ReactionGroup {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.view().Reactions(id)
}

func (t *Timeline) Parent(id MessageID) ParentPreview {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.view().Parent(id)
}

func (t *Timeline) Thread(topic string) (ThreadInfo, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.view().Thread(topic)
}
