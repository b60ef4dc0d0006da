package ui

import (
	"context"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/render"
)

// Every action on a message is also a /command, so nothing needs a chord.
type command struct {
	name, args, help string
}

var commandList = []command{
	{"reply", "[text]", "reply to the selected message"},
	{"react", "[emoji]", "react to the selected message (picker without an emoji)"},
	{"unreact", "", "remove your reaction from the selected message"},
	{"edit", "", "edit the selected message (or your last one)"},
	{"delete", "", "delete the selected message"},
	{"open-thread", "", "open the selected message's thread (or start one)"},
	{"copy", "", "copy the selected message's text (OSC 52)"},
	{"open-attachment", "", "download, check, decrypt and open the attachment or call link"},
	{"save-attachment", "[dir]", "download, check and decrypt the attachment into a directory"},
	{"jump-to-parent", "", "select the message the selected one replies to"},
	{"versions", "", "show the selected message's version history"},
	{"receipts", "", "show who received and read the selected message"},
	{"knock", "", "knock: alert the room"},
	{"expire", "DURATION TEXT", "send a message that vanishes, e.g. /expire 30s hi"},
	{"call", "URL [description]", "share a call link"},
	{"attach", "FILE", "send a file, encrypted (where a file store is configured)"},
	{"retry", "", "resend your failed messages"},
	{"topic", "TEXT", "set the room topic"},
	{"name", "TEXT", "rename the room"},
	{"join", "[ROOM-URI]", "join a room (this one, when invited)"},
	{"leave", "", "leave this room"},
	{"invite", "USER-URI", "invite a user"},
	{"room", "NAME", "switch to a room"},
	{"rooms", "", "find a room (picker)"},
	{"mouse", "", "toggle mouse capture"},
	{"help", "", "show every key and command"},
	{"quit", "", "quit"},
}

// commandHandlers holds /commands defined in their own files: each file
// appends its entries to commandList and its handler here from init, so
// features do not all grow one switch.
var commandHandlers = map[string]func(m *Model, r *room, arg string) tea.Cmd{}

// registerCommand adds a /command with its help line and handler.
func registerCommand(c command, h func(m *Model, r *room, arg string) tea.Cmd) {
	commandList = append(commandList, c)
	commandHandlers[c.name] = h
}

type opMsg struct {
	what string
	err  error
}

// send sends the composer's text (or runs its /command).
func (m *Model) send() tea.Cmd {
	text := strings.TrimRight(m.comp.value(), " \n")
	r := m.current()
	if text == "" || r == nil {
		return nil
	}
	if strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//") {
		m.comp.reset()
		return m.runCommand(text)
	}
	text = strings.TrimPrefix(text, "/")
	md := render.ReplaceShortcodes(text)
	b := m.builder(r)
	var opts []content.Option
	topic := r.thread
	if r.thread != "" && !r.threadOf.IsZero() && topic != "" {
		if _, ok := r.tl.Thread(topic); !ok {
			opts = append(opts, content.InReplyTo(r.threadOf))
		}
	}
	if topic != "" {
		opts = append(opts, content.InTopic([]byte(topic)))
	}
	var msg *content.Message
	var err error
	switch {
	case !m.comp.editing.IsZero():
		it := m.comp.editIt
		prev := &content.Message{TopicID: []byte(it.Topic)}
		if !it.ReplyTo.IsZero() {
			rt := it.ReplyTo
			prev.InReplyTo = &rt
		}
		msg, err = b.Edit(it.ID, prev, content.MarkdownPart(md))
	case !m.comp.replyTo.IsZero():
		msg, err = b.Reply(m.comp.replyTo, content.MarkdownPart(md), opts...)
	default:
		msg, err = b.Markdown(md, opts...)
	}
	if err != nil {
		m.setNotice("cannot send: " + err.Error())
		return nil
	}
	m.comp.reset()
	_ = m.s.Typing(r.id, false)
	delete(m.typingSent, r.id)
	r.bottom, r.sel = -1, -1
	return m.sendMsg(r, msg)
}

// runCommand runs one /command line.
func (m *Model) runCommand(line string) tea.Cmd {
	name, arg, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "/"), " ")
	arg = strings.TrimSpace(arg)
	r := m.current()
	if h, ok := commandHandlers[name]; ok && r != nil {
		return h(m, r, arg)
	}
	if r == nil && name != "quit" && name != "help" && name != "join" {
		m.setNotice("no room")
		return nil
	}
	needSel := func() (content.Item, bool) {
		_, it, ok := m.selected()
		switch {
		case ok:
		case r != nil && r.thread == "" && r.sel >= r.mainLen() && m.focus != keys.Composer:
			m.setNotice("that message was not sent: /retry")
		default:
			m.setNotice("select a message first (" + keys.Display(firstKey(m.km, keys.Global, keys.SelectMode)) + ")")
		}
		return it, ok
	}
	switch name {
	case "reply":
		it, ok := needSel()
		if !ok {
			return nil
		}
		if arg != "" {
			msg, err := m.builder(r).Reply(it.Current, content.MarkdownPart(render.ReplaceShortcodes(arg)))
			if err != nil {
				m.setNotice(err.Error())
				return nil
			}
			return m.sendMsg(r, msg)
		}
		m.comp.reset()
		m.comp.replyTo = it.Current
		m.comp.replyTx = "Replying to " + m.name(it.Sender) + ": " + previewOf(&it.Body, m.opt.Languages)
		return m.focusAndKeep()
	case "react":
		it, ok := needSel()
		if !ok {
			return nil
		}
		if arg != "" {
			e := arg
			if v, ok := render.EmojiByCode(arg); ok {
				e = v
			}
			return m.react(r, it, e)
		}
		m.openReactPicker(it)
	case "unreact":
		it, ok := needSel()
		if !ok {
			return nil
		}
		return m.unreact(r, it)
	case "edit":
		if it, ok := m.selectedOrNone(); ok {
			if it.Sender != m.me {
				m.setNotice("you can only edit your own messages")
				return nil
			}
			m.startEdit(it)
			return nil
		}
		m.editLast()
	case "delete":
		it, ok := needSel()
		if !ok {
			return nil
		}
		m.openConfirm("Delete this message?", func() tea.Cmd {
			msg, err := m.builder(r).Delete(it.ID, &content.Message{TopicID: []byte(it.Topic)})
			if err != nil {
				m.setNotice(err.Error())
				return nil
			}
			return m.sendMsg(r, msg)
		})
	case "open-thread":
		it, ok := needSel()
		if !ok {
			return nil
		}
		m.openThread(r, it)
		return m.comp.focus()
	case "copy":
		it, ok := needSel()
		if !ok {
			return nil
		}
		m.setNotice("copied")
		return tea.SetClipboard(bodyText(&it.Body, m.opt.Languages))
	case "open-attachment", "save-attachment":
		it, ok := needSel()
		if !ok {
			return nil
		}
		return m.attachment(it, name == "open-attachment", arg)
	case "jump-to-parent":
		it, ok := needSel()
		if !ok {
			return nil
		}
		if it.ReplyTo.IsZero() {
			m.setNotice("not a reply")
			return nil
		}
		if i, ok := r.tl.Index(it.ReplyTo); ok {
			r.syncMain()
			k, shown := r.main.row(i)
			if !shown { // the parent lives in a thread: show it there
				m.openThread(r, r.tl.At(i))
				m.focus = keys.Timeline
				m.comp.blur()
				return nil
			}
			m.closeThread()
			r.sel = k
			m.focus = keys.Timeline
			m.comp.blur()
			return nil
		}
		m.setNotice("the earlier message is not loaded; scroll up to load more")
		return m.loadOlder(r)
	case "versions":
		if it, ok := needSel(); ok {
			m.openVersions(r, it)
		}
	case "receipts":
		if it, ok := needSel(); ok {
			m.openReceipts(r, it)
		}
	case "knock":
		msg, err := m.builder(r).Knock(m.name(m.me))
		if err != nil {
			m.setNotice(err.Error())
			return nil
		}
		return m.sendMsg(r, msg)
	case "expire":
		ds, text, _ := strings.Cut(arg, " ")
		d, err := time.ParseDuration(ds)
		if err != nil || text == "" {
			m.setNotice("usage: /expire DURATION TEXT (e.g. /expire 30s hello)")
			return nil
		}
		msg, err := m.builder(r).Markdown(render.ReplaceShortcodes(text), content.ExpiresAt(m.now().Add(d)))
		if err != nil {
			m.setNotice(err.Error())
			return nil
		}
		return m.sendMsg(r, msg)
	case "call":
		u, desc, _ := strings.Cut(arg, " ")
		if u == "" {
			m.setNotice("usage: /call URL [description]")
			return nil
		}
		msg, err := m.builder(r).CallLink("", u, desc)
		if err != nil {
			m.setNotice(err.Error())
			return nil
		}
		return m.sendMsg(r, msg)
	case "attach":
		return m.attach(r, arg)
	case "retry":
		return m.retryFailed(r)
	case "topic":
		return m.roomOp("topic set", func(ctx context.Context) error { _, err := m.s.SetTopic(ctx, r.id, arg); return err })
	case "name":
		return m.roomOp("room renamed", func(ctx context.Context) error { _, err := m.s.SetName(ctx, r.id, arg); return err })
	case "join":
		if arg == "" && r != nil {
			arg = r.id // accept the invitation to the room on screen
		}
		return m.roomOp("joined", func(ctx context.Context) error { _, err := m.s.Join(ctx, arg); return err })
	case "leave":
		return m.roomOp("left "+r.title(), func(ctx context.Context) error { _, err := m.s.Leave(ctx, r.id); return err })
	case "invite":
		return m.roomOp("invited", func(ctx context.Context) error { _, err := m.s.Invite(ctx, r.id, arg); return err })
	case "room":
		q := strings.ToLower(arg)
		for i, rr := range m.rooms {
			if strings.Contains(strings.ToLower(rr.title()), q) {
				m.switchRoom(i)
				return nil
			}
		}
		m.setNotice("no room matches " + arg)
	case "rooms":
		m.openRoomPicker()
	case "mouse":
		c, _ := m.act(keys.Global, keys.ToggleMouse)
		return c
	case "help":
		m.openHelp()
	case "quit":
		return m.quit()
	default:
		m.setNotice("unknown command /" + name + " — /help lists them")
	}
	return nil
}
