package ui

import (
	"slices"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"mimichat/keys"
	"mimichat/proto"
	"mimichat/render"
	"mimichat/session"
)

// layout remembers where the last frame put things, for mouse clicks.
type layout struct {
	roomsW, centerX, centerW int
	roomY0                   int // first room row
	tlY0                     int
	// tlH and tlW are the timeline pane's height and the width of the
	// room's rows in it (narrower beside an open thread): scrolling
	// measures rows at this size
	tlH, tlW int
	tlRowAt  []int
	tlThread bool
	threadX  int // where the thread pane starts in the center
	// noticeBelow: the notice does not fit the status line, so it is
	// drawn whole, wrapped, above the composer
	noticeBelow bool
}

const (
	roomsWidth   = 22
	membersWidth = 24
)

// View shows the frame the last Update composed. It changes nothing.
func (m *Model) View() tea.View {
	v := tea.NewView(m.frame)
	v.AltScreen = true
	v.ReportFocus = true
	if m.mouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	v.WindowTitle = "mimichat"
	if r := m.current(); r != nil {
		v.WindowTitle = "mimichat · " + render.SanitizeLine(r.title())
	}
	return v
}

// render composes the whole screen as a string of exactly h lines, and
// records its layout (for mouse clicks) and pane cache. Update calls it.
func (m *Model) render() string {
	w, h := m.w, m.h
	if w <= 0 || h <= 0 {
		w, h = 80, 24
	}
	if w < 20 || h < 6 {
		return render.TruncateLine("mimichat: window too small", w)
	}
	mainH := h - 2
	roomsW, membersW := 0, 0
	if !m.hideRooms && w >= roomsFrom {
		roomsW = roomsWidth
		if w < 100 {
			roomsW = 18
		}
	}
	if !m.hideMembers && w >= membersFrom {
		membersW = membersWidth
	}
	sepW := 0
	if roomsW > 0 {
		sepW++
	}
	if membersW > 0 {
		sepW++
	}
	cw := w - roomsW - membersW - sepW
	m.lay = layout{roomsW: roomsW, centerW: cw}
	m.lay.noticeBelow = m.notice != "" &&
		render.Width(m.statusBase())+2+render.Width(render.SanitizeLine(m.notice)) > w
	if roomsW > 0 {
		m.lay.centerX = roomsW + 1
	}
	center := m.centerLines(cw, mainH)
	var left, right []string
	if roomsW > 0 {
		left = m.roomLines(roomsW, mainH)
	}
	if membersW > 0 {
		right = m.memberLines(membersW, mainH)
	}
	sep := m.th.Styles.HelpSep.Render("│")
	var b strings.Builder
	b.Grow(w * h * 2)
	for y := 0; y < mainH; y++ {
		if roomsW > 0 {
			b.WriteString(padLine(left[y], roomsW))
			b.WriteString(sep)
		}
		b.WriteString(padLine(center[y], cw))
		if membersW > 0 {
			b.WriteString(sep)
			b.WriteString(padLine(right[y], membersW))
		}
		b.WriteByte('\n')
	}
	b.WriteString(m.statusLine(w))
	b.WriteByte('\n')
	b.WriteString(m.cachedHelpLine(w))
	return b.String()
}

func (m *Model) timelineHeight() int {
	h := m.h
	if h <= 0 {
		h = 24
	}
	return max(1, h-2-4-m.comp.ta.Height())
}

// centerLines is the room header, the timeline (and thread), the typing
// line and the composer.
func (m *Model) centerLines(w, h int) []string {
	s := &m.th.Styles
	r := m.current()
	out := make([]string, 0, h)
	flash := m.now().Before(m.flashUntil)
	if r == nil {
		// no room yet: the composer still shows, so /join can be typed and
		// seen (and f1 opens over this screen)
		out = append(out, s.Accent.Bold(true).Render("mimichat"), s.HelpSep.Render(strings.Repeat("─", w)))
		out = append(out, s.Muted.Render(render.TruncateLine("No rooms yet. /join ROOM-URI, or wait for an invitation.", w)))
		return m.finishCenter(out, slices.Concat(m.completionWindow(w, h), m.noticeLines(w), m.composerLines(w)), w, h)
	}
	// the encryption mark sits at the right end of the header (3 cells)
	lock, lockStyle := lockMark(r.crypto)
	title := render.TruncateLine(render.SanitizeLine(r.title()), w-4)
	head := s.Accent.Bold(true).Render(title)
	if r.info.Topic != "" {
		rest := w - render.Width(title) - 3 - 4 // " — " and " 🔒 "
		if rest > 4 {
			head += s.Muted.Render(" — " + render.TruncateLine(render.SanitizeLine(r.info.Topic), rest))
		}
	}
	if gap := w - render.Width(head) - render.Width(lock) - 1; gap >= 1 {
		head += strings.Repeat(" ", gap) + lockStyle(s).Render(lock) + " "
	}
	if flash {
		head = s.Mention.Render(padLine(render.SanitizeLine(r.title())+"  🔔", w))
	}
	out = append(out, head, s.HelpSep.Render(strings.Repeat("─", w)))
	if r.info.State == proto.StateInvited {
		out = append(out, s.Accent.Render(render.TruncateLine("✉ You are invited to this room: /join "+render.SanitizeLine(r.id), w)))
	}
	if m.banner != "" {
		out = append(out, s.Warning.Bold(true).Render(render.TruncateLine("🔔 "+render.SanitizeLine(m.banner), w)))
	}
	// bottom part: completion, typing, reply bar, composer
	var bottom []string
	bottom = append(bottom, m.completionWindow(w, h)...)
	bottom = append(bottom, m.typingLine(r, w))
	if bar := m.modeBar(r, w); bar != "" {
		bottom = append(bottom, bar)
	}
	bottom = append(bottom, m.noticeLines(w)...)
	if r.removed != "" {
		// no composer in a room the user was removed from: say why
		bottom = append(bottom, s.HelpSep.Render(strings.Repeat("─", w)),
			s.Error.Render(render.TruncateLine(render.SanitizeLine("✗ "+r.removed), w)))
	} else {
		bottom = append(bottom, m.composerLines(w)...)
	}
	tlH := h - len(out) - len(bottom)
	m.lay.tlY0 = len(out)
	m.lay.tlH, m.lay.tlW = tlH, w
	if r.thread != "" && w >= sideBySide {
		m.lay.tlW = w - w*2/5 - 1
	}
	if tlH > 0 {
		out = append(out, m.timelinePane(r, w, tlH)...)
	}
	return m.finishCenter(out, bottom, w, h)
}

// composerLines are the rule above the composer and the composer.
func (m *Model) composerLines(w int) []string {
	return append([]string{m.th.Styles.HelpSep.Render(strings.Repeat("─", w))}, m.composerView(w)...)
}

// finishCenter puts bottom at the foot of the center's h lines, under out,
// and the open dialog over them.
func (m *Model) finishCenter(out, bottom []string, w, h int) []string {
	for len(out)+len(bottom) < h {
		out = append(out, "")
	}
	out = append(out, bottom...)
	if len(out) > h {
		out = out[len(out)-h:]
	}
	if m.ov != nil {
		ow, oh := min(w, 90), min(h-2, 24)
		if f, ok := m.ov.(interface{ fit(w, h int) }); ok {
			f.fit(ow, oh) // composing the frame is Update's: the box learns its size for scrolling
		}
		ol := strings.Split(m.ov.View(m.th, ow, oh), "\n")
		top := max(0, (h-len(ol))/2)
		bw := 0
		for _, l := range ol {
			bw = max(bw, render.Width(l))
		}
		// Centred over the pane, the timeline still showing around it.
		left := max(0, (w-bw)/2)
		for i, l := range ol {
			if top+i < len(out) {
				out[top+i] = render.Overlay(out[top+i], l, left)
			}
		}
	}
	return out
}

func (m *Model) typingLine(r *room, w int) string {
	if len(r.typing) == 0 {
		return ""
	}
	names := make([]string, 0, len(r.typing))
	for u := range r.typing {
		names = append(names, m.name(u))
	}
	sort.Strings(names)
	var t string
	switch len(names) {
	case 1:
		t = names[0] + " is typing…"
	case 2:
		t = names[0] + " and " + names[1] + " are typing…"
	default:
		t = "several people are typing…"
	}
	return m.th.Styles.Muted.Italic(true).Render(render.TruncateLine(render.SanitizeLine(t), w))
}

func (m *Model) modeBar(r *room, w int) string {
	s := &m.th.Styles
	var t string
	switch {
	case !m.comp.editing.IsZero():
		t = "✎ Editing your message"
	case m.comp.replyTx != "":
		t = "↩ " + m.comp.replyTx
	case r.thread != "":
		t = "🧵 Replying in thread"
	default:
		return ""
	}
	return s.Accent.Render(render.TruncateLine(render.SanitizeLine(t)+"  (esc cancels)", w))
}

func (m *Model) statusLine(w int) string {
	line := m.statusBase()
	if m.notice != "" && !m.lay.noticeBelow {
		line += "  " + m.noticeStyle().Render(render.SanitizeLine(m.notice))
	}
	return padLine(line, w)
}

func (m *Model) noticeStyle() lipgloss.Style {
	if m.noticeBad {
		return m.th.Styles.Error
	}
	return m.th.Styles.Accent
}

// noticeLines is the notice wrapped to w (at most 4 lines) when it does
// not fit the status line.
func (m *Model) noticeLines(w int) []string {
	if !m.lay.noticeBelow {
		return nil
	}
	lines := strings.Split(render.WrapWords(render.SanitizeLine(m.notice), w, " "), "\n")
	if len(lines) > 4 {
		lines = lines[:4]
		lines[3] = render.TruncateLine(lines[3]+" …", w)
	}
	for i, l := range lines {
		lines[i] = m.noticeStyle().Render(render.TruncateLine(strings.TrimRight(l, " "), w))
	}
	return lines
}

// statusBase is the status line without the notice: the connection and
// the user.
func (m *Model) statusBase() string {
	s := &m.th.Styles
	var st string
	switch m.conn.State {
	case session.Online:
		st = s.Success.Render("● online")
	case session.Connecting:
		st = s.Warning.Render("◌ connecting…")
	case session.Offline:
		secs := int(m.conn.NextRetry.Sub(m.now()).Round(time.Second) / time.Second)
		if m.conn.NextRetry.IsZero() || secs < 0 {
			secs = 0
		}
		if p := m.conn.Problem(); p != nil {
			// the session's Summary is fixed text, never the network's
			st = s.Warning.Render("◌ offline: "+p.Summary()) + s.Muted.Render(" · retrying in "+itoa(secs)+"s")
		} else {
			st = s.Warning.Render("◌ reconnecting in " + itoa(secs) + "s")
		}
	default:
		st = s.Error.Render("○ offline")
		if p := m.conn.Problem(); p != nil {
			st = s.Error.Render("○ offline: " + p.Summary())
		} else if m.conn.Err != nil {
			st += s.Muted.Render(" (" + render.SanitizeLine(m.conn.Err.Error()) + ")")
		}
	}
	user := s.StatusBar.Render(" "+render.SanitizeLine(m.name(m.me))+" ") + s.Muted.Render(render.SanitizeLine(m.me))
	line := st + "  "
	if m.lay.roomsW == 0 {
		// no room list on screen: say where else there is something new
		if o := m.otherRoomsStatus(); o != "" {
			line += s.Badge.Render(o) + "  "
		}
	}
	line += user
	if !m.mouse {
		line += s.Muted.Render("  [mouse off]")
	}
	return line
}

func (m *Model) helpLine(w int) string {
	s := &m.th.Styles
	ctx := m.keyContext()
	if m.ov != nil {
		ctx = m.ov.Context()
	}
	sep := s.HelpSep.Render(" · ")
	var b strings.Builder
	used := 0
	// "f1 all keys" is shown at the end, it leads to the rest; not over a
	// dialog, which takes every key
	tail := m.km.Binding(keys.Global, keys.Help).Help()
	tailStr := ""
	if tail.Key != "" && m.ov == nil {
		tailStr = s.HelpKey.Render(tail.Key) + " " + s.HelpDesc.Render(tail.Desc)
		w -= render.Width(tail.Key) + 1 + render.Width(tail.Desc) + 3
	}
	keep := m.hintApplies
	if m.ov != nil {
		keep = nil
	}
	for _, kb := range m.km.ShortHelpWhere(ctx, keep) {
		h := kb.Help()
		if h.Key == "" || h.Key == tail.Key && h.Desc == tail.Desc {
			continue
		}
		part := s.HelpKey.Render(h.Key) + " " + s.HelpDesc.Render(h.Desc)
		pw := render.Width(h.Key) + 1 + render.Width(h.Desc)
		if used > 0 {
			pw += 3
		}
		if used+pw > w {
			break // whole entries only; f1 shows the rest
		}
		if used > 0 {
			b.WriteString(sep)
		}
		b.WriteString(part)
		used += pw
	}
	if tailStr != "" {
		if used > 0 {
			b.WriteString(sep)
		}
		b.WriteString(tailStr)
		w += render.Width(tail.Key) + 1 + render.Width(tail.Desc) + 3
	}
	return padLine(b.String(), w)
}

func (m *Model) setDark(dark bool) {
	if dark == m.dark && m.th != nil {
		return
	}
	th, err := render.NewTheme(m.opt.Theme, dark, m.opt.Colours)
	if err != nil {
		return
	}
	m.th, m.dark = th, dark
	val := m.comp.value()
	focused := m.comp.ta.Focused()
	rt, rx, ed, ei := m.comp.replyTo, m.comp.replyTx, m.comp.editing, m.comp.editIt
	sent, recall, draft, changes := m.comp.sent, m.comp.recall, m.comp.draft, m.comp.changes
	m.comp = newComposer(th)
	m.comp.changes = changes + 1 // a cached view of the old one is stale
	m.comp.sent, m.comp.recall, m.comp.draft = sent, recall, draft
	m.comp.setValue(val)
	m.comp.replyTo, m.comp.replyTx, m.comp.editing, m.comp.editIt = rt, rx, ed, ei
	if focused {
		m.comp.focus()
	}
}

// lockMark is the room header's encryption mark: a lock for a room this
// device reads end-to-end encrypted, a lock with a warning while it holds no
// keys or is rejoining, an open lock for a room the relay can read.
func lockMark(c session.RoomCrypto) (string, func(*render.Styles) lipgloss.Style) {
	switch {
	case !c.Encrypted:
		return "🔓", func(s *render.Styles) lipgloss.Style { return s.Warning }
	case !c.HasState || c.Broken != "":
		return "⚠", func(s *render.Styles) lipgloss.Style { return s.Warning.Bold(true) }
	}
	return "🔒", func(s *render.Styles) lipgloss.Style { return s.Muted }
}
