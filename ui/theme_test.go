package ui

import (
	"image/color"
	"testing"

	tea "charm.land/bubbletea/v2"

	"mimichat/session"
)

// TestThemeFollowsTerminalBackground: "auto" picks light or dark from the
// terminal's reported background; a forced theme ignores it.
func TestThemeFollowsTerminalBackground(t *testing.T) {
	s, err := session.Open(session.Options{Relay: "ws://127.0.0.1:1/v1", User: "mimi://x.example/u/me", Token: "x", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		mode string
		bg   color.Color
		want string
	}{
		{"auto", color.White, "light"},
		{"auto", color.Black, "dark"},
		{"dark", color.White, "dark"},
		{"light", color.Black, "light"},
	} {
		m, err := New(Options{Session: s, Theme: tc.mode, NoTick: true})
		if err != nil {
			t.Fatal(err)
		}
		m.Update(tea.BackgroundColorMsg{Color: tc.bg})
		if m.th.Name != tc.want {
			t.Errorf("theme %q on %v: got %s, want %s", tc.mode, tc.bg, m.th.Name, tc.want)
		}
	}
}
