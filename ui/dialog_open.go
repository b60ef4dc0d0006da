package ui

import (
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

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
			keyW = min(30, max(keyW, render.Width(b.Help().Key)))
		}
	}
	var text []infoLine
	for _, group := range groups {
		for _, b := range group {
			h := b.Help()
			text = append(text, infoLine{head: h.Key, headW: keyW, text: h.Desc})
		}
		text = append(text, infoLine{})
	}
	text = append(text, infoLine{text: "Commands (" + keyHint(m.km, keys.Composer, keys.CompleteNext) + " completes; greyed: not for your role here):"})
	r := m.current()
	for _, c := range slashCommands() {
		text = append(text, infoLine{head: c.synopsis(), headW: 30, text: c.helpText(), muted: c.may.limited(m, r)})
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
	// each version's whole text, wrapped under its time and author (a
	// preview cut to a line hid what an edit changed)
	var lines []infoLine
	for i, v := range r.tl.Versions(it.ID) {
		t := time.UnixMilli(v.HubTime).Format("2006-01-02 15:04:05")
		what := strings.Join(strings.Fields(bodyText(&v.Body, m.opt.Languages)), " ")
		if v.Delete {
			what = "(deleted)"
		} else if what == "" {
			what = "(no text)"
		}
		lines = append(lines, infoLine{text: itoa(i+1) + ". " + t + "  " + m.name(v.By)}, infoLine{text: what, indent: 3})
	}
	m.ov = newInfoDialog(m.km, "Versions (oldest first)", lines)
}

func (m *Model) openReceipts(r *room, it content.Item) {
	rs := r.tl.Receipts(it.ID)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Member < rs[j].Member })
	var lines []infoLine
	for _, rc := range rs {
		lines = append(lines, infoLine{head: m.name(rc.Member), headW: 16, text: rc.Status.String()})
	}
	if len(lines) == 0 {
		lines = infoText("nobody has reported receiving it yet")
	}
	m.ov = newInfoDialog(m.km, "Receipts", lines)
}
