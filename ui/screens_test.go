package ui

import (
	"context"
	"mimichat/internal/golden"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"mimichat/demo"
	"mimichat/session"
)

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got)
}

// startDemo runs the demo's relay and peers (history only, no live script)
// and the user's session, joined to every room.
func startDemo(t *testing.T) (*demo.Demo, *session.Session) {
	t.Helper()
	passMidnight(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := demo.Start(ctx, demo.Options{Dir: t.TempDir(), NoScript: true, Pace: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	s, err := session.Open(d.User)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Start()
	if err := s.WaitOnline(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Join(ctx, s); err != nil {
		t.Fatal(err)
	}
	return d, s
}

// passMidnight waits for midnight when it is less than four minutes away:
// the demo's history is sent at the wall clock's time, and a test that
// sends it before midnight and draws it after would see "Yesterday" where
// the goldens say "Today".
func passMidnight(t *testing.T) {
	now := time.Now()
	y, mo, d := now.Date()
	midnight := time.Date(y, mo, d+1, 0, 0, 1, 0, now.Location())
	if left := midnight.Sub(now); left < 4*time.Minute {
		t.Logf("waiting %v for midnight to pass", left.Round(time.Second))
		time.Sleep(left)
	}
}

// TestScreensGolden: the main screens of the demo at 160x48 and 80x24:
// each room, selection mode, the help overlay, the react picker and the
// thread pane. Every line fits the width.
func TestScreensGolden(t *testing.T) {
	for _, size := range []struct{ w, h int }{{160, 48}, {80, 24}} {
		t.Run(fmtSize(size.w, size.h), func(t *testing.T) {
			d, s := startDemo(t)
			tm, _, scr := startUI(t, s, size.w, size.h, Options{Room: d.Rooms[0], Names: d.Names, Languages: []string{"en"}})
			shot := goldenShot(t, scr, size.w, size.h, "")
			shot("general", "Type / for commands", "You joined")
			key(tm, "alt+s")
			shot("select", "▌")
			tm.Type("+")
			shot("react-picker", "React (type to search)")
			key(tm, "esc")
			tm.Type("?")
			shot("help", "Keys and commands")
			key(tm, "esc")
			key(tm, "esc")
			tm.Send(keyMsg("ctrl+k"))
			shot("room-picker", "Go to room")
			tm.Type("des")
			key(tm, "enter")
			shot("design", "Design sync", "96×64 png") // the demo's image, in half blocks
			key(tm, "alt+s")
			for i := 0; i < 20; i++ {
				key(tm, "up")
			}
			tm.Type("t")
			shot("thread", "🧵 Thread", "rounder corners")
		})
	}
}

// goldenShot returns a function that waits for the given texts, lets the
// screen settle, checks every line fits w×h and compares the screen with
// the golden file WxH-PREFIXNAME.
func goldenShot(t *testing.T, scr *screen, w, h int, prefix string) func(name string, waitFor ...string) {
	return func(name string, waitFor ...string) {
		t.Helper()
		scr.waitText(t, waitFor...)
		txt := scr.settle(300 * time.Millisecond)
		for i, l := range strings.Split(txt, "\n") {
			if lw := ansi.StringWidth(l); lw > w {
				t.Errorf("%s line %d is %d wide", name, i, lw)
			}
		}
		if n := strings.Count(txt, "\n") + 1; n != h {
			t.Errorf("%s has %d lines, want %d", name, n, h)
		}
		checkGolden(t, fmtSize(w, h)+"-"+prefix+name, normalize(txt))
	}
}

func fmtSize(w, h int) string { return itoa(w) + "x" + itoa(h) }

// TestScreensCompactGolden: the compact layout (IRC-style, one line per
// message) on the demo's rooms at 160x48 and 80x24, with selection, the
// inline image and the thread pane. Every line fits the width.
func TestScreensCompactGolden(t *testing.T) {
	for _, size := range []struct{ w, h int }{{160, 48}, {80, 24}} {
		t.Run(fmtSize(size.w, size.h), func(t *testing.T) {
			d, s := startDemo(t)
			tm, _, scr := startUI(t, s, size.w, size.h, Options{Room: d.Rooms[0], Names: d.Names, Languages: []string{"en"}, Layout: "compact"})
			shot := goldenShot(t, scr, size.w, size.h, "compact-")
			shot("general", "Hey @You", "You joined")
			key(tm, "alt+s")
			shot("select", "▌")
			key(tm, "esc")
			tm.Send(keyMsg("ctrl+k"))
			scr.waitText(t, "Go to room")
			tm.Type("des")
			key(tm, "enter")
			shot("design", "Design sync", "96×64 png")
			key(tm, "alt+s")
			for i := 0; i < 20; i++ {
				key(tm, "up")
			}
			tm.Type("t")
			shot("thread", "🧵 Thread", "rounder corners")
		})
	}
}
