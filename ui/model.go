package ui

import (
	"context"
	"fmt"
	"net/http"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/content"
	"mimichat/keys"
	"mimichat/render"
	"mimichat/session"
)

// Options configure the client.
type Options struct {
	Session *session.Session
	Keymap  *keys.Keymap // nil: the default preset
	// Theme is "auto" (from the terminal background), "light" or "dark";
	// Colours override palette slots by name.
	Theme   string
	Colours map[string]string
	// Languages are the user's preferred languages for chooseOne parts.
	Languages []string
	// Names maps user URIs to display names; others show the URI's last
	// path segment.
	Names map[string]string
	// Notify: "bell", "desktop" (bell and OSC 9/777) or "off".
	Notify string
	// Highlight words count as mentions ([notify] highlight; ui/notify_level.go).
	Highlight []string
	// NoReadReceipts stops read receipts (delivery receipts still go).
	NoReadReceipts bool
	// History is how many cached entries per room are loaded at start.
	History int
	// DownloadDir is where saved attachments go (default: the temp dir).
	DownloadDir string
	// Upload stores an encrypted attachment and returns its URL; nil means
	// /attach is not available (no file store configured).
	Upload func(ctx context.Context, filename string, ciphertext []byte) (string, error)
	// HTTP fetches attachments (default: http.DefaultClient).
	HTTP *http.Client
	// Room is the room shown first (a URI); "" means the first listed.
	Room string
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// OnFrame, when set, gets every rendered frame (tests and recordings).
	OnFrame func(frame string)
	// NoTick disables the one-second clock (golden tests drive time).
	NoTick bool
	// Remote says the user is not at this machine (the SSH booth): commands
	// that run a program or touch a file of the host (editor, open, save,
	// /attach) are refused.
	Remote bool
	// Images is how image attachments are shown inline: "auto" (the
	// default: asks the terminal), "kitty", "sixel", "blocks" or "off";
	// ImageCols × ImageRows bound a thumbnail (default 40 × 12 cells).
	Images               string
	ImageCols, ImageRows int
	// NoHyperlinks stops URLs in messages being OSC 8 hyperlinks
	// ([ui] hyperlinks = false); Opener is the program that opens a link
	// ("": the system's, open or xdg-open).
	NoHyperlinks bool
	Opener       string
	// Layout is "cozy" (the default: grouped headers) or "compact" (one
	// line per message, IRC-style); /layout changes it. GroupGap is how
	// long a sender's messages stay grouped (0: 5 minutes, < 0: never).
	Layout   string
	GroupGap time.Duration
	// Width and Height are the terminal's size when the caller knows it at
	// start (0: unknown). New then composes the first frame, so the
	// program draws it at once and at the right size, not a default-sized
	// one for whichever message comes before the size (docs/ui.md, first
	// frame from process start).
	Width, Height int
}

// Model is the root model.
type Model struct {
	opt Options
	s   *session.Session
	me  string
	km  *keys.Keymap
	th  *render.Theme
	// attachDir is the directory the last file sent came from: the /attach
	// picker starts there (ui/dialog_files.go).
	attachDir string
	// people names mentions in message bodies (the user and opt.Names).
	people *render.People
	dark   bool
	cache  *render.Cache

	w, h                   int
	rooms                  []*room
	byID                   map[string]*room
	cur                    int
	focus                  keys.Context
	conn                   session.Status
	comp                   composer
	ov                     dialog // help, pickers, versions, receipts, confirm; nil when none is open
	mouse                  bool
	hideMembers, hideRooms bool

	flashUntil time.Time // knock flash
	banner     string    // knock banner text
	bannerTill time.Time
	notice     string // transient status message
	noticeTill time.Time
	noticeBad  bool           // the notice is a refusal or failure: shown as an error
	joining    string         // a room /join asked for: switched to once it is listed
	blurred    bool           // the terminal lost focus: nothing is being seen
	usage      map[string]int // emoji the user sent, for the picker's first row

	// the last frame Update composed, its layout (for mouse hits) and the
	// timeline pane it reuses while nothing the pane shows changes
	frame string
	lay   layout
	pane  paneCache
	// order is each room's place in the list (kept in the cache)
	order roomOrder
	// typingSent is when a typing signal was last sent, per room
	typingSent map[string]time.Time
	img        imageStore // inline images (ui/image.go)
	// layout draws the rows (cozy or compact); groupGap is Options.GroupGap
	layout   render.Layout
	groupGap time.Duration
	fc       frameCache // the help line and the empty composer (ui/framecache.go)
	// levels are the rooms' notification levels; hl matches highlight
	// words (ui/notify_level.go)
	levels    map[string]notifyLevel
	levelSave *metaSaver
	hl        func([]byte) bool
	// declined are the rooms whose invitation the user declined (true once
	// the relay's room list confirmed it), kept in the cache (ui/invitations.go)
	declined      map[string]bool
	declinedDirty bool
	declinedSave  *metaSaver
	// orderSave saves order; readAsked is each room's newest read position
	// asked to be saved this run (SaveOnExit writes them again)
	orderSave *metaSaver
	readAsked map[string]session.ReadMark
	// profileAt is when the profile of profileRoom was last read (ui/profile.go)
	profileAt   time.Time
	profileRoom string
	// pre is what was rendered ahead of the view (ui/prefetch.go)
	pre prefetchState
	// summaryCmd reads the rooms' unread summaries when New left them to
	// Init (ui/lazyroom.go)
	summaryCmd tea.Cmd
}

// New builds the model from an opened session (it need not be started yet;
// Init starts it). The cached history is loaded here, from disk only.
func New(opt Options) (*Model, error) {
	km := opt.Keymap
	if km == nil {
		var err error
		if km, err = keys.New("default", nil); err != nil {
			return nil, err
		}
	}
	if opt.Remote {
		km = km.Hide(hostOnlyKeys()...)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.History <= 0 {
		opt.History = 200
	}
	if opt.HTTP == nil {
		opt.HTTP = http.DefaultClient
	}
	if opt.Notify == "" {
		opt.Notify = "desktop"
	}
	th, err := render.NewTheme(opt.Theme, true, opt.Colours)
	if err != nil {
		return nil, err
	}
	m := &Model{opt: opt, s: opt.Session, me: opt.Session.User(), km: km, th: th, dark: true,
		cache: render.NewCache(0), byID: map[string]*room{}, focus: keys.Composer, mouse: true,
		usage: map[string]int{}, typingSent: map[string]time.Time{}, img: newImageStore(opt)}
	m.people = &render.People{Me: m.me, Names: opt.Names, Highlight: render.NewHighlighter(opt.Highlight)}
	var ok bool
	if m.layout, ok = render.ParseLayout(opt.Layout); !ok {
		return nil, fmt.Errorf("layout: want cozy or compact, got %q", opt.Layout)
	}
	m.groupGap = opt.GroupGap
	m.levels, m.hl, m.declined = loadLevels(m.s.Store()), highlighter(opt.Highlight), loadDeclined(m.s.Store())
	m.levelSave = newMetaSaver(notifyLevelsKey, "notification levels")
	m.declinedSave = newMetaSaver(declinedKey, "declined invitations")
	m.orderSave, m.readAsked = newMetaSaver(roomOrderKey, "room order"), map[string]session.ReadMark{}
	m.comp = newComposer(th)
	marks, _ := m.s.Store().ReadMarks() // without them every room shows unread
	m.order = loadRoomOrder(m.s.Store())
	infos := m.s.Rooms()
	sortStartRooms(&m.order, infos)
	// With many rooms only the room on screen is loaded now; the others
	// keep a summary until opened (ui/lazyroom.go).
	for _, info := range infos {
		if m.keepDeclined(info) {
			continue
		}
		r := m.addRoom(info)
		r.lazy.loaded = false
		r.low = lowSeq(r, info)
		if mk, ok := marks[info.ID]; ok {
			r.readSeq, r.lineSeq = mk.Seq, mk.Seq
			r.lazy.readAt = mk.At
		}
	}
	for i, r := range m.rooms {
		if r.id == opt.Room {
			m.cur = i
		}
	}
	for _, r := range m.rooms {
		if len(m.rooms) <= eagerRooms || r == m.current() {
			m.loadNow(r)
		}
	}
	m.summaryCmd = m.summarize()
	m.loadOutbox()
	if opt.Width > 0 && opt.Height > 0 {
		m.w, m.h = opt.Width, opt.Height
		m.frame = m.render()
	}
	return m, nil
}

func lowSeq(r *room, info session.Room) uint64 {
	if r.first > 0 {
		return r.first
	}
	return info.Cursor + 1
}

// Init starts the session and the event pump; when New composed the first
// frame, one renderer tick later (ui/startup.go).
func (m *Model) Init() tea.Cmd {
	if m.frame != "" {
		return afterFirstFrame()
	}
	return m.start()
}

// start starts the session, the event pump and the first loads.
func (m *Model) start() tea.Cmd {
	m.s.Start()
	cmds := []tea.Cmd{waitEvents(m.s.Events()), tea.RequestBackgroundColor, m.comp.focus(), m.detectImages()}
	if !m.opt.NoTick {
		cmds = append(cmds, tick())
	}
	for _, r := range m.rooms {
		if r.lazy.loaded { // the others when they load
			cmds = append(cmds, m.fetchMembers(r.id), m.loadProfile(r.id))
		}
	}
	cmds = append(cmds, m.saveRoomOrder(), m.saveDeclined(), m.summaryCmd)
	m.summaryCmd = nil
	return tea.Batch(cmds...)
}

func (m *Model) now() time.Time { return m.opt.Now() }

// current is the room on screen (nil when there is none).
func (m *Model) current() *room {
	if m.cur < 0 || m.cur >= len(m.rooms) {
		return nil
	}
	return m.rooms[m.cur]
}

// name is the display name of a user URI.
func (m *Model) name(uri string) string {
	if n, ok := m.opt.Names[uri]; ok {
		return n
	}
	return shortName(uri)
}

func shortName(uri string) string {
	for i := len(uri) - 1; i >= 0; i-- {
		if uri[i] == '/' {
			if i+1 < len(uri) {
				return uri[i+1:]
			}
			break
		}
	}
	return uri
}

// setNotice shows a transient message in the status line.
func (m *Model) setNotice(s string) {
	m.notice, m.noticeBad = s, false
	m.noticeTill = m.now().Add(5 * time.Second)
}

// setRefusal shows why something was refused or failed, as an error, for
// long enough to read a wrapped reason.
func (m *Model) setRefusal(s string) {
	m.notice, m.noticeBad = s, true
	m.noticeTill = m.now().Add(10 * time.Second)
}

// builder is a content builder for room r.
func (m *Model) builder(r *room) *content.Builder { return m.s.Builder(r.id) }
