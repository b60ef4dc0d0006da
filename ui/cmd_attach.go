package ui

// Commands for files: open or save the selected message's attachment (or
// call link), and send a file.

import (
	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
)

var attachmentCommands = []*command{
	{name: keys.OpenAttach, help: "open the attachment (downloaded, checked, decrypted) or call link, or choose one of the message's links", target: targetMessage,
		run: func(m *Model, c *call) tea.Cmd { return m.attachment(c.it, true, c.arg) }},
	{name: keys.SaveAttach, args: "[dir]", help: "download, check and decrypt the attachment into a directory", target: targetMessage,
		run: func(m *Model, c *call) tea.Cmd { return m.attachment(c.it, false, c.arg) }},
	{name: keys.AttachFile, args: "[FILE]", help: "send a file, encrypted (where a file store is configured); without FILE a file picker opens", target: targetRoom,
		run: func(m *Model, c *call) tea.Cmd { return m.attach(c.r, c.arg) }},
}
