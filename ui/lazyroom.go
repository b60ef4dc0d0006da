package ui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/session"
)

// Lazy timelines (issue 14, "A user in a thousand rooms"). Only the room on
// screen has its timeline built at start; every other room keeps a small
// summary for the room list (unread messages and unread mentions), and its
// timeline is built from the cache when it is opened or when a message
// mentioning the user arrives. Start-up reads the summaries of all rooms
// in one query instead of a page of history per room, and a room's memory
// stays a summary until it is looked at. Members and profiles are fetched,
// and presence is announced, for loaded rooms only.

// lazyRoom is a room's lazy-loading state.
type lazyRoom struct {
	loaded  bool // the timeline holds the room's recent history
	loading bool // a roomLoadedMsg is on its way
	// buffered are entries that arrived while loading; they are applied
	// after the cached history (the load may or may not have read them)
	buffered []session.Entry
	// unread and mentions summarise the room while it is not loaded
	unread, mentions int
	// summarized is the highest seq the summary covers: live entries
	// above it are counted as they come, those below were already
	summarized uint64
	readAt     time.Time // when the read mark was saved (restored at load)
}

// roomLoadedMsg carries a room's recent cached history, read in a tea.Cmd.
type roomLoadedMsg struct {
	room    string
	entries []session.Entry
	err     error
}

// summariesMsg carries the unread summaries read in the background.
type summariesMsg struct {
	counts map[string]unreadCount
	upTo   map[string]uint64 // the cursor each room's summary covers
}

type unreadCount struct{ unread, mentions int }

// eagerRooms is how many rooms a user may be in for New to build every
// room's timeline at start, as before lazy loading: below it the per-room
// work is small, and members, profiles and presence of every room are at
// hand from the start.
const eagerRooms = 64

// syncSummaryLimit is how many unread entries New summarises before the
// first frame; more (a user in many busy rooms) are summarised in a
// tea.Cmd and the room list's counts fill in when it is done.
const syncSummaryLimit = 5000

// loadNow builds r's timeline from the cache at once (New only: Update
// does no disk I/O).
func (m *Model) loadNow(r *room) {
	es, err := m.s.Recent(r.id, m.opt.History)
	m.onRoomLoaded(roomLoadedMsg{room: r.id, entries: es, err: err})
}

// loadRoom returns the command loading r's timeline, or nil when it is
// loaded or on its way.
func (m *Model) loadRoom(r *room) tea.Cmd {
	if r == nil || r.lazy.loaded || r.lazy.loading {
		return nil
	}
	r.lazy.loading = true
	s, id, n := m.s, r.id, m.opt.History
	return func() tea.Msg {
		es, err := s.Recent(id, n)
		return roomLoadedMsg{room: id, entries: es, err: err}
	}
}

// loadCurrent loads the room on screen if it is not yet.
func (m *Model) loadCurrent() tea.Cmd { return m.loadRoom(m.current()) }

// onRoomLoaded builds the room's timeline: the cached history, then what
// arrived meanwhile; then its members and profile are fetched.
func (m *Model) onRoomLoaded(msg roomLoadedMsg) tea.Cmd {
	r, ok := m.byID[msg.room]
	if !ok || r.lazy.loaded {
		return nil
	}
	if msg.err != nil {
		m.setRefusal("loading " + r.title() + ": " + msg.err.Error())
	}
	r.lazy.loaded, r.lazy.loading = true, false
	r.applyEntries(msg.entries, m.me)
	r.applyEntries(r.lazy.buffered, m.me)
	r.lazy.buffered = nil
	r.lazy.unread, r.lazy.mentions = 0, 0
	r.low = lowSeq(r, r.info)
	r.restoreRead(r.lazy.readAt)
	r.dropPending()
	r.main.dirty = true
	return tea.Batch(m.fetchMembers(r.id), m.loadProfile(r.id))
}

// summarize fills the unread summaries of the rooms not loaded: at once
// when there are few unread entries, else it returns the command that does.
func (m *Model) summarize() tea.Cmd {
	upTo := map[string]uint64{}
	for _, r := range m.rooms {
		if !r.lazy.loaded {
			upTo[r.id] = r.info.Cursor
			r.lazy.summarized = r.info.Cursor
		}
	}
	if len(upTo) == 0 {
		return nil
	}
	st, me, hl, window := m.s.Store(), m.me, m.hl, m.opt.History
	read := func() tea.Msg {
		counts := map[string]unreadCount{}
		err := st.UnreadWindow(window, func(room string, es []session.Entry) {
			if top, ok := upTo[room]; ok {
				counts[room] = countUnread(es, me, hl, top)
			}
		})
		if err != nil {
			return refusalMsg("unread counts: " + err.Error())
		}
		return summariesMsg{counts: counts, upTo: upTo}
	}
	if n, err := st.CountUnreadWindow(window); err == nil && n <= syncSummaryLimit {
		if msg, ok := read().(summariesMsg); ok {
			m.onSummaries(msg)
		}
		return nil
	}
	return read
}

// onSummaries applies the background summaries to the rooms still not
// loaded; live entries counted meanwhile lie above upTo and add to them.
func (m *Model) onSummaries(msg summariesMsg) {
	for id, c := range msg.counts {
		r, ok := m.byID[id]
		if !ok || r.lazy.loaded {
			continue
		}
		r.lazy.unread += c.unread
		r.lazy.mentions += c.mentions
	}
}

// countUnread counts, with a throwaway timeline, the messages of es (all
// after the room's read mark) at or below top that are unread for me.
func countUnread(es []session.Entry, me string, hl func([]byte) bool, top uint64) unreadCount {
	tl := newTimeline(me, hl)
	for _, e := range es {
		if e.Seq <= top {
			applyEntry(tl, e)
		}
	}
	return unreadCount{unread: tl.Unread(), mentions: tl.Mentions()}
}

// lazyEntries takes new entries of a room not loaded: they are buffered
// for a load on its way, and those the summary does not cover yet are
// returned, for the caller to count (onEntries).
func (m *Model) lazyEntries(r *room, es []session.Entry) []session.Entry {
	if r.lazy.loading {
		r.lazy.buffered = append(r.lazy.buffered, es...)
	}
	fresh := es[:0:0]
	for _, e := range es {
		if e.Seq > r.lazy.summarized {
			fresh = append(fresh, e)
			r.lazy.summarized = e.Seq
		}
	}
	return fresh
}
