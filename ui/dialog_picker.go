package ui

import (
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/sahilm/fuzzy"

	"mimichat/keys"
	"mimichat/render"
)

// pickerDialog is a list with a search field (rooms, reactions). The query
// is a bubbles textinput (cursor movement, word delete, paste); the list is
// ranked by a fuzzy matcher unless the picker brings its own search.
type pickerDialog struct {
	km     *keys.Keymap
	title  string
	input  textinput.Model
	all    []pickItem
	items  []pickItem
	sel    int
	search func(q string) []pickItem // nil: fuzzy ranking of all
	accept func(it pickItem) tea.Cmd
}

// pickItem is one choice. label is shown (sanitized when the item is made,
// so match positions index what is drawn); matched holds the byte offsets in
// label of the query's characters, for highlighting.
type pickItem struct {
	label   string
	value   string
	idx     int
	matched []int
}

// pickerPage is how far page-up and page-down move the selection.
const pickerPage = 10

func newPickerDialog(km *keys.Keymap, title string, all []pickItem, search func(string) []pickItem, accept func(pickItem) tea.Cmd) *pickerDialog {
	in := textinput.New()
	in.Prompt = ""
	in.SetVirtualCursor(false) // the view draws its own bar cursor
	in.Focus()
	d := &pickerDialog{km: km, title: title, input: in, all: all, search: search, accept: accept}
	d.filter()
	return d
}

// rankItems orders items by how well their labels match q (best first,
// ties in the given order) and records the matched positions; an empty q
// keeps every item in order.
func rankItems(items []pickItem, q string) []pickItem {
	if q == "" {
		return append([]pickItem(nil), items...)
	}
	labels := make([]string, len(items))
	for i, it := range items {
		labels[i] = it.label
	}
	ms := fuzzy.Find(q, labels)
	out := make([]pickItem, len(ms))
	for i, mt := range ms {
		out[i] = items[mt.Index]
		out[i].matched = mt.MatchedIndexes
	}
	return out
}

// markMatches records where q's characters fall in each label, for items a
// picker's own search found.
func markMatches(items []pickItem, q string) {
	if q == "" {
		return
	}
	for i := range items {
		if ms := fuzzy.Find(q, []string{items[i].label}); len(ms) == 1 {
			items[i].matched = ms[0].MatchedIndexes
		}
	}
}

func (d *pickerDialog) filter() {
	q := d.input.Value()
	if d.search != nil {
		d.items = d.search(q)
		markMatches(d.items, q)
	} else {
		d.items = rankItems(d.all, q)
	}
	if d.sel >= len(d.items) {
		d.sel = 0
	}
}

func (d *pickerDialog) Context() keys.Context { return keys.Picker }

func (d *pickerDialog) Update(msg tea.Msg) (dialog, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		a, _ := d.km.Action(keys.Picker, k.String())
		switch a {
		case keys.SelectPrev:
			d.sel = max(0, d.sel-1)
			return d, nil
		case keys.SelectNext:
			d.sel = max(0, min(len(d.items)-1, d.sel+1))
			return d, nil
		case keys.PageUp:
			d.sel = max(0, d.sel-pickerPage)
			return d, nil
		case keys.PageDown:
			d.sel = max(0, min(len(d.items)-1, d.sel+pickerPage))
			return d, nil
		case keys.Accept:
			if d.sel < len(d.items) && d.accept != nil {
				return nil, d.accept(d.items[d.sel])
			}
			return nil, nil
		case keys.Cancel:
			return nil, nil
		}
	}
	before := d.input.Value()
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(msg)
	if d.input.Value() != before {
		d.filter()
	}
	return d, cmd
}

func (d *pickerDialog) View(th *render.Theme, width, height int) string {
	s := &th.Styles
	inner := width - 4
	q := []rune(d.input.Value())
	pos := min(d.input.Position(), len(q))
	body := []string{s.Accent.Render("> ") + render.SanitizeLine(string(q[:pos])) + "▏" + render.SanitizeLine(string(q[pos:]))}
	for i, it := range d.items {
		if len(body) >= height-3 {
			break
		}
		st := s.PickerItem
		if i == d.sel {
			st = s.PickerSelected
		}
		body = append(body, highlight(it, st, inner))
	}
	if len(d.items) == 0 {
		body = append(body, s.Muted.Render("no match"))
	}
	return box(th, width, d.title, body)
}

// highlight draws it's label width cells wide in st, the matched
// characters underlined and bold.
func highlight(it pickItem, st lipgloss.Style, width int) string {
	label := render.TruncateLine(it.label, width)
	if len(it.matched) == 0 {
		return st.Render(padLine(label, width))
	}
	hl := st.Bold(true).Underline(true)
	marked := make(map[int]bool, len(it.matched))
	for _, i := range it.matched {
		marked[i] = true
	}
	var b strings.Builder
	run, runHL := "", false
	flush := func() {
		if run == "" {
			return
		}
		if runHL {
			b.WriteString(hl.Render(run))
		} else {
			b.WriteString(st.Render(run))
		}
		run = ""
	}
	for i, r := range label {
		if marked[i] != runHL {
			flush()
			runHL = marked[i]
		}
		run += string(r)
	}
	flush()
	if pad := width - render.Width(label); pad > 0 {
		b.WriteString(st.Render(strings.Repeat(" ", pad)))
	}
	return b.String()
}
