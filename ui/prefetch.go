package ui

// Rendering ahead while idle (issue 14, "PgUp worst frame ≤ 16 ms"): a
// page up brings a page of rows on screen, and each row seen for the first
// time is rendered then (glamour: about 0.1–1 ms a row, several ms for a
// tall one), so the frame that showed a run of new rows was the slowest of
// a walk. After a frame that moved the view, Update asks (through a tea.Cmd
// that only returns a message) to render the rows of the two pages above
// the pane into the row cache, a few rows per message, so the work runs
// between key presses and a page up finds its rows rendered. It renders on
// the Update goroutine, as every row is: the row cache and the image state
// are not shared with another goroutine.

import (
	tea "charm.land/bubbletea/v2"

	"mimichat/render"
)

// prefetchRows is how many rows one prefetch message renders at most: one,
// so a message's frame costs at most one row's rendering (a tall row takes
// a few ms) and a key press queued meanwhile waits no longer than that.
const prefetchRows = 1

// prefetchPages is how far above the pane rows are rendered ahead.
const prefetchPages = 2

// prefetchKey is the view a prefetch renders ahead of.
type prefetchKey struct {
	room         string
	bottom, skip int
	rows, width  int
	layout       render.Layout
}

type prefetchMsg struct{ key prefetchKey }

// prefetchState is which view was rendered ahead of, and which is being.
type prefetchState struct {
	done, asked prefetchKey
}

// prefetchAbove asks for the rows above the view to be rendered ahead,
// unless that is done or asked for already for this view.
func (m *Model) prefetchAbove() tea.Cmd {
	r := m.current()
	if r == nil || r.thread != "" || m.lay.tlW <= 1 || !r.lazy.loaded {
		return nil
	}
	key := prefetchKey{room: r.id, bottom: r.bottom, skip: r.skip, rows: r.mainLen(), width: m.lay.tlW, layout: m.layout}
	if key == m.pre.done || key == m.pre.asked {
		return nil
	}
	m.pre.asked = key
	return func() tea.Msg { return prefetchMsg{key} }
}

// onPrefetch renders up to prefetchRows rows not yet cached above the
// view; when more remain it asks again.
func (m *Model) onPrefetch(msg prefetchMsg) tea.Cmd {
	if msg.key != m.pre.asked {
		return nil // the view moved since: its own prefetch is asked for
	}
	r := m.current()
	if r == nil || r.id != msg.key.room {
		return nil
	}
	hv := m.scrolledHeight()
	done := true
	m.measureRows(r, func(rh rowHeights) {
		if rh.n == 0 {
			return
		}
		pos := scrollPos{b: r.bottom, skip: r.skip}
		if pos.b < 0 || pos.b >= rh.n {
			pos = scrollPos{b: rh.n - 1}
		}
		miss0 := m.cache.Miss
		acc := 0
		for i := rh.topRow(pos, hv) - 1; i >= 0 && acc < prefetchPages*hv; i-- {
			if m.cache.Miss-miss0 >= prefetchRows {
				done = false
				return
			}
			acc += rh.height(i)
		}
	})
	m.pre.asked = prefetchKey{}
	if done {
		m.pre.done = msg.key
		return nil
	}
	return m.prefetchAbove()
}
