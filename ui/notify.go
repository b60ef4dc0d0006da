package ui

import (
	"os"
	"strings"

	tea "charm.land/bubbletea/v2"

	"mimichat/render"
)

// notify rings the bell and, with Notify "desktop", sends a desktop
// notification escape: OSC 777 where the terminal is known to take it
// (foot, kitty via OSC 99 is not used, VTE, WezTerm...), OSC 9 elsewhere.
// Text is sanitized and stripped of the sequence terminators.
func (m *Model) notify(title, body string) tea.Cmd {
	switch m.opt.Notify {
	case "off":
		return nil
	case "bell":
		return tea.Raw("\a")
	}
	title, body = oscSafe(title), oscSafe(body)
	seq := "\a\x1b]9;" + title + ": " + body + "\x07"
	if osc777Terminal() {
		seq = "\a\x1b]777;notify;" + title + ";" + body + "\x07"
	}
	return tea.Raw(seq)
}

func oscSafe(s string) string {
	s = render.SanitizeLine(s)
	return strings.Map(func(r rune) rune {
		if r == ';' || r == '\x07' || r == '\x1b' {
			return ','
		}
		return r
	}, s)
}

func osc777Terminal() bool {
	if os.Getenv("VTE_VERSION") != "" {
		return true
	}
	switch os.Getenv("TERM_PROGRAM") {
	case "WezTerm", "foot":
		return true
	}
	return strings.HasPrefix(os.Getenv("TERM"), "foot")
}
