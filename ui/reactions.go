package ui

// Who reacted: the who-reacted action (= in selection mode, /who-reacted)
// or a click on a message's reaction chips lists each reaction with the
// people who made it, by the names the user knows them by.

import (
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/render"
)

var reactionCommands = []*command{
	{name: keys.WhoReacted, help: "show who reacted to the selected message, and with what", target: targetMessage,
		run: func(m *Model, c *call) tea.Cmd { m.openWhoReacted(c.r, c.it); return nil }},
}

// openWhoReacted shows it's reactions: each reaction and its count, then
// who made it (display name, and the address when the name is not it).
func (m *Model) openWhoReacted(r *room, it content.Item) {
	var groups []content.ReactionGroup
	if !it.Deleted {
		r.tl.Read(func(v content.View) { groups = v.Reactions(it.ID) })
	}
	if len(groups) == 0 {
		m.setNotice("no reactions on this message")
		return
	}
	var lines []infoLine
	total := 0
	for _, g := range groups {
		total += len(g.Who)
		lines = append(lines, infoLine{text: render.SanitizeLine(g.Key) + "  " + strconv.Itoa(len(g.Who))})
		for _, w := range g.Who {
			name := m.memberName(r, w.User)
			if w.User == m.me {
				name += " (you)"
			}
			lines = append(lines, infoLine{text: name, indent: 4})
			if short := shortName(w.User); !strings.EqualFold(strings.TrimSuffix(name, " (you)"), short) || m.opt.Names[w.User] != "" {
				lines[len(lines)-1].text += "  " + w.User
			}
		}
	}
	title := "Reactions: " + plural(total, "person") + " (" + keyHint(m.km, keys.Dialog, keys.Cancel) + " closes)"
	if total != 1 {
		title = "Reactions: " + itoa(total) + " people (" + keyHint(m.km, keys.Dialog, keys.Cancel) + " closes)"
	}
	m.ov = newInfoDialog(m.km, title, lines)
}

// clickReactions opens who reacted when a click selected row of r on its
// reaction chips (screen line y of the timeline pane): the line the frame
// shows there holds the row's first chip.
func (m *Model) clickReactions(r *room, row, y int) tea.Cmd {
	if m.lay.tlThread || row < 0 || row >= r.mainLen() {
		return nil
	}
	it := r.itemAt(row)
	if it.Reactions == 0 || it.Deleted {
		return nil
	}
	frame := strings.Split(m.frame, "\n")
	if line := y + m.lay.tlY0; line < 0 || line >= len(frame) {
		return nil
	}
	var first content.ReactionGroup
	r.tl.Read(func(v content.View) {
		if gs := v.Reactions(it.ID); len(gs) > 0 {
			first = gs[0]
		}
	})
	chip := " " + render.SanitizeLine(first.Key) + " " + strconv.Itoa(len(first.Who)) + " "
	if first.Key != "" && strings.Contains(ansi.Strip(frame[y+m.lay.tlY0]), chip) {
		m.openWhoReacted(r, it)
	}
	return nil
}
