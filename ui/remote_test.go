package ui

import (
	"strings"
	"testing"
)

// TestRemoteHidesHostKeys: a booth visitor's help (the line and f1) does
// not offer the keys that would run a program or touch a file of the
// booth's machine, which a local user's does; pressed anyway, the key
// says why it does nothing.
func TestRemoteHidesHostKeys(t *testing.T) {
	for _, remote := range []bool{false, true} {
		d, s := startDemo(t)
		tm, _, scr := startUI(t, s, 160, 48, Options{Room: d.Rooms[0], Names: d.Names, Remote: remote})
		line := lastLine(scr.waitText(t, "f1"))
		if got := strings.Contains(line, "$EDITOR"); got == remote {
			t.Errorf("remote=%v: help line %q", remote, line)
		}
		key(tm, "f1")
		full := scr.waitText(t, "esc")
		for _, host := range []string{"$EDITOR"} {
			if got := strings.Contains(full, host); got == remote {
				t.Errorf("remote=%v: f1 lists %q: %v", remote, host, got)
			}
		}
		key(tm, "esc")
		if remote {
			key(tm, "alt+e")
			scr.waitText(t, "is not available here")
		}
	}
}

func lastLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n "), "\n")
	return lines[len(lines)-1]
}
