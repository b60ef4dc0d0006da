package ui

// The panes beside and inside the center column: the timeline (cached while
// nothing it shows changes), the thread, the room list and the member list.

import (
	"strings"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/proto"
	"mimichat/render"
)

// paneKey is everything the timeline pane's lines depend on: when a frame
// has the same key as the last one (the steady state), the pane is reused
// as is and nothing is read from the timeline.
type paneKey struct {
	r                             *room
	ver                           uint64
	w, h, bottom, skip, sel, tsel int
	thread                        string
	threadOf                      [32]byte
	theme                         string
	pendingVer                    int
	tick                          int64  // the second, while a countdown is running
	day                           int    // "Today" changes at midnight
	lineSeq                       uint64 // where the "new messages" line goes
	images                        int    // an inline image loaded or the image mode changed
	layout                        render.Layout
}

type paneCache struct {
	key   paneKey
	lines []string
	rowAt []int
	ok    bool
}

// timelinePane is the timeline or the open thread, from the pane cache
// when nothing it shows has changed.
func (m *Model) timelinePane(r *room, w, h int) []string {
	now := m.now()
	k := paneKey{r: r, ver: r.tl.Version(), w: w, h: h, bottom: r.bottom, skip: r.skip, sel: -1, tsel: -1, thread: r.thread,
		threadOf: r.threadOf, theme: m.th.ID(), pendingVer: r.pendingVer, lineSeq: r.lineSeq, day: now.YearDay(), images: m.img.ver, layout: m.layout}
	if m.focus == keys.Timeline {
		k.sel, k.tsel = r.sel, r.tsel
	}
	if _, ok := r.tl.NextExpiry(); ok {
		k.tick = now.Unix()
	}
	if pc := &m.pane; pc.ok && pc.key == k {
		m.lay.tlRowAt, m.lay.tlThread = pc.rowAt, r.thread != ""
		return pc.lines
	}
	lines := m.timelinePaneFresh(r, w, h)
	m.pane = paneCache{key: k, lines: lines, rowAt: m.lay.tlRowAt, ok: true}
	return lines
}

// sideBySide is the width from which an open thread is shown beside the
// room's timeline instead of over it.
const sideBySide = 100

func (m *Model) timelinePaneFresh(r *room, w, h int) []string {
	var lines []string
	r.tl.Read(func(v content.View) {
		sel, tsel := -1, -1
		if m.focus == keys.Timeline {
			sel, tsel = r.sel, r.tsel
		}
		if r.thread == "" {
			var rowAt []int
			lines, rowAt = m.mainLines(r, v, sel, w, h)
			m.lay.tlRowAt, m.lay.tlThread, m.lay.threadX = rowAt, false, 0
			return
		}
		tw := w
		var main []string
		if w >= sideBySide {
			tw = w * 2 / 5
			main, _ = m.mainLines(r, v, -1, w-tw-1, h) // beside the thread: scrolled up, it says so too
		}
		thread, rowAt := m.threadLines(r, v, tsel, tw, h)
		m.lay.tlRowAt, m.lay.tlThread, m.lay.threadX = rowAt, true, w-tw
		if main == nil {
			lines = thread
			return
		}
		sep := m.th.Styles.HelpSep.Render("│")
		lines = make([]string, h)
		for i := range lines {
			lines[i] = padLine(main[i], w-tw-1) + sep + thread[i]
		}
	})
	return lines
}

// mainLines is the room's timeline in h lines of width w, selection sel;
// scrolled up, its last line says what is below.
func (m *Model) mainLines(r *room, v content.View, sel, w, h int) ([]string, []int) {
	src := m.roomSource(r, v)
	if r.bottom < 0 || h <= 2 {
		lines, rowAt, _ := m.renderRows(src, r.bottom, r.skip, sel, w, h)
		return lines, rowAt
	}
	lines, rowAt, used := m.renderRows(src, r.bottom, r.skip, sel, w, h-1)
	hint := "↓ end"
	if n := src.n - 1 - used; n > 0 {
		hint = "↓ " + itoa(n) + " newer"
	}
	hint += " · " + keys.Display(firstKey(m.km, keys.Global, keys.ScrollBottom))
	return append(lines, m.th.Styles.Accent.Render(render.TruncateLine(hint, w))), append(rowAt, -1)
}

// threadLines is the thread pane: a header and the thread's messages (or,
// for a new thread, the message it answers).
func (m *Model) threadLines(r *room, v content.View, tsel, w, h int) ([]string, []int) {
	head := m.th.Styles.Accent.Bold(true).Render(render.TruncateLine("🧵 Thread", w)) +
		m.th.Styles.Muted.Render(render.TruncateLine("  "+keys.Display(firstKey(m.km, keys.Thread, keys.CloseThread))+" back", max(0, w-10)))
	src := m.threadSource(r, v)
	tl, rowAt, _ := m.renderRows(src, -1, 0, tsel, w, h-1)
	return append([]string{head}, tl...), append([]int{-1}, rowAt...)
}

func (m *Model) roomLines(w, h int) []string {
	s := &m.th.Styles
	out := make([]string, 0, h)
	hs := s.Muted.Bold(true)
	if m.focus == keys.Rooms {
		hs = s.Accent.Bold(true)
	}
	out = append(out, hs.Render("Rooms"))
	m.lay.roomY0 = 1
	for i, r := range m.rooms {
		if len(out) >= h {
			break
		}
		badge := ""
		if n := r.mentions(); n > 0 {
			badge += s.Mention.Render("@" + itoa(n))
		}
		if n := m.shownUnread(r); n > 0 {
			if badge != "" {
				badge += " "
			}
			badge += s.Badge.Render(itoa(n))
		}
		bw := render.Width(badge)
		prefix := "  "
		if i < 9 {
			prefix = itoa(i+1) + " "
		}
		title := render.SanitizeLine(r.title())
		if r.info.State == proto.StateInvited {
			title = "✉ " + title
		}
		name := render.TruncateLine(title, max(1, w-bw-3))
		if m.muted(r) && badge == "" {
			badge = s.Muted.Render("∅") // muted: /notify, m on the room list
			bw = 1
		}
		st := s.RoomPlain
		switch {
		case i == m.cur:
			st = s.RoomActive
		case m.muted(r):
			st = s.RoomPlain.Faint(true)
		case r.unread() > 0:
			st = s.RoomUnread
		}
		gap := max(1, w-render.Width(prefix)-render.Width(name)-bw)
		line := st.Render(prefix+name) + strings.Repeat(" ", gap) + badge
		if i == m.cur {
			line = st.Render(padLine(prefix+name+strings.Repeat(" ", gap), w-bw)) + badge
		}
		out = append(out, line)
	}
	for len(out) < h {
		out = append(out, "")
	}
	return out
}

func (m *Model) memberLines(w, h int) []string {
	s := &m.th.Styles
	r := m.current()
	out := make([]string, 0, h)
	if r == nil {
		for len(out) < h {
			out = append(out, "")
		}
		return out
	}
	mems := m.roomMembers(r)
	if len(mems) == 0 {
		mems = r.profileMembers() // a room the relay does not list (an imported one)
	}
	out = append(out, m.aboutLines(r, w)...)
	out = append(out, s.Muted.Bold(true).Render("Members "+itoa(len(mems))))
	for _, mem := range mems {
		if len(out) >= h {
			break
		}
		dot := s.Muted.Render("○")
		switch mk := m.presenceMark(r, mem.User); mk {
		case "●":
			dot = s.Success.Render(mk)
		case "◐":
			dot = s.Warning.Render(mk)
		}
		role := ""
		switch mem.Role {
		case proto.RoleOwner:
			role = s.Accent.Render(" ★")
		case proto.RoleModerator:
			role = s.Accent.Render(" ◆")
		}
		if _, typing := r.typing[mem.User]; typing {
			role += s.Muted.Render(" …")
		}
		name := m.th.Sender(mem.User).Render(render.TruncateLine(render.SanitizeLine(m.memberName(r, mem.User)), w-5))
		out = append(out, dot+" "+name+role)
	}
	for len(out) < h {
		out = append(out, "")
	}
	return out
}
