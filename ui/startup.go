package ui

import (
	"time"

	tea "charm.land/bubbletea/v2"
)

// The first frame from process start (docs/ui.md): when the terminal's size
// is known, New composes the first frame and Bubble Tea draws it at its
// renderer's first tick. What Init starts (connecting to the relay, the
// member list, profiles, unread summaries, the terminal queries) does not
// show on that frame, and on a loaded two-core machine it took about 25 ms
// of CPU before the frame reached the terminal, so it starts one renderer
// tick later.

// firstFrameGrace is a little more than one tick of the renderer (60 fps).
const firstFrameGrace = 20 * time.Millisecond

// startMsg starts what Init would have (Model.start).
type startMsg struct{}

func afterFirstFrame() tea.Cmd {
	return tea.Tick(firstFrameGrace, func(time.Time) tea.Msg { return startMsg{} })
}
