package ui

import (
	"sort"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/render"
)

// openHelp lists the keys that work where the focus is (the keymap's full
// help of that context) and every /command of the table, greying those the
// user's role in the room does not allow.
func (m *Model) openHelp() {
	groups := m.km.FullHelp(m.keyContext())
	keyW := 22 // the key column: as wide as the widest key list, within 22..30
	for _, group := range groups {
		for _, b := range group {
			keyW = min(30, max(keyW, ansi.StringWidth(b.Help().Key)))
		}
	}
	var lines []string
	for _, group := range groups {
		for _, b := range group {
			h := b.Help()
			lines = append(lines, padRight(h.Key, keyW)+h.Desc)
		}
		lines = append(lines, "")
	}
	text := infoText(lines...)
	text = append(text, infoLine{text: "Commands (" + keyHint(m.km, keys.Composer, keys.CompleteNext) + " completes; greyed: not for your role here):"})
	r := m.current()
	for _, c := range slashCommands() {
		text = append(text, infoLine{text: padRight(c.synopsis(), 30) + c.helpText(), muted: c.may.limited(m, r)})
	}
	m.ov = newInfoDialog(m.km, "Keys and commands ("+keyHint(m.km, keys.Dialog, keys.Cancel)+" closes)", text)
}

func (m *Model) openRoomPicker() {
	var all []pickItem
	for i, r := range m.rooms {
		label := r.title()
		if u := m.shownUnread(r); u > 0 {
			label += "  (" + itoa(u) + ")"
		}
		all = append(all, pickItem{label: render.SanitizeLine(label), idx: i})
	}
	m.ov = newPickerDialog(m.km, "Go to room", all, nil, func(it pickItem) tea.Cmd {
		m.switchRoom(it.idx)
		return nil
	})
}

func (m *Model) openReactPicker(target content.Item) {
	r := m.current()
	search := func(q string) []pickItem {
		var es []render.Emoji
		if q == "" {
			es = render.MostUsedEmoji(m.usage, 24)
		} else {
			es = render.SearchEmoji(q, 24, m.usage)
		}
		out := make([]pickItem, 0, len(es))
		for _, e := range es {
			out = append(out, pickItem{label: render.SanitizeLine(e.Emoji + "  :" + e.Code + ":  " + e.Name), value: e.Emoji})
		}
		return out
	}
	m.ov = newPickerDialog(m.km, "React (type to search)", nil, search, func(it pickItem) tea.Cmd { return m.react(r, target, it.value) })
}

func (m *Model) openConfirm(q string, yes func() tea.Cmd) {
	m.ov = newConfirmDialog(m.km, q, yes)
}

func (m *Model) openVersions(r *room, it content.Item) {
	var lines []string
	for i, v := range r.tl.Versions(it.ID) {
		t := time.UnixMilli(v.HubTime).Format("2006-01-02 15:04:05")
		what := previewOf(&v.Body, m.opt.Languages)
		if v.Delete {
			what = "(deleted)"
		} else if what == "" {
			what = "(no text)"
		}
		lines = append(lines, itoa(i+1)+". "+t+"  "+m.name(v.By)+": "+what)
	}
	m.ov = newInfoDialog(m.km, "Versions (oldest first)", infoText(lines...))
}

func (m *Model) openReceipts(r *room, it content.Item) {
	rs := r.tl.Receipts(it.ID)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Member < rs[j].Member })
	var lines []string
	for _, rc := range rs {
		lines = append(lines, padRight(m.name(rc.Member), 16)+rc.Status.String())
	}
	if len(lines) == 0 {
		lines = []string{"nobody has reported receiving it yet"}
	}
	m.ov = newInfoDialog(m.km, "Receipts", infoText(lines...))
}
