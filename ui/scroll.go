package ui

import (
	"context"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/session"
)

// historyPage is how many older entries one scrollback step loads.
const historyPage = 200

// scroll moves the view; near the top it loads older history.
func (m *Model) scroll(r *room, a keys.Action) tea.Cmd {
	if r == nil {
		return nil
	}
	n := r.rows()
	if n == 0 {
		return nil
	}
	b := r.bottom
	if b < 0 || b >= n {
		b = n - 1
	}
	page := m.timelineHeight() / 3
	if page < 1 {
		page = 1
	}
	switch a {
	case keys.ScrollUp:
		b -= 3
	case keys.PageUp:
		b -= page
	case keys.ScrollDown:
		b += 3
	case keys.PageDown:
		b += page
	case keys.ScrollTop:
		b = 0
	case keys.ScrollBottom:
		b = n - 1
	}
	if b < 0 {
		b = 0
	}
	if b >= n-1 {
		b = -1
	}
	r.bottom = b
	if r.sel >= 0 && b >= 0 && r.sel > b {
		r.sel = b
	}
	if b >= 0 && b < 40 {
		return m.loadOlder(r)
	}
	return nil
}

type historyMsg struct {
	room        string
	tl          *content.Timeline
	first, last uint64
	more        bool
	err         error
}

// loadOlder fetches a page before the oldest loaded entry and rebuilds the
// room's timeline with it in a goroutine (a Timeline executes in hub order,
// so older entries mean a fresh one); the swap happens in Update.
func (m *Model) loadOlder(r *room) tea.Cmd {
	if r.loading || r.noOlder || r.low <= 1 {
		return nil
	}
	r.loading = true
	s, me, room, before, last := m.s, m.me, r.id, r.low, r.last
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		page, more, err := s.History(ctx, room, before, historyPage)
		if err != nil {
			return historyMsg{room: room, err: err}
		}
		if len(page) == 0 {
			return historyMsg{room: room, more: false, first: before}
		}
		tl := newTimeline(me)
		for _, e := range page {
			applyEntry(tl, e)
		}
		top := page[len(page)-1].Seq
		if last > top {
			rest, err := s.Store().After(room, top, int(last-top))
			if err != nil {
				return historyMsg{room: room, err: err}
			}
			for _, e := range rest {
				applyEntry(tl, e)
				top = e.Seq
			}
		}
		return historyMsg{room: room, tl: tl, first: page[0].Seq, last: top, more: more}
	}
}

// onHistory swaps in a timeline rebuilt with older history. When entries
// arrived while it was built, a tea.Cmd first applies them to it (reading
// the cache is I/O) and brings it back here.
func (m *Model) onHistory(msg historyMsg) tea.Cmd {
	r, ok := m.byID[msg.room]
	if !ok {
		return nil
	}
	if msg.err != nil {
		r.loading = false
		m.setNotice("history: " + msg.err.Error())
		return nil
	}
	if msg.tl == nil {
		r.loading, r.noOlder = false, true
		return nil
	}
	if r.last > msg.last {
		return catchUp(m.s, msg, r.last)
	}
	r.loading = false
	wasRead := r.tl.Unread() == 0
	before := r.mainLen()
	r.tl = msg.tl
	delta := r.mainLen() - before // older rows came in above: keep the view still
	r.first, r.low, r.noOlder = msg.first, msg.first, !msg.more
	if r.bottom >= 0 {
		r.bottom += delta
	}
	if r.sel >= 0 {
		r.sel += delta
	}
	if wasRead && r.tl.Len() > 0 {
		it := r.tl.At(r.tl.Len() - 1)
		_ = r.tl.MarkRead(it.Current, m.now().UnixMilli())
	}
	return nil
}

// catchUp applies the cached entries after msg.last, up to last, to the
// rebuilt timeline (not shown yet, so a goroutine may), and returns msg.
func catchUp(s *session.Session, msg historyMsg, last uint64) tea.Cmd {
	return func() tea.Msg {
		rest, err := s.Store().After(msg.room, msg.last, int(last-msg.last))
		if err == nil && len(rest) == 0 {
			err = fmt.Errorf("the cache has no entries after %d", msg.last)
		}
		if err != nil {
			return historyMsg{room: msg.room, err: err}
		}
		for _, e := range rest {
			applyEntry(msg.tl, e)
			msg.last = e.Seq
		}
		return msg
	}
}
