package ui

// The /attach file picker (issue 14, "Sending files"): /attach with no file
// named, or its key, opens a box listing a directory; enter opens a folder
// or sends the file through the same code path as /attach PATH.
//
// It is not bubbles' filepicker: that one calls lstat (DirEntry.Info) and
// EvalSymlinks for every visible entry in View and stats in Update, draws
// file names raw (a name may hold escape sequences) and compares its own key
// strings. Here every byte of the disk is read in the listing's tea.Cmd
// (names, types, sizes, symlink targets), names are sanitized there, and the
// keys are the files context's.

import (
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"mimichat/keys"
	"mimichat/render"
)

// maxListed bounds one listing (a directory of a million files would
// otherwise be held and sorted in full).
const maxListed = 10_000

// fileEntry is one line of a listing, everything read in the listing's Cmd.
type fileEntry struct {
	name    string // as on disk, joined to the directory when chosen
	label   string // sanitized for the screen
	dir     bool   // a directory, or a symlink to one
	regular bool   // a regular file (or a symlink to one): the only kind sent
	size    int64
	link    string // sanitized target of a symlink
}

// fileListing is what a listing's Cmd read.
type fileListing struct {
	dir     string
	gen     int
	entries []fileEntry
	more    int // entries past maxListed, not listed
	err     error
}

// listDir reads dir (hidden entries too when hidden), directories first,
// each by name.
func listDir(dir string, hidden bool, gen int) fileListing {
	l := fileListing{dir: dir, gen: gen}
	des, err := os.ReadDir(dir)
	if err != nil {
		l.err = err
		return l
	}
	for _, de := range des {
		name := de.Name()
		if !hidden && strings.HasPrefix(name, ".") {
			continue
		}
		if len(l.entries) == maxListed {
			l.more++
			continue
		}
		e := fileEntry{name: name, label: render.SanitizeLine(name)}
		info, err := de.Info()
		if err != nil {
			continue // gone since ReadDir
		}
		mode := info.Mode()
		if mode&fs.ModeSymlink != 0 {
			if target, err := os.Readlink(filepath.Join(dir, name)); err == nil {
				e.link = render.SanitizeLine(target)
			}
			if st, err := os.Stat(filepath.Join(dir, name)); err == nil {
				info, mode = st, st.Mode()
			}
		}
		e.dir, e.regular, e.size = mode.IsDir(), mode.IsRegular(), info.Size()
		l.entries = append(l.entries, e)
	}
	slices.SortFunc(l.entries, func(a, b fileEntry) int {
		if a.dir != b.dir {
			if a.dir {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(strings.ToLower(a.name), strings.ToLower(b.name)), cmp.Compare(a.name, b.name))
	})
	return l
}

// filesDialog lists one directory. Keys: the files context.
type filesDialog struct {
	km      *keys.Keymap
	home    string // shown as ~
	dir     string // the directory listed
	hidden  bool
	entries []fileEntry
	more    int
	sel     int
	gen     int    // the newest listing asked for
	loading bool   // a listing is on its way
	want    string // the name to select when it arrives
	err     string // why the last listing or choice failed
	// list reads dir in a Cmd and hands the listing to the dialog if it is
	// still open; send attaches a chosen file (the /attach path).
	list func(d *filesDialog, dir string, hidden bool, gen int) tea.Cmd
	send func(path string) tea.Cmd
}

// openFiles opens the picker in the last directory a file was sent from, or
// the home directory.
func (m *Model) openFiles() tea.Cmd {
	home, _ := os.UserHomeDir() // the environment, no disk
	start := cmp.Or(m.attachDir, home, string(filepath.Separator))
	d := &filesDialog{km: m.km, home: home, dir: start}
	d.list = func(d *filesDialog, dir string, hidden bool, gen int) tea.Cmd {
		return func() tea.Msg {
			l := listDir(dir, hidden, gen)
			return funcMsg(func(m *Model) tea.Cmd {
				if d2, ok := m.ov.(*filesDialog); ok && d2 == d {
					d.listed(l)
				}
				return nil
			})
		}
	}
	d.send = func(path string) tea.Cmd {
		return func() tea.Msg {
			return funcMsg(func(m *Model) tea.Cmd {
				return m.runCall(byAction[keys.AttachFile], &call{ctx: keys.Composer, arg: path, slash: true})
			})
		}
	}
	m.ov = d
	return d.open(start, "")
}

// open asks for dir's listing, selecting want (a name) when it comes.
func (d *filesDialog) open(dir, want string) tea.Cmd {
	d.gen++
	d.loading, d.want = true, want
	return d.list(d, dir, d.hidden, d.gen)
}

// listed takes a listing unless a newer one was asked for; a directory that
// cannot be read leaves the one shown.
func (d *filesDialog) listed(l fileListing) {
	if l.gen != d.gen {
		return
	}
	d.loading = false
	if l.err != nil {
		d.err = "cannot open " + d.short(l.dir) + ": " + render.SanitizeLine(explainFSError(l.err))
		return
	}
	d.dir, d.entries, d.more, d.err, d.sel = l.dir, l.entries, l.more, "", 0
	for i, e := range d.entries {
		if e.name == d.want {
			d.sel = i
		}
	}
}

// explainFSError is err without the path (the box shows it already).
func explainFSError(err error) string {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// short is path for the screen: sanitized, the home directory as ~.
func (d *filesDialog) short(path string) string {
	if d.home != "" {
		if rest, ok := strings.CutPrefix(path, d.home); ok && (rest == "" || rest[0] == filepath.Separator) {
			path = "~" + rest
		}
	}
	return render.SanitizeLine(path)
}

func (d *filesDialog) Context() keys.Context { return keys.Files }

func (d *filesDialog) Update(msg tea.Msg) (dialog, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return d, nil
	}
	a, _ := d.km.Action(keys.Files, k.String())
	last := max(0, len(d.entries)-1)
	switch a {
	case keys.SelectPrev:
		d.sel = max(0, d.sel-1)
	case keys.SelectNext:
		d.sel = min(last, d.sel+1)
	case keys.SelectFirst:
		d.sel = 0
	case keys.SelectLast:
		d.sel = last
	case keys.PageUp:
		d.sel = max(0, d.sel-pickerPage)
	case keys.PageDown:
		d.sel = min(last, d.sel+pickerPage)
	case keys.ParentDir:
		if parent := filepath.Dir(d.dir); parent != d.dir {
			return d, d.open(parent, filepath.Base(d.dir))
		}
	case keys.ToggleHidden:
		d.hidden = !d.hidden
		want := ""
		if d.sel < len(d.entries) {
			want = d.entries[d.sel].name
		}
		return d, d.open(d.dir, want)
	case keys.Accept:
		if d.loading || d.sel >= len(d.entries) {
			return d, nil
		}
		e := d.entries[d.sel]
		path := filepath.Join(d.dir, e.name)
		switch {
		case e.dir:
			return d, d.open(path, "")
		case !e.regular:
			d.err = e.label + " is not a regular file (a device, pipe or socket cannot be sent)"
			return d, nil
		}
		return nil, d.send(path)
	case keys.Cancel:
		return nil, nil
	}
	return d, nil
}

func (d *filesDialog) View(th *render.Theme, width, height int) string {
	s := &th.Styles
	inner := width - 4
	rows := max(1, height-4) // frame, the hint and the status line aside
	top := max(0, d.sel-rows+1)
	var body []string
	sizeW := 10
	for i := top; i < len(d.entries) && i < top+rows; i++ {
		e := d.entries[i]
		st, mark := s.PickerItem, "  "
		if i == d.sel {
			st, mark = s.PickerSelected, "› "
		}
		name, size := e.label, ""
		switch {
		case e.dir:
			name += "/"
		case e.regular:
			size = render.HumanSize(uint64(max(0, e.size)))
		default:
			size = "special"
		}
		if e.link != "" {
			name += " → " + e.link
		}
		nameW := max(1, inner-2-sizeW-1) // the mark is 2 cells
		line := mark + padLine(render.TruncateLine(name, nameW), nameW) + " " + fmt.Sprintf("%*s", sizeW, size)
		if e.dir && i != d.sel {
			st = s.Accent
		}
		body = append(body, st.Render(padLine(line, inner)))
	}
	var status string
	switch {
	case d.err != "":
		status = s.Error.Render(render.TruncateLine(d.err, inner))
	case d.loading:
		status = s.Muted.Render("reading…")
	case len(d.entries) == 0:
		status = s.Muted.Render("no files here")
		if !d.hidden {
			status = s.Muted.Render(render.TruncateLine("no files here (hidden ones not shown)", inner))
		}
	default:
		n := fmt.Sprintf("%d of %d", d.sel+1, len(d.entries))
		if d.more > 0 {
			n += fmt.Sprintf(" (%d more not listed)", d.more)
		}
		if d.hidden {
			n += " · hidden files shown"
		}
		status = s.Muted.Render(render.TruncateLine(n, inner))
	}
	body = append(body, status)
	hint := keyHint(d.km, keys.Files, keys.Accept) + " open/send · " +
		keyHint(d.km, keys.Files, keys.ParentDir) + " up · " +
		keyHint(d.km, keys.Files, keys.ToggleHidden) + " hidden · " +
		keyHint(d.km, keys.Files, keys.Cancel) + " close"
	body = append(body, s.Muted.Render(render.TruncateLine(hint, inner)))
	title := "Send a file: " + d.short(cmp.Or(d.dir, "…"))
	return box(th, width, title, body)
}
