package ui

import (
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/render"
)

// overlay is a box over the timeline: full help, a picker with a search
// field (rooms, reactions), an info list (versions, receipts) or a y/n
// question.
type overlay struct {
	title   string
	text    []string // info lines (help, versions, receipts)
	scroll  int
	picker  bool
	query   string
	all     []pickItem
	items   []pickItem
	sel     int
	search  func(m *Model, q string) []pickItem // nil: substring filter of all
	accept  func(it pickItem) tea.Cmd
	confirm func() tea.Cmd
}

type pickItem struct {
	label string
	value string
	idx   int
}

func (o *overlay) filter(m *Model) {
	if !o.picker {
		return
	}
	if o.search != nil {
		o.items = o.search(m, o.query)
	} else {
		o.items = o.items[:0]
		for _, it := range o.all {
			if fuzzy(strings.ToLower(it.label), strings.ToLower(o.query)) {
				o.items = append(o.items, it)
			}
		}
	}
	if o.sel >= len(o.items) {
		o.sel = 0
	}
}

// fuzzy reports whether q's runes appear in s in order.
func fuzzy(s, q string) bool {
	for _, r := range q {
		i := strings.IndexRune(s, r)
		if i < 0 {
			return false
		}
		s = s[i+len(string(r)):]
	}
	return true
}

func (m *Model) overlayKey(k tea.KeyPressMsg) tea.Cmd {
	o := m.ov
	ks := k.String()
	if o.confirm != nil {
		m.ov = nil
		if ks == "y" || ks == "Y" || ks == "enter" {
			return o.confirm()
		}
		return nil
	}
	if !o.picker {
		switch ks {
		case "up", "k":
			if o.scroll > 0 {
				o.scroll--
			}
		case "down", "j":
			o.scroll++
		case "pgup":
			o.scroll -= 10
			if o.scroll < 0 {
				o.scroll = 0
			}
		case "pgdown", "space":
			o.scroll += 10
		default:
			m.ov = nil
		}
		return nil
	}
	if a, ok := m.km.Action(keys.Picker, ks); ok {
		switch a {
		case keys.SelectPrev:
			if o.sel > 0 {
				o.sel--
			}
			return nil
		case keys.SelectNext:
			if o.sel < len(o.items)-1 {
				o.sel++
			}
			return nil
		case keys.Accept:
			m.ov = nil
			if o.sel < len(o.items) && o.accept != nil {
				return o.accept(o.items[o.sel])
			}
			return nil
		case keys.Cancel:
			m.ov = nil
			return nil
		case keys.Quit:
			return m.quit()
		}
	}
	switch {
	case ks == "backspace":
		if o.query != "" {
			_, n := lastRune(o.query)
			o.query = o.query[:len(o.query)-n]
		}
	case k.Text != "":
		o.query += k.Text
	default:
		return nil
	}
	o.filter(m)
	return nil
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, len(s)
}

func (m *Model) openHelp() {
	ctx := m.focus
	var lines []string
	for _, group := range m.km.FullHelp(ctx) {
		for _, b := range group {
			h := b.Help()
			lines = append(lines, padRight(h.Key, 22)+h.Desc)
		}
		lines = append(lines, "")
	}
	lines = append(lines, "Commands (type / in the composer; Tab completes):")
	for _, c := range commandList {
		lines = append(lines, padRight("/"+c.name+" "+c.args, 30)+c.help)
	}
	m.ov = &overlay{title: "Keys and commands (any other key closes)", text: lines}
}

func padRight(s string, n int) string {
	for len([]rune(s)) < n {
		s += " "
	}
	return s + " "
}

func (m *Model) openRoomPicker() {
	o := &overlay{title: "Go to room", picker: true}
	for i, r := range m.rooms {
		label := r.title()
		if u := r.unread(); u > 0 {
			label += "  (" + itoa(u) + ")"
		}
		o.all = append(o.all, pickItem{label: label, idx: i})
	}
	o.accept = func(it pickItem) tea.Cmd {
		m.switchRoom(it.idx)
		return nil
	}
	o.filter(m)
	m.ov = o
}

func (m *Model) openReactPicker(target content.Item) {
	r := m.current()
	o := &overlay{title: "React (type to search)", picker: true}
	o.search = func(m *Model, q string) []pickItem {
		var es []render.Emoji
		if q == "" {
			es = render.MostUsedEmoji(m.usage, 24)
		} else {
			es = render.SearchEmoji(q, 24, m.usage)
		}
		out := make([]pickItem, 0, len(es))
		for _, e := range es {
			out = append(out, pickItem{label: e.Emoji + "  :" + e.Code + ":  " + e.Name, value: e.Emoji})
		}
		return out
	}
	o.accept = func(it pickItem) tea.Cmd { return m.react(r, target, it.value) }
	o.filter(m)
	m.ov = o
}

func (m *Model) openConfirm(q string, yes func() tea.Cmd) {
	m.ov = &overlay{title: q, confirm: yes}
}

func (m *Model) openVersions(r *room, it content.Item) {
	o := &overlay{title: "Versions (oldest first)"}
	for i, v := range r.tl.Versions(it.ID) {
		t := time.UnixMilli(v.HubTime).Format("2006-01-02 15:04:05")
		what := previewOf(&v.Body, m.opt.Languages)
		if v.Delete {
			what = "(deleted)"
		} else if what == "" {
			what = "(no text)"
		}
		o.text = append(o.text, itoa(i+1)+". "+t+"  "+m.name(v.By)+": "+what)
	}
	m.ov = o
}

func (m *Model) openReceipts(r *room, it content.Item) {
	o := &overlay{title: "Receipts"}
	rs := r.tl.Receipts(it.ID)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Member < rs[j].Member })
	for _, rc := range rs {
		o.text = append(o.text, padRight(m.name(rc.Member), 16)+rc.Status.String())
	}
	if len(o.text) == 0 {
		o.text = []string{"nobody has reported receiving it yet"}
	}
	m.ov = o
}

// overlayLines renders the open overlay in a w×h box.
func (m *Model) overlayLines(w, h int) []string {
	o := m.ov
	s := &m.th.Styles
	inner := w - 4
	var body []string
	switch {
	case o.confirm != nil:
	case o.picker:
		body = append(body, s.Accent.Render("> ")+render.SanitizeLine(o.query)+"▏")
		for i, it := range o.items {
			if len(body) >= h-3 {
				break
			}
			st := s.PickerItem
			if i == o.sel {
				st = s.PickerSelected
			}
			body = append(body, st.Render(padLine(render.TruncateLine(render.SanitizeLine(it.label), inner), inner)))
		}
		if len(o.items) == 0 {
			body = append(body, s.Muted.Render("no match"))
		}
	default:
		if o.scroll > len(o.text)-1 {
			o.scroll = max(0, len(o.text)-1)
		}
		for _, l := range o.text[o.scroll:] {
			if len(body) >= h-3 {
				break
			}
			body = append(body, render.TruncateLine(render.SanitizeLine(l), inner))
		}
	}
	title := render.TruncateLine(o.title, max(1, w-6))
	fill := max(0, w-5-lipgloss.Width(title))
	out := []string{s.Accent.Render("╭─ " + title + " " + strings.Repeat("─", fill) + "╮")}
	for _, l := range body {
		out = append(out, s.Accent.Render("│ ")+padLine(l, inner)+s.Accent.Render(" │"))
	}
	out = append(out, s.Accent.Render("╰"+strings.Repeat("─", max(0, w-2))+"╯"))
	return out
}
