package ui

import (
	"strings"

	bkey "charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"mimichat/content"
	"mimichat/render"
)

// composer is the message input: a multi-line textarea, the reply or edit
// it is writing, and the completion list for :emoji, @mentions and
// /commands.
type composer struct {
	ta      textarea.Model
	replyTo content.MessageID // reply to this version
	replyTx string            // "Replying to Alice: …"
	editing content.MessageID // first version of the message being edited
	editIt  content.Item
	comp    completion
	// sent is what the user sent or ran, oldest first (ctrl+p/ctrl+n
	// recall it); recall is the entry shown (len(sent): the draft) and
	// draft what was typed before recalling
	sent   []string
	recall int
	draft  string
	// changes counts what may change the textarea's view (keys, cursor
	// blinks, focus, edits, width): the frame reuses the empty composer's
	// view while it stays the same (ui/framecache.go)
	changes uint64
	width   int // the last setWidth
	top     int // the first visual line shown (ui/composer_view.go)
	// goalX is the column up and down aim for, kept while they repeat so
	// the cursor comes back to it past a shorter line; -1 when unset
	goalX int
}

// maxInputHistory bounds the composer's input history.
const maxInputHistory = 200

// remember adds text to the input history and returns to the draft.
func (c *composer) remember(text string) {
	if n := len(c.sent); n == 0 || c.sent[n-1] != text {
		c.sent = append(c.sent, text)
		if len(c.sent) > maxInputHistory {
			c.sent = c.sent[len(c.sent)-maxInputHistory:]
		}
	}
	c.recall, c.draft = len(c.sent), ""
}

// recallInput moves through the input history by d (-1 earlier, +1
// later); past the newest it gives back the draft.
func (c *composer) recallInput(d int) {
	if c.recall > len(c.sent) {
		c.recall = len(c.sent)
	}
	next := c.recall + d
	if next < 0 || next > len(c.sent) {
		return
	}
	if c.recall == len(c.sent) {
		c.draft = c.value()
	}
	c.recall = next
	if next == len(c.sent) {
		c.setValue(c.draft)
		return
	}
	c.setValue(c.sent[next])
}

// completion is the open completion list.
type completion struct {
	kind  byte // ':', '@', '/' or 0 when closed
	start int  // byte offset in the value where the token starts
	items []compItem
	sel   int
}

type compItem struct {
	label  string // shown
	insert string // replaces the token
	muted  bool   // a command the room's policy does not give the user: greyed
}

func newComposer(th *render.Theme) composer {
	ta := textarea.New()
	ta.ShowLineNumbers = false
	ta.Prompt = ""
	ta.Placeholder = "Write a message · / for commands"
	ta.SetHeight(1)
	ta.KeyMap.InsertNewline.SetEnabled(false)
	st := textarea.DefaultStyles(th.Name == "dark")
	st.Focused.CursorLine = lipgloss.NewStyle()
	st.Focused.Placeholder = th.Styles.Placeholder
	st.Blurred.Placeholder = th.Styles.Placeholder
	ta.SetStyles(st)
	return composer{ta: ta, goalX: -1}
}

func (c *composer) focus() tea.Cmd { c.changes++; return c.ta.Focus() }
func (c *composer) blur()          { c.changes++; c.ta.Blur() }
func (c *composer) value() string  { return c.ta.Value() }

func (c *composer) setValue(s string) {
	c.changes++
	c.ta.SetValue(s)
	c.ta.MoveToEnd()
	c.goalX = -1
	c.fitHeight()
}

func (c *composer) reset() {
	c.changes++
	c.ta.Reset()
	c.replyTo, c.replyTx = content.MessageID{}, ""
	c.editing = content.MessageID{}
	c.comp = completion{}
	c.goalX = -1
	c.fitHeight()
}

func (c *composer) insert(s string) {
	c.changes++
	c.ta.InsertString(s)
	c.goalX = -1
	c.fitHeight()
}

// maxComposerLines is the most lines the composer grows to; past them it
// scrolls, keeping the cursor's line in view.
const maxComposerLines = 6

// fitHeight sizes the composer to the lines it draws: the value laid out
// at the composer's width by the one width rule (ui/composer_view.go),
// wrapped lines counted as the screen shows them, 1 to maxComposerLines,
// the window moved the least that keeps the cursor's line in view. Every
// change of the value, the cursor or the width calls it, so the frame
// (and the timeline's height above the composer) follows at once.
func (c *composer) fitHeight() {
	n := c.ta.LineCount() // no width yet: the typed lines
	cy := c.ta.Line()
	if c.width > 0 {
		l := c.layout(c.width)
		n, cy = len(l.lines), l.cy
	}
	h := min(max(n, 1), maxComposerLines)
	c.ta.SetHeight(h)
	c.top = compWindow(c.top, cy, n, h)
}

func (c *composer) setWidth(w int) {
	if w < 4 {
		w = 4
	}
	if w == c.width {
		return
	}
	c.width = w
	c.changes++
	c.ta.SetWidth(w)
	c.fitHeight() // wider, fewer lines; narrower, more
}

// update passes a key (or paste) to the textarea; the keys that move the
// cursor a line up or down move it by the lines drawn (moveLine), and so do
// those to a line's start or end (home, end, ctrl+a, ctrl+e: moveLineEdge).
func (c *composer) update(msg tea.Msg) tea.Cmd {
	c.changes++
	if k, ok := msg.(tea.KeyPressMsg); ok && c.ta.Focused() && c.width > 0 {
		moved := true
		switch {
		case bkey.Matches(k, c.ta.KeyMap.LinePrevious):
			c.moveLine(-1)
		case bkey.Matches(k, c.ta.KeyMap.LineNext):
			c.moveLine(1)
		case bkey.Matches(k, c.ta.KeyMap.LineStart):
			c.moveLineEdge(false)
		case bkey.Matches(k, c.ta.KeyMap.LineEnd):
			c.moveLineEdge(true)
		default:
			moved = false
		}
		if moved {
			c.fitHeight()
			return nil
		}
	}
	c.goalX = -1
	var cmd tea.Cmd
	c.ta, cmd = c.ta.Update(msg)
	c.fitHeight()
	return cmd
}

// refreshCompletion opens, updates or closes the completion list from the
// token before the end of the input.
func (m *Model) refreshCompletion() {
	c := &m.comp
	v := c.value()
	start := strings.LastIndexAny(v, " \n\t") + 1
	tok := v[start:]
	c.comp.items = c.comp.items[:0]
	c.comp.kind = 0
	if len(tok) < 2 && !(len(tok) == 1 && tok == "/" && start == 0) {
		return
	}
	switch tok[0] {
	case ':':
		if strings.HasSuffix(tok, ":") && len(tok) > 1 {
			return
		}
		for _, e := range render.CompleteEmoji(tok[1:], 8, m.usage) {
			c.comp.items = append(c.comp.items, compItem{label: e.Emoji + " :" + e.Code + ":", insert: e.Emoji})
		}
	case '@':
		r := m.current()
		if r == nil {
			return
		}
		q := strings.ToLower(tok[1:])
		userArg := completesUserArg(v[:start]) // /kick @bo → the URI, not a mention
		var ranks []int
		for _, mem := range r.members {
			if mem.User == m.me {
				continue
			}
			n := render.SanitizeLine(m.memberName(r, mem.User)) // a history's display name, else the URI's last segment
			rank := mentionRank(q, n, mem.User)
			if rank < 0 {
				continue
			}
			ins := content.MentionMarkdown(n, mem.User)
			if userArg {
				ins = mem.User
			}
			c.comp.items = append(c.comp.items, compItem{label: "@" + n + "  " + mem.User, insert: ins})
			ranks = append(ranks, rank)
		}
		sortByRank(c.comp.items, ranks)
	case '/':
		if start != 0 {
			return
		}
		r := m.current()
		for _, cmd := range slashCommands() {
			if strings.HasPrefix(cmd.slash, tok[1:]) {
				c.comp.items = append(c.comp.items, compItem{label: "/" + cmd.slash + "  " + cmd.helpText(), insert: "/" + cmd.slash + " ",
					muted: cmd.may.limited(m, r)})
			}
		}
	default:
		return
	}
	if len(c.comp.items) == 0 {
		return
	}
	c.comp.kind, c.comp.start = tok[0], start
	if c.comp.sel >= len(c.comp.items) {
		c.comp.sel = 0
	}
}

// acceptCompletion replaces the token with the highlighted item.
func (m *Model) acceptCompletion() {
	c := &m.comp
	if c.comp.kind == 0 || len(c.comp.items) == 0 {
		return
	}
	it := c.comp.items[c.comp.sel]
	v := c.value()
	ins := it.insert
	if c.comp.kind != '/' && c.comp.kind != pathKind {
		ins += " " // a path goes on (a directory) or is complete
	}
	c.setValue(v[:c.comp.start] + ins)
	c.comp = completion{}
}

// completionLines renders the open list (at most 8 rows) for width w.
func (m *Model) completionLines(w int) []string {
	c := &m.comp.comp
	if c.kind == 0 {
		return nil
	}
	var out []string
	for i, it := range c.items {
		st := m.th.Styles.PickerItem
		if it.muted {
			st = m.th.Styles.Muted
		}
		if i == c.sel {
			st = m.th.Styles.PickerSelected
		}
		out = append(out, st.Render(padLine(" "+render.TruncateLine(render.SanitizeLine(it.label), w-2)+" ", w)))
	}
	return out
}
