package ui

import (
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"mimichat/proto"
	"mimichat/relay"
	"mimichat/session"
)

const testDomain = "test.example"

// testRelay is a real relay on 127.0.0.1:0 in a temp dir.
type testRelay struct {
	t   testing.TB
	srv *relay.Server
}

func startRelay(t testing.TB) *testRelay {
	t.Helper()
	srv, err := relay.Start(relay.Config{Listen: "127.0.0.1:0", Data: t.TempDir(), Domain: testDomain,
		RatePerSec: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &testRelay{t: t, srv: srv}
}

// session opens (and starts) a session for a new user name.
func (r *testRelay) session(name string) *session.Session {
	r.t.Helper()
	u, tok, err := r.srv.Store().AddUser(testDomain, name)
	if err != nil {
		r.t.Fatal(err)
	}
	s, err := session.Open(session.Options{Relay: "ws://" + r.srv.Addr() + "/v1", User: u.URI, Token: tok,
		DataDir: r.t.TempDir(), Backoff: session.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		RoomsPoll: 200 * time.Millisecond})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { s.Close() })
	s.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitOnline(ctx); err != nil {
		r.t.Fatal(err)
	}
	return s
}

// screen holds the newest frame the model rendered.
type screen struct {
	mu    sync.Mutex
	frame string
	n     int
	ch    chan struct{}
}

func newScreen() *screen { return &screen{ch: make(chan struct{}, 1)} }

func (s *screen) set(f string) {
	s.mu.Lock()
	s.frame = f
	s.n++
	s.mu.Unlock()
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

// text is the newest frame without colours.
func (s *screen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ansi.Strip(s.frame)
}

// raw is the newest frame with its colours (the drawn cursor is one).
func (s *screen) raw() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frame
}

// waitRaw waits until cond holds for the frame with its colours.
func (s *screen) waitRaw(t testing.TB, what string, cond func(string) bool) string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		f := s.raw()
		if cond(f) {
			return f
		}
		select {
		case <-s.ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; screen:\n%s", what, ansi.Strip(f))
		}
	}
}

// waitFor waits until cond holds for the frame text.
func (s *screen) waitFor(t testing.TB, what string, cond func(string) bool) string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		txt := s.text()
		if cond(txt) {
			return txt
		}
		select {
		case <-s.ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; screen:\n%s", what, txt)
		}
	}
}

func (s *screen) waitText(t testing.TB, subs ...string) string {
	t.Helper()
	return s.waitFor(t, strings.Join(subs, " & "), func(txt string) bool {
		for _, sub := range subs {
			if !strings.Contains(txt, sub) {
				return false
			}
		}
		return true
	})
}

// waitMember waits until the member pane lists name (with its presence
// mark): the room's members load after its timeline, and a command naming
// a member typed before that finds nobody.
func (s *screen) waitMember(t testing.TB, name string) string {
	t.Helper()
	re := regexp.MustCompile(`│[^ │] ` + regexp.QuoteMeta(name) + `\b`)
	return s.waitFor(t, "member "+name, re.MatchString)
}

// settle waits until the frame stops changing for d.
func (s *screen) settle(d time.Duration) string {
	last, since := s.text(), time.Now()
	for time.Since(since) < d {
		time.Sleep(20 * time.Millisecond)
		if txt := s.text(); txt != last {
			last, since = txt, time.Now()
		}
	}
	return last
}

// startUI runs the real model on sess in a teatest program.
func startUI(t *testing.T, sess *session.Session, w, h int, opt Options) (*teatest.TestModel, *Model, *screen) {
	t.Helper()
	scr := newScreen()
	opt.Session = sess
	opt.OnFrame = scr.set
	if opt.Theme == "" {
		opt.Theme = "dark"
	}
	if opt.Notify == "" {
		opt.Notify = "off"
	}
	m, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	t.Cleanup(func() { tm.Quit() })
	return tm, m, scr
}

// key sends one key press as Bubble Tea would parse it.
func key(tm *teatest.TestModel, k string) {
	tm.Send(keyMsg(k))
}

// namedKeys are the keys keyMsg knows by name.
var namedKeys = map[string]tea.KeyPressMsg{
	"enter": {Code: tea.KeyEnter}, "esc": {Code: tea.KeyEscape}, "tab": {Code: tea.KeyTab},
	"up": {Code: tea.KeyUp}, "down": {Code: tea.KeyDown}, "left": {Code: tea.KeyLeft}, "right": {Code: tea.KeyRight},
	"home": {Code: tea.KeyHome}, "end": {Code: tea.KeyEnd}, "pgup": {Code: tea.KeyPgUp}, "pgdown": {Code: tea.KeyPgDown},
	"backspace": {Code: tea.KeyBackspace}, "delete": {Code: tea.KeyDelete}, "space": {Code: tea.KeySpace, Text: " "},
}

func keyMsg(k string) tea.KeyPressMsg {
	if m, ok := namedKeys[k]; ok {
		return m
	}
	// f1..f12: before, "f1" was the letter f with the text "f1".
	if n, err := strconv.Atoi(strings.TrimPrefix(k, "f")); err == nil && strings.HasPrefix(k, "f") && n >= 1 && n <= 12 {
		return tea.KeyPressMsg{Code: tea.KeyF1 + rune(n-1)}
	}
	if c, ok := strings.CutPrefix(k, "ctrl+"); ok && len(c) == 1 {
		return tea.KeyPressMsg{Code: rune(c[0]), Mod: tea.ModCtrl}
	}
	if c, ok := strings.CutPrefix(k, "alt+"); ok && len(c) == 1 {
		return tea.KeyPressMsg{Code: rune(c[0]), Mod: tea.ModAlt}
	}
	r := []rune(k)
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

var clock = regexp.MustCompile(`\b\d\d:\d\d\b`)

// normalize makes a frame comparable across runs: clock times and presence
// (signals race the first frames) are masked.
func normalize(s string) string {
	s = clock.ReplaceAllString(s, "HH:MM")
	s = strings.NewReplacer("●", "•", "○", "•", "◐", "•").Replace(s)
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		b.WriteString(strings.TrimRight(l, " ") + "\n")
	}
	return b.String()
}

func keyMsgMod(r rune) tea.KeyPressMsg { return tea.KeyPressMsg{Code: r, Mod: tea.ModAlt} }

// openRoom has owner create an open room SLUG named name and the members
// join it; it returns the room's URI.
func openRoom(t *testing.T, owner *session.Session, slug, name string, members ...*session.Session) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	room := "mimi://" + testDomain + "/r/" + slug
	if _, err := owner.CreateRoom(ctx, session.CreateRoomOptions{Slug: slug, Name: name, Join: proto.JoinOpen}); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if _, err := m.Join(ctx, room); err != nil {
			t.Fatal(err)
		}
	}
	return room
}
