package ui

// Commands of the composer: send, new line, $EDITOR, completion, cancel
// and editing the last message.

import (
	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
)

var composerCommands = []*command{
	{name: keys.Send, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd { return m.send() }},
	{name: keys.Newline, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd { m.comp.insert("\n"); return nil }},
	{name: keys.OpenEditor, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd { return m.openEditor() }},
	{name: keys.CompleteNext, keyOnly: true, run: runComplete},
	{name: keys.CompletePrev, keyOnly: true, run: runComplete},
	{name: keys.Cancel, keyOnly: true, run: runCancel},
	{name: keys.EditLast, keyOnly: true, run: func(m *Model, c *call) tea.Cmd {
		if m.comp.value() != "" {
			c.pass = true // the cursor moves up in the text instead
			return nil
		}
		m.editLast()
		return nil
	}},
	{name: keys.HistoryPrev, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd { m.comp.recallInput(-1); return nil }},
	{name: keys.HistoryNext, keyOnly: true, run: func(m *Model, _ *call) tea.Cmd { m.comp.recallInput(1); return nil }},
}

func runComplete(m *Model, _ *call) tea.Cmd {
	if cmd := m.completePath(); cmd != nil {
		return cmd // /attach PATH: the directory is read in a tea.Cmd (ui/attach_complete.go)
	}
	m.refreshCompletion()
	return nil
}

// runCancel closes, in order, the completion list, the reply or edit being
// written, the thread pane.
func runCancel(m *Model, _ *call) tea.Cmd {
	switch r := m.current(); {
	case m.comp.comp.kind != 0:
		m.comp.comp = completion{}
	case !m.comp.replyTo.IsZero() || !m.comp.editing.IsZero():
		m.comp.reset()
	case r != nil && r.thread != "":
		m.closeThread()
	}
	return nil
}
