package ui

import (
	"image/color"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestFrameCacheDrawsWhatItCaches: after every step that changes what the
// help line or the empty composer show (width, height, theme, focus, an
// open dialog, text typed and removed), the frame drawn with the cache is
// the frame drawn without it. A key that misses one of these would show a
// stale help line or placeholder.
func TestFrameCacheDrawsWhatItCaches(t *testing.T) {
	s := cachedRoom(t, 50, true)
	m, err := New(Options{Session: s, Theme: "auto", History: 50, NoTick: true, Notify: "off"})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		msg  tea.Msg
	}{
		{"160x48", tea.WindowSizeMsg{Width: 160, Height: 48}},
		{"dark", tea.BackgroundColorMsg{Color: color.Black}},
		{"80x24", tea.WindowSizeMsg{Width: 80, Height: 24}},
		{"light", tea.BackgroundColorMsg{Color: color.White}},
		{"tab", keyMsg("tab")},
		{"tab again", keyMsg("tab")},
		{"100x30", tea.WindowSizeMsg{Width: 100, Height: 30}},
		{"help", keyMsg("?")},
		{"esc", keyMsg("esc")},
		{"type", keyMsg("h")},
		{"backspace", tea.KeyPressMsg{Code: tea.KeyBackspace}},
		{"switcher", keyMsg("ctrl+k")},
		{"esc switcher", keyMsg("esc")},
		{"select", keyMsg("alt+s")},
		{"esc select", keyMsg("esc")},
		{"dark again", tea.BackgroundColorMsg{Color: color.Black}},
		{"160x48 again", tea.WindowSizeMsg{Width: 160, Height: 48}},
	}
	for _, st := range steps {
		m.Update(st.msg)
		cached := m.render()
		m.fc.off = true
		fresh := m.render()
		m.fc.off = false
		if cached != fresh {
			t.Fatalf("after %s the cached frame differs from a fresh one:\ncached:\n%s\nfresh:\n%s", st.name, cached, fresh)
		}
	}
}
