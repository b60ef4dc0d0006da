package ui

// The client's one command table. Every key action and every /command is an
// entry here: its name (the keymap's action name, and the /command unless it
// is key-only), arguments, help, what it needs (a room, a selected message),
// the room-policy capability it needs and its run function. Keys reach it
// through keys/ (action name → entry), typed /commands by name, and the help
// dialog, / completion and docs/keys.md are drawn from it. Entries live
// with their feature, in the cmd_*.go files.

import (
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/proto"
)

// command is one entry of the table.
type command struct {
	name keys.Action // the keymap's action name; also the /command name
	// slash is the /command name when it differs from name ("mouse" for
	// toggle-mouse); keyOnly commands have none.
	slash   string
	keyOnly bool
	args    string // argument synopsis: "USER [reason]"
	help    string // one line; key-only commands take the keymap's description
	target  target
	may     *capability // nil: anyone in the room
	run     func(m *Model, c *call) tea.Cmd
}

// target is what a command needs before it can run.
type target uint8

const (
	targetNone    target = iota // runs anywhere, even with no room
	targetRoom                  // needs the room on screen
	targetMessage               // needs a selected message (it is in call.it)
)

// call is one run of a command.
type call struct {
	ctx   keys.Context // where the key was pressed; Composer for a typed /command
	r     *room        // the room on screen (non-nil unless target is targetNone)
	it    content.Item // the selected message, for targetMessage
	arg   string       // what follows a typed /command
	slash bool         // typed as a /command rather than a key
	// pass is set by run when the key did nothing, so it goes on to the
	// composer (up in a non-empty composer moves the cursor).
	pass bool
}

// capability is what the room policy must grant for a command.
type capability struct {
	// who names the roles that may, for help and refusals: "moderators and owners".
	who string
	// min is the lowest role that may; limited reports a known lower role.
	min proto.Role
	// refuse, when set, is checked before run: why this user may not do
	// this call ("" when they may). Without it the relay decides and its
	// refusal carries the reason; the table only greys the command.
	refuse func(m *Model, c *call) string
}

// limited reports whether the user's known role in r is below the
// capability's, so help and completion grey the command.
func (cp *capability) limited(m *Model, r *room) bool {
	if cp == nil || r == nil {
		return false
	}
	role := m.myRole(r)
	return role != "" && role.Rank() < cp.min.Rank()
}

// moderators is the capability of room operations the relay authorizes
// (room-policy roles): kick, ban, invite, topic, name.
var moderators = &capability{who: "moderators and owners", min: proto.RoleModerator}

// myRole is the user's role in r: the session's room info (kept current
// from the room's role events), else the member list ("" when unknown).
func (m *Model) myRole(r *room) proto.Role {
	if r.info.Role != "" {
		return r.info.Role
	}
	for _, mem := range r.members {
		if mem.User == m.me {
			return mem.Role
		}
	}
	return ""
}

// commands is the table, in help order; byAction and bySlash index it.
var (
	commands []*command
	byAction map[keys.Action]*command
	bySlash  map[string]*command
)

func init() {
	commands = slices.Concat(messageCommands, attachmentCommands, sendCommands, roomCommands, createCommands, memberCommands,
		moderationCommands, verifyCommands, deviceCommands, historyCommands, searchCommands, reactionCommands, appCommands, layoutCommands, narrowCommands, navigationCommands, composerCommands,
		notifyCommands, invitationCommands) // ui/notify_level.go, ui/invitations.go
	byAction = map[keys.Action]*command{}
	bySlash = map[string]*command{}
	for _, c := range commands {
		if c.help == "" {
			c.help = describe(c.name)
		}
		byAction[c.name] = c
		if !c.keyOnly {
			if c.slash == "" {
				c.slash = string(c.name)
			}
			bySlash[c.slash] = c
		}
	}
}

// describe is the keymap's description of a, from the first context that
// has it.
func describe(a keys.Action) string {
	for _, ctx := range keys.Contexts {
		if d := keys.Describe(ctx, a); d != "" {
			return d
		}
	}
	return ""
}

// act runs the command bound to action a, pressed in ctx. handled=false
// lets the key go on (to the composer, for instance).
func (m *Model) act(ctx keys.Context, a keys.Action) (tea.Cmd, bool) {
	c, ok := byAction[a]
	if !ok {
		return nil, false
	}
	cl := &call{ctx: ctx}
	cmd := m.runCall(c, cl)
	return cmd, !cl.pass
}

// runCommand runs one typed /command line.
func (m *Model) runCommand(line string) tea.Cmd {
	name, arg, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "/"), " ")
	c, ok := bySlash[name]
	if !ok {
		m.setNotice("unknown command /" + name + " — /help lists them")
		return nil
	}
	return m.runCall(c, &call{ctx: keys.Composer, arg: strings.TrimSpace(arg), slash: true})
}

// runCall checks what c needs (a room, a message, the capability) and runs
// it; a refusal is a notice saying why, never silence.
func (m *Model) runCall(c *command, cl *call) tea.Cmd {
	cl.r = m.current()
	if m.opt.Remote && hostOnly[c.name] {
		m.setNotice(string(c.name) + " is not available here: this client runs on the booth's machine, not yours")
		return nil
	}
	if c.target >= targetRoom && cl.r == nil {
		m.setNotice("no room")
		return nil
	}
	if c.target == targetMessage {
		it, ok := m.needSelected(cl.r)
		if !ok {
			return nil
		}
		cl.it = it
	}
	if why := m.roleRefusal(c, cl); why != "" {
		m.setRefusal(why)
		return nil
	}
	if c.may != nil && c.may.refuse != nil {
		if why := c.may.refuse(m, cl); why != "" {
			m.setRefusal(why)
			return nil
		}
	}
	return c.run(m, cl)
}

// hostOnly are the commands that run a program or read or write a file of
// the machine the client runs on: refused when Options.Remote is set.
var hostOnly = map[keys.Action]bool{keys.OpenEditor: true, keys.OpenAttach: true, keys.SaveAttach: true, "attach": true}

// hostOnlyKeys are the hostOnly actions, which help does not list when
// Options.Remote is set (their keys answer why not).
func hostOnlyKeys() []keys.Action {
	out := make([]keys.Action, 0, len(hostOnly))
	for a := range hostOnly {
		out = append(out, a)
	}
	return out
}

// needSelected is the selected message, or a notice saying how to select
// one.
func (m *Model) needSelected(r *room) (content.Item, bool) {
	_, it, ok := m.selected()
	switch {
	case ok:
	case r.thread == "" && r.sel >= r.mainLen() && m.focus != keys.Composer:
		m.setNotice("that message was not sent: /retry")
	default:
		m.setNotice("select a message first (" + keys.Display(firstKey(m.km, keys.Global, keys.SelectMode)) + ")")
	}
	return it, ok
}

// slashCommands are the commands that can be typed, in help order.
func slashCommands() []*command {
	var out []*command
	for _, c := range commands {
		if !c.keyOnly {
			out = append(out, c)
		}
	}
	return out
}

// synopsis is "/name ARGS".
func (c *command) synopsis() string {
	if c.args == "" {
		return "/" + c.slash
	}
	return "/" + c.slash + " " + c.args
}

// helpText is the command's help, with who may run it when the room's
// policy limits it.
func (c *command) helpText() string {
	if c.may != nil {
		return c.help + " (" + c.may.who + ")"
	}
	return c.help
}
