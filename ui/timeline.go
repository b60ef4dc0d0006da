package ui

import (
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mimichat/content"
	"mimichat/render"
)

// rowSource is a list of rows the timeline pane can show: the room's rows
// (timeline items, then pending messages) or one thread's.
type rowSource struct {
	n    int
	row  func(i int) render.Message
	time func(i int) (time.Time, bool) // ok=false: no day separator logic
}

// roomSource lists room r's rows; v must stay valid while it is used.
func (m *Model) roomSource(r *room, v content.View) rowSource {
	tn := v.Len()
	return rowSource{
		n: tn + len(r.pending),
		row: func(i int) render.Message {
			if i >= tn {
				return m.pendingRow(v, r.pending[i-tn])
			}
			return m.rowOf(v, v.At(i), false)
		},
		time: func(i int) (time.Time, bool) {
			if i >= tn {
				return time.Time{}, false
			}
			return time.UnixMilli(v.At(i).HubTime), true
		},
	}
}

// threadSource lists the messages of r's open thread.
func (m *Model) threadSource(r *room, v content.View) rowSource {
	ti, ok := v.Thread(r.thread)
	n := 0
	if ok {
		n = ti.Count
	}
	return rowSource{
		n:    n,
		row:  func(i int) render.Message { return m.rowOf(v, v.ThreadAt(r.thread, i), true) },
		time: func(i int) (time.Time, bool) { return time.UnixMilli(v.ThreadAt(r.thread, i).HubTime), true },
	}
}

// renderRows fills h lines of width w from src, bottom-aligned, showing row
// bottom (or the newest when bottom < 0) at the bottom and keeping sel on
// screen. It renders only the rows that fit. rowAt maps each line to its
// row (-1 for separators and padding). It returns the bottom row used.
func (m *Model) renderRows(src rowSource, bottom, sel, w, h int) (lines []string, rowAt []int, usedBottom int) {
	if h <= 0 || w <= 0 {
		return nil, nil, bottom
	}
	if src.n == 0 {
		lines = make([]string, h)
		rowAt = make([]int, h)
		for i := range rowAt {
			rowAt[i] = -1
		}
		hint := m.th.Styles.Placeholder.Render(render.TruncateLine("No messages yet. Say hello!", w))
		lines[h-1] = hint
		return lines, rowAt, -1
	}
	if bottom < 0 || bottom >= src.n {
		bottom = src.n - 1
	}
	if sel >= src.n {
		sel = src.n - 1
	}
	if sel > bottom {
		bottom = sel
	}
	if sel >= 0 && sel < bottom {
		// keep the selection on screen: move the bottom down to it when the
		// rows between do not fit
		used := 0
		for i := bottom; i >= sel && used <= h; i-- {
			used += len(m.rowLines(src, i, w-1, false))
		}
		if used > h {
			bottom = sel
			used = len(m.rowLines(src, sel, w-1, false))
			for bottom+1 < src.n {
				n := len(m.rowLines(src, bottom+1, w-1, false))
				if used+n > h {
					break
				}
				used += n
				bottom++
			}
		}
	}
	rev := make([]string, 0, h+8)
	revAt := make([]int, 0, h+8)
	for i := bottom; i >= 0 && len(rev) < h; i-- {
		rl := m.rowLines(src, i, w-1, true)
		if i == bottom && i == sel && len(rl) > h {
			rl = rl[:h] // a selected message taller than the pane shows its top
		}
		mark := " "
		if i == sel {
			mark = m.th.Styles.Accent.Render("▌")
		}
		for j := len(rl) - 1; j >= 0; j-- {
			rev = append(rev, mark+rl[j])
			revAt = append(revAt, i)
		}
	}
	if len(rev) > h {
		rev, revAt = rev[:h], revAt[:h]
	}
	lines = make([]string, h)
	rowAt = make([]int, h)
	pad := h - len(rev)
	for i := 0; i < pad; i++ {
		rowAt[i] = -1
	}
	for i := range rev {
		lines[pad+i] = rev[len(rev)-1-i]
		rowAt[pad+i] = revAt[len(rev)-1-i]
	}
	return lines, rowAt, bottom
}

// rowLines renders row i, with a day separator above it when the day
// changes (sep=false leaves the separator out, for height estimates).
func (m *Model) rowLines(src rowSource, i, w int, sep bool) []string {
	rm := src.row(i)
	lines := m.cache.Render(&rm, w, m.th)
	if len(lines) == 0 {
		return nil
	}
	t, ok := src.time(i)
	if !ok {
		return lines
	}
	newDay := i == 0
	if !newDay {
		if pt, ok := src.time(i - 1); ok {
			newDay = !sameDay(pt, t)
		}
	}
	if !newDay {
		return lines
	}
	day := render.RenderMessage(&render.Message{Kind: render.RowDay, Text: render.DayLabel(t, m.now())}, w, m.th)
	out := make([]string, 0, len(lines)+1)
	out = append(out, day...)
	return append(out, lines...)
}

func sameDay(a, b time.Time) bool {
	y1, m1, d1 := a.Date()
	y2, m2, d2 := b.Date()
	return y1 == y2 && m1 == m2 && d1 == d2
}

// padLine pads or cuts a styled line to exactly w columns.
func padLine(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "")
	}
	if sw < w {
		return s + strings.Repeat(" ", w-sw)
	}
	return s
}
