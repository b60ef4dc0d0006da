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

// scroll moves the view by lines (a message taller than the pane is
// entered and scrolled through, none is jumped over), keeps a selection on
// screen, and near the top loads older history.
func (m *Model) scroll(r *room, a keys.Action) tea.Cmd {
	if r == nil {
		return nil
	}
	hv := m.scrolledHeight()
	var cmd tea.Cmd
	m.measureRows(r, func(rh rowHeights) {
		if rh.n == 0 {
			return
		}
		pos := scrollPos{b: r.bottom, skip: r.skip}
		if pos.b < 0 || pos.b >= rh.n {
			pos = scrollPos{b: rh.n - 1}
		}
		switch a {
		case keys.ScrollUp:
			pos = rh.up(pos, 3, hv)
		case keys.PageUp:
			pos = rh.up(pos, max(1, hv-2), hv)
		case keys.ScrollDown:
			pos = rh.down(pos, 3)
		case keys.PageDown:
			pos = rh.down(pos, max(1, hv-2))
		case keys.ScrollTop:
			pos = rh.topAt(0, hv)
		case keys.ScrollBottom:
			pos = scrollPos{b: -1}
		}
		r.bottom, r.skip = pos.b, pos.skip
		if r.sel >= 0 && pos.b >= 0 {
			// keep the selection on screen: onto the nearest row shown
			top := rh.topRow(pos, hv)
			if r.sel > pos.b {
				r.sel = pos.b
			} else if r.sel < top {
				r.sel = top
			}
		}
		if pos.b >= 0 && pos.b < 40 {
			cmd = m.loadOlder(r)
		}
	})
	return cmd
}

// revealSel scrolls so that the selected row's first line is on screen:
// a row below the pane comes in at the bottom, one above it at the top.
func (m *Model) revealSel(r *room) {
	if r.sel < 0 || r.thread != "" {
		return
	}
	hv := m.scrolledHeight()
	m.measureRows(r, func(rh rowHeights) {
		if r.sel >= rh.n {
			return
		}
		pos := scrollPos{b: r.bottom, skip: r.skip}
		if pos.b < 0 || pos.b >= rh.n {
			pos = scrollPos{b: rh.n - 1}
		}
		switch {
		case r.sel > pos.b:
			pos = scrollPos{b: r.sel, skip: max(0, rh.height(r.sel)-hv)}
			if r.sel == rh.n-1 && pos.skip == 0 {
				pos.b = -1
			}
		case rh.span(r.sel, pos, hv+1) > hv:
			pos = rh.topAt(r.sel, hv)
		default:
			return
		}
		r.bottom, r.skip = pos.b, pos.skip
	})
}

// scrolledHeight is how many timeline lines show rows while scrolled up
// (the last line says what is below).
func (m *Model) scrolledHeight() int {
	h := m.lay.tlH
	if h <= 0 {
		h = m.timelineHeight()
	}
	return max(1, h-1)
}

// scrollPos is a scroll position: row b at the bottom with its last skip
// lines below the pane; b < 0 follows the newest.
type scrollPos struct{ b, skip int }

// rowHeights are the heights of a room's main rows as the pane draws them.
type rowHeights struct {
	n      int
	height func(i int) int
}

// measureRows gives f the heights of r's main rows at the pane's width,
// under the timeline's read lock.
func (m *Model) measureRows(r *room, f func(rowHeights)) {
	w := m.lay.tlW
	if w <= 1 {
		w = max(2, m.w)
	}
	r.tl.Read(func(v content.View) {
		src := m.roomSource(r, v)
		f(rowHeights{n: src.n, height: func(i int) int { return max(1, len(m.rowLines(src, i, w-1))) }})
	})
}

// up moves pos up by lines, stopping where row 0's first line is the
// pane's top (h lines): the pane never shows less than it could.
func (rh rowHeights) up(pos scrollPos, lines, h int) scrollPos {
	pos.skip += lines
	for pos.skip >= rh.height(pos.b) && pos.b > 0 {
		pos.skip -= rh.height(pos.b)
		pos.b--
	}
	if hb := rh.height(pos.b); pos.skip >= hb {
		pos.skip = hb - 1
	}
	if rh.span(0, pos, h) < h {
		return rh.topAt(0, h)
	}
	return pos
}

// down moves pos down by lines; reaching the end follows the newest.
func (rh rowHeights) down(pos scrollPos, lines int) scrollPos {
	pos.skip -= lines
	for pos.skip < 0 && pos.b < rh.n-1 {
		pos.b++
		pos.skip += rh.height(pos.b)
	}
	if pos.skip <= 0 && pos.b >= rh.n-1 {
		return scrollPos{b: -1}
	}
	return scrollPos{b: pos.b, skip: max(0, pos.skip)}
}

// topAt is the position that shows row k's first line at the top of h
// lines (following the newest when the rows from k on fit).
func (rh rowHeights) topAt(k, h int) scrollPos {
	acc := 0
	for i := k; i < rh.n; i++ {
		acc += rh.height(i)
		if acc >= h {
			return scrollPos{b: i, skip: acc - h}
		}
	}
	return scrollPos{b: -1}
}

// span is the number of lines from row k's first line to the pane's
// bottom at pos (more than the pane when k starts above it); it stops
// counting at limit, so a check near the top of a long room measures only
// the rows a pane can hold, not every row above (with 10,000 rows each
// PgUp measured them all, and the row cache thrashed).
func (rh rowHeights) span(k int, pos scrollPos, limit int) int {
	acc := -pos.skip
	for i := pos.b; i >= k && acc < limit; i-- {
		acc += rh.height(i)
	}
	return acc
}

// topRow is the first row whose first line is on screen at pos (h lines).
func (rh rowHeights) topRow(pos scrollPos, h int) int {
	acc := -pos.skip
	for i := pos.b; i >= 0; i-- {
		acc += rh.height(i)
		if acc > h {
			return min(i+1, pos.b)
		}
	}
	return 0
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
	before := r.low
	if r.first > 0 {
		// the lowest entry applied: low can be stale (a room listed by an
		// invitation had no cursor, then joined with a backfill above it)
		before = r.first
	}
	if r.loading || r.noOlder || before <= 1 {
		return nil
	}
	r.loading = true
	s, me, room, last, hl := m.s, m.me, r.id, r.last, r.hl
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
		tl := newTimeline(me, hl)
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
	} else {
		r.restoreRead(m.now()) // a fresh timeline: the older page is read up to the saved position
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
