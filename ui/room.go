package ui

import (
	"sort"
	"strings"
	"time"

	"mimichat/content"
	"mimichat/proto"
	"mimichat/session"
)

// room is one room's screen state beside its executed Timeline.
type room struct {
	id      string
	me      string // the user
	info    session.Room
	infoSeq uint64 // the seq info's name and topic are known as of (setInfo, onMembers)
	tl      *content.Timeline
	first   uint64 // lowest seq applied
	last    uint64 // highest seq applied
	low     uint64 // lowest seq cached or loaded (scrollback continues below)
	members []proto.Member
	// membersLoaded: the relay answered for members (a fetch that gave up
	// offline is made again on reconnect)
	membersLoaded bool
	// membersSeq is the head of the RoomInfo answer members was last built
	// from; membersLog the membership entries applied above it, replayed
	// onto a later answer that predates them (ui/room_members.go)
	membersSeq uint64
	membersLog []memberOp
	profile    *roomProfile      // what imported histories said (ui/profile.go)
	hl         func([]byte) bool // highlight words (ui/notify_level.go), for rebuilt timelines
	presence   map[string]string
	typing     map[string]time.Time // member → until
	pending    []*pendingMsg
	// pendingVer changes whenever pending rows change (for the pane cache)
	pendingVer int

	bottom int // index of the row at the bottom; -1 follows the newest
	// skip is how many lines of the bottom row are scrolled off below the
	// pane (scrolling is by lines: a message taller than the pane is
	// entered and scrolled through)
	skip     int
	sel      int // selected row index; -1 none
	thread   string
	threadOf content.MessageID // message a new thread answers
	tsel     int               // selection inside the thread pane
	loading  bool
	noOlder  bool
	knocks   int
	place    int // position in the room list (roomOrder)
	// readSeq is the hub seq the room is read to (saved in the cache);
	// lineSeq is what it was when the user opened the room: the "new
	// messages" line goes above the first row after it
	readSeq, lineSeq uint64
	// crypto is the room's end-to-end encryption state as of the last
	// entries applied (the header's lock); refreshed in Update, read in View
	crypto session.RoomCrypto
	// removed says why the user is no longer in the room ("Alice removed
	// you: spam"); the composer is replaced by it. "" while a member.
	removed string
	// main maps main-timeline rows (threads folded) to timeline rows;
	// bottom and sel index main rows, then pending messages.
	main mainRows
	// lazy: whether the timeline is built yet, and the summary meanwhile
	// (ui/lazyroom.go)
	lazy lazyRoom
	// draft is the composer's text, reply or edit for this room while
	// another room is on screen (ui/draft.go)
	draft roomDraft
}

// pendingMsg is one of the user's messages not yet in the timeline.
type pendingMsg struct {
	item session.OutboxItem
	msg  *content.Message
	// unsaved: the outbox write failed (item.State is Failed); /retry
	// queues it again
	unsaved bool
}

func newRoom(info session.Room, me string, hl func([]byte) bool) *room {
	return &room{id: info.ID, me: me, info: info, tl: newTimeline(me, hl), hl: hl, presence: map[string]string{},
		typing: map[string]time.Time{}, bottom: -1, sel: -1, lazy: lazyRoom{loaded: true}}
}

// newTimeline is a room's timeline; hl (nil: none) makes highlight words
// count as mentions.
func newTimeline(me string, hl func([]byte) bool) *content.Timeline {
	return content.NewTimeline(content.TimelineOptions{LocalUser: me, Decode: content.Decode, Highlight: hl})
}

func (m *Model) addRoom(info session.Room) *room {
	if r, ok := m.byID[info.ID]; ok {
		r.setInfo(info, 0)
		r.crypto = m.s.Crypto(info.ID)
		return r
	}
	r := newRoom(info, m.me, m.hl)
	r.infoSeq = info.Cursor
	r.crypto = m.s.Crypto(info.ID)
	m.byID[info.ID] = r
	var cur *room
	if m.cur >= 0 && m.cur < len(m.rooms) {
		cur = m.rooms[m.cur]
	}
	r.place = m.order.place(info.ID)
	m.rooms = append(m.rooms, r)
	// each room keeps its place, so alt+1..9 stay put across renames and runs
	sort.SliceStable(m.rooms, func(i, j int) bool { return m.rooms[i].place < m.rooms[j].place })
	for i, rr := range m.rooms {
		if rr == cur || (cur == nil && rr.id == m.opt.Room) {
			m.cur = i
		}
	}
	return r
}

// applyEntries executes entries (in seq order) on the timeline, skipping
// ones already applied. It returns the entries it applied.
func (r *room) applyEntries(es []session.Entry, me string) []session.Entry {
	applied := es[:0:0]
	for _, e := range es {
		if e.Seq <= r.last && r.last != 0 {
			continue
		}
		applyEntry(r.tl, e)
		if r.first == 0 {
			r.first = e.Seq
		}
		r.last = e.Seq
		applied = append(applied, e)
	}
	return applied
}

func applyEntry(tl *content.Timeline, e session.Entry) {
	if e.IsMessage() {
		tl.Apply(e.Envelope())
		return
	}
	if ev, ok := e.TimelineEvent(); ok {
		if (ev.Kind == content.EventKick || ev.Kind == content.EventBan) && ev.Text == "" {
			ev.Text = e.Reason // shown on the event's line
		}
		if ev.Kind == content.EventJoin && ev.Role == content.RoleNone {
			ev.Role = content.RoleMember // a join without a role is the room's default
		}
		tl.ApplyEvent(ev)
	}
}

// dropPending removes pending rows the timeline now holds.
func (r *room) dropPending() {
	if len(r.pending) == 0 {
		return
	}
	r.pendingVer++
	keep := r.pending[:0]
	for _, p := range r.pending {
		if _, ok := r.tl.Index(p.item.ID); ok {
			continue
		}
		if p.item.State == session.Acked && p.item.Seq > 0 && p.item.Seq <= r.last {
			continue
		}
		keep = append(keep, p)
	}
	r.pending = keep
}

// rows is the number of rows: timeline items plus pending messages.
func (r *room) rows() int { return r.mainLen() + len(r.mainPending()) }

// mainPending are the pending messages the main timeline shows; those
// written into a thread show in its pane instead (threadPending).
func (r *room) mainPending() []*pendingMsg {
	for i, p := range r.pending {
		if len(p.msg.TopicID) != 0 {
			out := append([]*pendingMsg(nil), r.pending[:i]...)
			for _, q := range r.pending[i+1:] {
				if len(q.msg.TopicID) == 0 {
					out = append(out, q)
				}
			}
			return out
		}
	}
	return r.pending
}

// threadPending are the pending messages written into topic.
func (r *room) threadPending(topic string) []*pendingMsg {
	var out []*pendingMsg
	for _, p := range r.pending {
		if topic != "" && string(p.msg.TopicID) == topic {
			out = append(out, p)
		}
	}
	return out
}

// unread and mentions for the room list.
// A room whose timeline is not built yet answers from its summary.
func (r *room) unread() int {
	if !r.lazy.loaded {
		return r.lazy.unread
	}
	return r.tl.Unread()
}

func (r *room) mentions() int {
	if !r.lazy.loaded {
		return r.lazy.mentions
	}
	return r.tl.Mentions()
}

// title is the room's name, or its URI's last segment.
// A direct-message room without a name shows as "@" and the other user.
func (r *room) title() string {
	if r.info.Name != "" {
		return r.info.Name
	}
	if r.isDM() {
		if a, b, ok := strings.Cut(strings.TrimPrefix(shortName(r.id), dmPrefix), "--"); ok {
			if a == shortName(r.me) {
				return "@" + b
			}
			return "@" + a
		}
	}
	return shortName(r.id)
}

// pendingVisible reports whether an outbox message gets its own row: new
// messages do; edits, deletes, reactions and receipts change other rows.
func pendingVisible(msg *content.Message) bool {
	if msg == nil || msg.Replaces != nil || content.IsStatusUpdate(msg) {
		return false
	}
	return msg.Body.Disposition.Effective() != content.Reaction
}

// joined reports whether the user is a member (signals to a room the user
// is only invited to are refused, and refusals count against the
// connection).
func (r *room) joined() bool { return r.info.State == "" || r.info.State == proto.StateJoined }

// setInfo takes the session's view of the room. Its name and topic are
// known as of at least its cursor and applied (the highest seq of the
// entries just applied); a RoomInfo answer with an older head does not
// replace them (onMembers). Nor do they replace a name and topic known as
// of a later seq: an answer can be ahead of the session (a RoomEvent
// queued before it is the session as it was).
func (r *room) setInfo(info session.Room, applied uint64) {
	name, topic := r.info.Name, r.info.Topic
	r.info = info
	if max(info.Cursor, applied) < r.infoSeq {
		r.info.Name, r.info.Topic = name, topic
		return
	}
	r.infoSeq = max(info.Cursor, applied)
}
