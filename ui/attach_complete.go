package ui

// Path completion for /attach (issue 14, "Sending files"): tab after
// "/attach " lists the directory of the typed path (in a tea.Cmd: Update
// reads no disk), "~/" expanded to the home directory; one match is taken
// at once, directories end with "/" so the next tab goes on inside them,
// several open the completion list (their common prefix typed already).

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"
)

const attachPrefix = "/attach "

// pathKind marks the completion list as file paths.
const pathKind = 'f'

// pathCompMsg is a directory listing for the composer text value.
type pathCompMsg struct {
	value   string   // the composer's text the listing is for
	matches []string // full paths, directories with a trailing "/"
}

// expandHome turns a leading "~/" (or "~") into the home directory.
func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return home + p[1:]
}

// completePath lists what the path after "/attach " may continue with;
// nil when the composer does not hold an /attach command.
func (m *Model) completePath() tea.Cmd {
	v := m.comp.value()
	arg, ok := strings.CutPrefix(v, attachPrefix)
	if !ok || m.opt.Remote {
		return nil
	}
	return func() tea.Msg {
		p := expandHome(arg)
		dir, base := filepath.Split(p)
		list := dir
		if list == "" {
			list = "."
		}
		ents, err := os.ReadDir(list)
		if err != nil {
			return pathCompMsg{value: v}
		}
		var out []string
		for _, e := range ents {
			name := e.Name()
			if !strings.HasPrefix(name, base) || strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".") {
				continue
			}
			isDir := e.IsDir()
			if e.Type()&os.ModeSymlink != 0 {
				if st, err := os.Stat(filepath.Join(list, name)); err == nil {
					isDir = st.IsDir()
				}
			}
			if isDir {
				name += "/"
			}
			out = append(out, dir+name)
		}
		sort.Strings(out)
		if len(out) > 200 {
			out = out[:200]
		}
		return pathCompMsg{value: v, matches: out}
	}
}

// onPathComp applies a listing unless the text changed meanwhile.
func (m *Model) onPathComp(msg pathCompMsg) {
	c := &m.comp
	if c.value() != msg.value {
		return
	}
	switch len(msg.matches) {
	case 0:
		m.setNotice("no file matches " + strings.TrimPrefix(msg.value, attachPrefix))
		return
	case 1:
		c.setValue(attachPrefix + msg.matches[0])
		return
	}
	prefix := msg.matches[0]
	for _, s := range msg.matches[1:] {
		for !strings.HasPrefix(s, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	c.setValue(attachPrefix + prefix)
	c.comp.items = c.comp.items[:0]
	for _, s := range msg.matches {
		label := filepath.Base(s)
		if strings.HasSuffix(s, "/") {
			label += "/"
		}
		c.comp.items = append(c.comp.items, compItem{label: label, insert: s})
	}
	c.comp.kind, c.comp.start, c.comp.sel = pathKind, len(attachPrefix), 0
}
