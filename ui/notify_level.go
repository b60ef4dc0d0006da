package ui

// Per-room notification levels and highlight words (issue 14). A room is
// "all" (every message from someone else alerts), "mentions" (the default:
// mentions of the user, highlight words and knocks alert) or "none" (muted:
// nothing alerts, the room list dims it and shows no unread count, only @N
// when the user is mentioned, as senpai, weechat and gomuks users expect).
// Levels are kept in the cache's meta table, so they survive restarts;
// highlight words come from the config ([notify] highlight) and count as
// mentions through the timeline (content.TimelineOptions.Highlight).

import (
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
	"mimichat/render"
	"mimichat/session"
)

// notifyLevel is a room's notification level; "" is the default, mentions.
type notifyLevel string

const (
	levelAll      notifyLevel = "all"
	levelMentions notifyLevel = "mentions"
	levelNone     notifyLevel = "none"
)

// notifyLevelsKey is the meta key of the saved levels: "LEVEL ROOM" lines,
// only rooms not at the default.
const notifyLevelsKey = "ui.notify_levels"

var notifyCommands = []*command{
	{name: "notify", args: "[all|mentions|none]", help: "this room's notifications: every message, mentions and highlight words (default), or none (muted)",
		target: targetRoom, run: runNotify},
	{name: keys.CycleNotify, keyOnly: true, target: targetRoom, run: func(m *Model, c *call) tea.Cmd {
		next := map[notifyLevel]notifyLevel{levelMentions: levelAll, levelAll: levelNone, levelNone: levelMentions}[m.level(c.r)]
		return m.setLevel(c.r, next)
	}},
}

func runNotify(m *Model, c *call) tea.Cmd {
	switch lv := notifyLevel(strings.ToLower(c.arg)); lv {
	case "":
		m.setNotice("notifications in " + c.r.title() + ": " + levelText(m.level(c.r)))
		return nil
	case levelAll, levelMentions, levelNone:
		return m.setLevel(c.r, lv)
	}
	m.setNotice("usage: /notify all|mentions|none")
	return nil
}

func levelText(lv notifyLevel) string {
	switch lv {
	case levelAll:
		return "all (every message alerts)"
	case levelNone:
		return "none (muted: nothing alerts; mentions still show as @N)"
	}
	return "mentions (mentions, highlight words and knocks alert)"
}

// level is r's notification level.
func (m *Model) level(r *room) notifyLevel {
	if lv, ok := m.levels[r.id]; ok {
		return lv
	}
	return levelMentions
}

// muted reports whether r is at level none.
func (m *Model) muted(r *room) bool { return m.level(r) == levelNone }

// setLevel changes r's level and saves every level (a tea.Cmd: Update does
// no I/O).
func (m *Model) setLevel(r *room, lv notifyLevel) tea.Cmd {
	if lv == levelMentions {
		delete(m.levels, r.id)
	} else {
		m.levels[r.id] = lv
	}
	m.setNotice("notifications in " + r.title() + ": " + levelText(lv))
	lines := make([]string, 0, len(m.levels))
	for id, l := range m.levels {
		lines = append(lines, string(l)+" "+id)
	}
	sort.Strings(lines)
	// commands run concurrently: the newest levels win (ui/metasave.go)
	return m.levelSave.save(m.s.Store(), strings.Join(lines, "\n"))
}

// loadLevels reads the saved levels (New: disk reads happen before the
// program starts); a line that is not "LEVEL ROOM" is skipped.
func loadLevels(st *session.Store) map[string]notifyLevel {
	out := map[string]notifyLevel{}
	v, _ := st.Meta(notifyLevelsKey)
	for _, line := range strings.Split(v, "\n") {
		lv, id, ok := strings.Cut(line, " ")
		if !ok || id == "" {
			continue
		}
		switch notifyLevel(lv) {
		case levelAll, levelNone:
			out[id] = notifyLevel(lv)
		}
	}
	return out
}

// alerts reports whether a new message from someone else in r rings:
// mention is whether it mentions the user or holds a highlight word.
func (m *Model) alerts(r *room, mention bool) bool {
	switch m.level(r) {
	case levelNone:
		return false
	case levelAll:
		return true
	}
	return mention
}

// shownUnread is r's unread count as the room list and status line show
// it: none for a muted room (its mentions still show).
func (m *Model) shownUnread(r *room) int {
	if m.muted(r) {
		return 0
	}
	return r.unread()
}

// highlighter matches highlight words: case-insensitive, whole words (the
// characters around a match are not letters, digits or '_'). nil when
// there are no words. The timeline's rows colour the same matches
// (render.Highlighter, through render.People).
func highlighter(words []string) func([]byte) bool {
	h := render.NewHighlighter(words)
	if h == nil {
		return nil
	}
	return h.Match
}
