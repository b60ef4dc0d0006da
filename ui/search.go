package ui

// /search: full-text search over the cache (session.Store.Search, SQLite
// FTS5). The dialog searches again as the query changes (each search a
// tea.Cmd; only the newest query's answer is shown), and enter shows the
// chosen message in its room's timeline, loading the cached history down to
// it when it is older than what is loaded.

import (
	"context"
	"errors"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/render"
	"mimichat/session"
)

var searchCommands = []*command{
	{name: "search", args: "TEXT", help: "search the messages cached here (results as you type; enter shows one in its room)",
		run: func(m *Model, c *call) tea.Cmd { return m.openSearch(c.arg) }},
}

// searchLimit is how many results one query shows.
const searchLimit = 100

// searchHit is one result as the dialog draws it: every string made from
// network text is sanitized here, when the result arrives.
type searchHit struct {
	room    string
	id      content.MessageID
	seq     uint64
	head    string // "Room · Sender · time"
	snippet []session.SnippetSpan
}

// searchDialog is the search box: a query field and the results.
type searchDialog struct {
	km    *keys.Keymap
	input textinput.Model
	run   func(query string, gen int) tea.Cmd
	gen   int // the newest query sent
	shown int // the query the results are for
	hits  []searchHit
	sel   int
	err   string
}

func (m *Model) openSearch(query string) tea.Cmd {
	in := textinput.New()
	in.Prompt = ""
	in.SetVirtualCursor(false)
	in.Focus()
	in.SetValue(query)
	in.CursorEnd()
	store, now := m.s.Store(), m.now()
	d := &searchDialog{km: m.km, input: in}
	d.run = func(q string, gen int) tea.Cmd {
		return func() tea.Msg {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			hits, err := store.Search(ctx, q, "", searchLimit)
			return funcMsg(func(m *Model) tea.Cmd {
				if d2, ok := m.ov.(*searchDialog); ok && d2 == d {
					d.results(m, gen, hits, err, now)
				}
				return nil
			})
		}
	}
	m.ov = d
	return d.search()
}

// search sends the query as it is now.
func (d *searchDialog) search() tea.Cmd {
	d.gen++
	q := d.input.Value()
	if strings.TrimSpace(q) == "" {
		d.hits, d.err, d.shown, d.sel = nil, "", d.gen, 0
		return nil
	}
	return d.run(q, d.gen)
}

// results takes a query's answer unless a newer query was sent since.
func (d *searchDialog) results(m *Model, gen int, hits []session.SearchHit, err error, now time.Time) {
	if gen < d.shown {
		return // an older query's answer came after a newer one's
	}
	d.shown = gen
	d.err = ""
	switch {
	case errors.Is(err, session.ErrEmptyQuery):
		d.hits = nil
		return
	case err != nil:
		d.err = err.Error()
		return
	}
	d.hits = d.hits[:0]
	for _, h := range hits {
		room := shortName(h.Room)
		if r, ok := m.byID[h.Room]; ok {
			room = r.title()
		}
		head := render.SanitizeLine(room) + " · " + render.SanitizeLine(m.name(h.Sender)) + " · " + searchTime(h.Time.Local(), now)
		d.hits = append(d.hits, searchHit{room: h.Room, id: h.ID, seq: h.Seq, head: head, snippet: h.Snippet})
	}
	if d.sel >= len(d.hits) {
		d.sel = 0
	}
}

// searchTime is a result's time: the clock today, the date before.
func searchTime(t, now time.Time) string {
	switch {
	case t.Year() == now.Year() && t.YearDay() == now.YearDay():
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("Jan 2 15:04")
	}
	return t.Format("2006-01-02 15:04")
}

func (d *searchDialog) Context() keys.Context { return keys.Picker }

func (d *searchDialog) Update(msg tea.Msg) (dialog, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		a, _ := d.km.Action(keys.Picker, k.String())
		switch a {
		case keys.SelectPrev:
			d.sel = max(0, d.sel-1)
			return d, nil
		case keys.SelectNext:
			d.sel = max(0, min(len(d.hits)-1, d.sel+1))
			return d, nil
		case keys.PageUp:
			d.sel = max(0, d.sel-pickerPage)
			return d, nil
		case keys.PageDown:
			d.sel = max(0, min(len(d.hits)-1, d.sel+pickerPage))
			return d, nil
		case keys.Accept:
			if d.sel >= len(d.hits) {
				return d, nil
			}
			h := d.hits[d.sel]
			return nil, func() tea.Msg {
				return funcMsg(func(m *Model) tea.Cmd { return m.jumpToMessage(h.room, h.id, h.seq) })
			}
		case keys.Cancel:
			return nil, nil
		}
	}
	before := d.input.Value()
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(msg)
	if d.input.Value() != before {
		return d, tea.Batch(cmd, d.search())
	}
	return d, cmd
}

func (d *searchDialog) View(th *render.Theme, width, height int) string {
	s := &th.Styles
	inner := width - 4
	q := []rune(d.input.Value())
	pos := min(d.input.Position(), len(q))
	body := []string{s.Accent.Render("> ") + render.SanitizeLine(string(q[:pos])) + "▏" + render.SanitizeLine(string(q[pos:]))}
	title := "Search"
	switch {
	case d.err != "":
		body = append(body, s.Error.Render(render.TruncateLine(render.SanitizeLine(d.err), inner)))
	case strings.TrimSpace(string(q)) == "":
		body = append(body, s.Muted.Render("type words to find in the messages cached here"))
	case d.shown != d.gen && len(d.hits) == 0:
		body = append(body, s.Muted.Render("searching…"))
	case len(d.hits) == 0:
		body = append(body, s.Muted.Render("no message found"))
	default:
		title = "Search: " + plural(len(d.hits), "message") + " (" + keyHint(d.km, keys.Picker, keys.Accept) + " shows it)"
		if len(d.hits) == searchLimit {
			title = "Search: the newest " + plural(len(d.hits), "message") + " (" + keyHint(d.km, keys.Picker, keys.Accept) + " shows it)"
		}
	}
	// two lines per result; the window keeps the selection in view
	fit := max(1, (height-3-len(body))/2)
	first := max(0, min(d.sel-fit/2, len(d.hits)-fit))
	for i := first; i < len(d.hits) && i < first+fit; i++ {
		h := d.hits[i]
		head, text := s.Muted, s.PickerItem
		if i == d.sel {
			head, text = s.PickerSelected, s.PickerSelected
		}
		body = append(body, head.Render(padLine(render.TruncateLine(h.head, inner), inner)),
			snippetLine(h.snippet, text, text.Bold(true).Underline(true), inner))
	}
	return box(th, width, title, body)
}

// snippetLine draws a result's snippet on one line width cells wide: the
// text sanitized (line breaks become spaces), the matches in hl.
func snippetLine(spans []session.SnippetSpan, st, hl interface{ Render(...string) string }, width int) string {
	var b strings.Builder
	for _, sp := range spans {
		t := render.SanitizeLine(strings.Join(strings.Fields(sp.Text), " "))
		if sp.Text != "" && strings.TrimLeft(sp.Text[:1], " \n\t") == "" && t != "" {
			t = " " + t
		}
		if n := len(sp.Text); n > 0 && strings.TrimRight(sp.Text[n-1:], " \n\t") == "" && t != "" && !sp.Match {
			t += " "
		}
		if sp.Match {
			b.WriteString(hl.Render(t))
		} else {
			b.WriteString(st.Render(t))
		}
	}
	line := render.Truncate(b.String(), width, "…")
	if pad := width - render.Width(line); pad > 0 {
		line += st.Render(strings.Repeat(" ", pad))
	}
	return line
}

// plural is "1 message", "2 messages".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return itoa(n) + " " + what + "s"
}

// jumpToMessage shows message id (at seq) of room in its timeline,
// selected: in the room's rows when loaded, else after loading the cached
// history down to it.
func (m *Model) jumpToMessage(roomID string, id content.MessageID, seq uint64) tea.Cmd {
	r, ok := m.byID[roomID]
	if !ok {
		m.setNotice("that message's room is not in your room list")
		return nil
	}
	for i, rr := range m.rooms {
		if rr == r && i != m.cur {
			m.switchRoom(i)
		}
	}
	if m.selectMessage(r, id) {
		return nil
	}
	if r.loading {
		m.setNotice("history is loading; try again in a moment")
		return nil
	}
	from := seq - min(seq-1, jumpContext)
	if r.first > 0 && from >= r.first {
		m.setNotice("that message is not in this room's timeline")
		return nil
	}
	r.loading = true
	m.setNotice("loading history…")
	s, me, hl := m.s, m.me, r.hl
	return func() tea.Msg {
		es, err := s.Store().After(roomID, from-1, 1<<30)
		if err == nil && len(es) == 0 {
			err = errors.New("the cache has nothing there")
		}
		if err != nil {
			return funcMsg(func(m *Model) tea.Cmd { return m.onHistory(historyMsg{room: roomID, err: err}) })
		}
		tl := newTimeline(me, hl)
		for _, e := range es {
			applyEntry(tl, e)
		}
		msg := historyMsg{room: roomID, tl: tl, first: es[0].Seq, last: es[len(es)-1].Seq, more: es[0].Seq > 1}
		return funcMsg(func(m *Model) tea.Cmd { return m.onJumpHistory(msg, id) })
	}
}

// jumpContext is how many entries before a found message are loaded with
// it, so it shows in context.
const jumpContext = 50

// onJumpHistory swaps in the timeline loaded for a jump and selects the
// message; entries that arrived meanwhile are applied first.
func (m *Model) onJumpHistory(msg historyMsg, id content.MessageID) tea.Cmd {
	r, ok := m.byID[msg.room]
	if !ok {
		return nil
	}
	if r.last > msg.last {
		s, last := m.s, r.last
		return func() tea.Msg {
			rest, err := s.Store().After(msg.room, msg.last, int(last-msg.last))
			if err != nil {
				return funcMsg(func(m *Model) tea.Cmd { return m.onHistory(historyMsg{room: msg.room, err: err}) })
			}
			for _, e := range rest {
				applyEntry(msg.tl, e)
				msg.last = e.Seq
			}
			return funcMsg(func(m *Model) tea.Cmd { return m.onJumpHistory(msg, id) })
		}
	}
	cmd := m.onHistory(msg)
	if m.current() == r && !m.selectMessage(r, id) {
		m.setNotice("that message is not in this room's timeline")
	} else if m.current() == r {
		m.notice = ""
	}
	return cmd
}

// selectMessage selects message id in r (opening its thread when it lives
// in one) and focuses the timeline; false when r's timeline lacks it.
func (m *Model) selectMessage(r *room, id content.MessageID) bool {
	i, ok := r.tl.Index(id)
	if !ok {
		return false
	}
	r.syncMain()
	k, shown := r.main.row(i)
	if !shown {
		m.openThread(r, r.tl.At(i))
		r.tl.Read(func(v content.View) { // select it, not the thread's first row
			n, item, _ := m.threadRows(r, v)
			for j := range n {
				if it := item(j); it.ID == id || it.Current == id {
					r.tsel = j
					return
				}
			}
		})
	} else {
		m.closeThread()
		r.sel = k
		m.revealSel(r)
	}
	m.focus = keys.Timeline
	m.comp.blur()
	return true
}
