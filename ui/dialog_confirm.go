package ui

import (
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

func (d *confirmDialog) View(th *render.Theme, width, _ int) string {
	return box(th, width, d.question, nil)
}
