package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
	"mimichat/render"
)

// confirmDialog asks a yes/no question; any key but the accept keys answers
// no, so a stray key never confirms something destructive.
type confirmDialog struct {
	km       *keys.Keymap
	question string
	yes      func() tea.Cmd
}

// newConfirmDialog asks question, adding the keys that answer it
// ("Delete this message? y/n").
func newConfirmDialog(km *keys.Keymap, question string, yes func() tea.Cmd) *confirmDialog {
	if y, n := keyHint(km, keys.Confirm, keys.Accept), keyHint(km, keys.Confirm, keys.Cancel); y != "" && n != "" {
		question += " " + y + "/" + n
	}
	return &confirmDialog{km: km, question: question, yes: yes}
}

func (d *confirmDialog) Context() keys.Context { return keys.Confirm }

func (d *confirmDialog) Update(msg tea.Msg) (dialog, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return d, nil
	}
	if a, _ := d.km.Action(keys.Confirm, k.String()); a == keys.Accept {
		return nil, d.yes()
	}
	return nil, nil
}

// View wraps the question inside the box: in the title it was cut at 80
// columns, and with it the keys that answer it.
func (d *confirmDialog) View(th *render.Theme, width, height int) string {
	body := render.Wrap(render.SanitizeLine(d.question), max(1, width-4))
	if n := max(1, height-2); len(body) > n {
		body = append(body[:n-1], render.TruncateLine(strings.Join(body[n-1:], " "), max(1, width-4)))
	}
	return box(th, width, "Confirm", body)
}
