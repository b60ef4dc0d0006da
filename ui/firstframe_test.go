package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"mimichat/session"
)

// TestNewComposesFirstFrame: with the terminal's size known at start, New
// composes the first frame at that size, so the program's first draw is
// the room (not a blank screen, nor a default-sized frame for whichever
// message comes before the size); without it, New composes nothing and
// the first Update draws as before.
func TestNewComposesFirstFrame(t *testing.T) {
	for _, tc := range []struct {
		name string
		w, h int
	}{{"160x48", 160, 48}, {"80x24", 80, 24}, {"unknown", 0, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			s := cachedSession(t, 50)
			m, err := New(Options{Session: s, Theme: "dark", NoTick: true, Notify: "off", Width: tc.w, Height: tc.h,
				Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }})
			if err != nil {
				t.Fatal(err)
			}
			first := m.View().Content
			if tc.w == 0 {
				if first != "" {
					t.Fatalf("no size given, yet New composed a frame:\n%s", first)
				}
				return
			}
			lines := strings.Split(first, "\n")
			if len(lines) != tc.h || !strings.Contains(lines[0], "Big room") || !strings.Contains(first, "Message ") {
				t.Fatalf("first frame has %d lines (want %d), the room and its messages:\n%s", len(lines), tc.h, first)
			}
			// The size message that follows draws the same screen.
			m.Update(tea.WindowSizeMsg{Width: tc.w, Height: tc.h})
			if again := m.View().Content; again != first {
				t.Errorf("the frame after the size message differs from New's:\n%s\n---\n%s", first, again)
			}
			// What Init starts waits for the frame to be drawn (startMsg,
			// one renderer tick later): the session is not started yet.
			if m.Init() == nil || s.Status().State != session.Stopped {
				t.Fatalf("Init with a composed frame: session %v, want still stopped", s.Status().State)
			}
			m.Update(startMsg{})
			deadline := time.Now().Add(5 * time.Second)
			for s.Status().State == session.Stopped {
				if time.Now().After(deadline) {
					t.Fatal("startMsg did not start the session")
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}
