package ui

// The read position of each room, kept in the cache (session.ReadMark) so
// unread counts survive a restart, and the "new messages" line drawn at
// the position the room was read to when the user opened it.

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/render"
	"mimichat/session"
)

// restoreRead moves the timeline's read marker to the newest message at
// or below r.readSeq (read before this timeline was built: a restart or a
// history page).
func (r *room) restoreRead(at time.Time) {
	if r.readSeq == 0 {
		return
	}
	var id content.MessageID
	r.tl.Read(func(v content.View) {
		for i := v.Len() - 1; i >= 0; i-- {
			if it := v.At(i); it.Seq <= r.readSeq && it.Kind != content.ItemEvent {
				id = it.ID
				return
			}
		}
	})
	if !id.IsZero() {
		_ = r.tl.MarkRead(id, at.UnixMilli())
	}
}

// saveReadMark writes room's read position to the cache (a tea.Cmd: Update
// does no I/O); a failure is shown. Saves finishing out of order are
// harmless: the cache keeps the highest seq (session.Store.SaveReadMark),
// and SaveOnExit writes the newest again in case its command never ran.
func (m *Model) saveReadMark(room string, seq uint64, at time.Time) tea.Cmd {
	m.readAsked[room] = session.ReadMark{Seq: seq, At: at}
	s := m.s
	return func() tea.Msg {
		if err := s.Store().SaveReadMark(room, seq, at); err != nil {
			return refusalMsg("read position not saved: " + err.Error())
		}
		return nil
	}
}

// newLineAt is the main row the "new messages" line goes above: the first
// row of someone else after r.lineSeq, or -1 when there is none (nothing
// new when the room was opened, or no known position).
func newLineAt(r *room, v content.View) int {
	if r.lineSeq == 0 || r.lineSeq >= r.last {
		return -1
	}
	n := r.main.len()
	lo, hi := 0, n // first row with Seq > lineSeq
	for lo < hi {
		mid := (lo + hi) / 2
		if v.At(r.main.visible(mid)).Seq <= r.lineSeq {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo >= n || lo == 0 && r.first > r.lineSeq+1 {
		return -1 // past the end, or the read position is not loaded
	}
	// the user's own rows are not new: sending in a room read to its end
	// drew the line right above the message just sent
	for lo < n && v.At(r.main.visible(lo)).Sender == r.me {
		lo++
	}
	if lo >= n {
		return -1
	}
	return lo
}

// newMessagesLine is the line drawn above the first new row.
func (m *Model) newMessagesLine(w int) string {
	label := " new messages "
	left := max(0, (w-len(label))/2)
	right := max(0, w-left-len(label))
	return m.th.Styles.Error.Render(render.TruncateLine(strings.Repeat("─", left)+label+strings.Repeat("─", right), w))
}
