package ui

// Commands that send a special message: knock, an expiring message, a call
// link; and /retry for the failed ones.

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/render"
)

var sendCommands = []*command{
	{name: keys.Knock, help: "knock: alert the room", target: targetRoom, run: runKnock},
	{name: "expire", args: "DURATION TEXT", help: "send a message that vanishes, e.g. /expire 30s hi", target: targetRoom, run: runExpire},
	{name: "call", args: "URL [description]", help: "share a call link", target: targetRoom, run: runCallLink},
	{name: "retry", help: "resend your failed messages", target: targetRoom, run: runRetry},
}

func runKnock(m *Model, c *call) tea.Cmd {
	msg, err := m.builder(c.r).Knock(m.name(m.me))
	if err != nil {
		m.setNotice(err.Error())
		return nil
	}
	return m.sendMsg(c.r, msg)
}

func runExpire(m *Model, c *call) tea.Cmd {
	ds, text, _ := strings.Cut(c.arg, " ")
	d, err := time.ParseDuration(ds)
	if err != nil || text == "" {
		m.setNotice("usage: /expire DURATION TEXT (e.g. /expire 30s hello)")
		return nil
	}
	msg, err := m.builder(c.r).Markdown(render.ReplaceShortcodes(text), content.ExpiresAt(m.now().Add(d)))
	if err != nil {
		m.setNotice(err.Error())
		return nil
	}
	return m.sendMsg(c.r, msg)
}

func runCallLink(m *Model, c *call) tea.Cmd {
	u, desc, _ := strings.Cut(c.arg, " ")
	if u == "" {
		m.setNotice("usage: /call URL [description]")
		return nil
	}
	msg, err := m.builder(c.r).CallLink("", u, desc)
	if err != nil {
		m.setNotice(err.Error())
		return nil
	}
	return m.sendMsg(c.r, msg)
}

func runRetry(m *Model, c *call) tea.Cmd { return m.retryFailed(c.r) }
