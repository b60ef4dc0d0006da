package ui

// alt+e hands the composer's text to $VISUAL or $EDITOR. Writing the temp
// file is I/O, so it happens in a tea.Cmd; then Bubble Tea suspends the
// program for the editor, and the file comes back as the composer's text.

import (
	"os"
	"os/exec"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// editorFileMsg: the composer's text is in path, ready for the editor.
type editorFileMsg struct {
	path string
	err  error
}

// editorMsg is the text the editor left.
type editorMsg struct {
	text string
	err  error
}

// openEditor writes the composer's text to a temp file, off the event loop.
func (m *Model) openEditor() tea.Cmd {
	text := m.comp.value()
	return func() tea.Msg {
		f, err := os.CreateTemp("", "mimichat-*.md")
		if err != nil {
			return editorFileMsg{err: err}
		}
		_, err = f.WriteString(text)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
			return editorFileMsg{err: err}
		}
		return editorFileMsg{path: f.Name()}
	}
}

// runEditor runs the editor on the file and reads it back when it exits.
func (m *Model) runEditor(msg editorFileMsg) tea.Cmd {
	if msg.err != nil {
		m.setNotice("editor: " + msg.err.Error())
		return nil
	}
	ed := os.Getenv("VISUAL")
	if ed == "" {
		ed = os.Getenv("EDITOR")
	}
	if ed == "" {
		ed = "vi"
	}
	fields := strings.Fields(ed)
	c := exec.Command(fields[0], append(fields[1:], msg.path)...)
	return tea.ExecProcess(c, func(err error) tea.Msg {
		defer os.Remove(msg.path)
		b, rerr := os.ReadFile(msg.path)
		if err == nil {
			err = rerr
		}
		return editorMsg{text: strings.TrimRight(string(b), "\n"), err: err}
	})
}

func (m *Model) onEditor(msg editorMsg) {
	if msg.err != nil {
		m.setNotice("editor: " + msg.err.Error())
		return
	}
	m.comp.setValue(msg.text)
	m.focusComposer()
}
